import fp from 'fastify-plugin';
import jwt from '@fastify/jwt';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { deriveKey } from '../../storage/secret-box.js';
import type { Role } from '../../storage/repositories/users.js';
import { forbidden, unauthorized } from '../errors.js';
import { ROLE_RANK, authenticateApiKey, type Principal } from '../services/auth.js';
import { PrincipalCache } from '../services/principals.js';

interface AccessClaims {
  sub: string;
  acc: string;
  role: Role;
  typ: 'access' | 'embed';
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessClaims;
    user: AccessClaims;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyInstance {
    /** onRequest hook: authenticates and requires at least `min` role before the body is read or validated. */
    authorize(min: Role, opts?: AuthorizeOptions): (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
    /** Users' and API keys' current role and account; users routes `forget` a user they change, the api-keys route a key it revokes. */
    principals: PrincipalCache;
    signAccessToken(p: { userId: string; accountId: string; role: Role }, typ?: AccessClaims['typ'], ttlSeconds?: number): string;
  }
}

export interface AuthorizeOptions {
  /** EventSource cannot send headers: take the token from `?access_token=`. */
  allowQueryToken?: boolean;
  /** Also accept a short-lived embed token (the Lit agent components); only the routes they call opt in. */
  allowEmbed?: boolean;
}

/** Bearer JWTs for agents (role checked against the users table), `hd_…` API keys for integrations; one role check for both. */
export default fp(
  async (app) => {
    const { config, db } = app.hub;
    await app.register(jwt, { secret: deriveKey(config.secretKey, 'jwt').toString('hex'), sign: { algorithm: 'HS256' } });

    app.decorateRequest('principal', null as unknown as Principal);
    app.decorate('principals', new PrincipalCache(db, config.userCacheMs));

    app.decorate('signAccessToken', (p: { userId: string; accountId: string; role: Role }, typ: AccessClaims['typ'] = 'access', ttlSeconds = config.accessTokenTtlSeconds) =>
      app.jwt.sign({ sub: p.userId, acc: p.accountId, role: p.role, typ }, { expiresIn: ttlSeconds }),
    );

    app.decorate('authorize', (min: Role, opts: AuthorizeOptions = {}) => async (req: FastifyRequest) => {
      const header = req.headers.authorization;
      let token = header?.startsWith('Bearer ') ? header.slice(7).trim() : (req.headers['x-api-key'] as string | undefined);
      // EventSource cannot send headers, so the realtime stream may take the token in the query.
      if (!token && opts.allowQueryToken) token = (req.query as Record<string, string | undefined>)?.access_token;
      if (!token) throw unauthorized();
      let principal: Principal;
      if (token.startsWith('hd_')) {
        principal = await authenticateApiKey(db, token);
      } else {
        let claims: AccessClaims;
        try {
          claims = app.jwt.verify<AccessClaims>(token);
        } catch {
          throw unauthorized('access token is invalid or expired', 'invalid_token');
        }
        // Only agent access tokens open the API; other token types are for narrower routes.
        if (claims.typ !== 'access' && !(claims.typ === 'embed' && opts.allowEmbed)) throw unauthorized('wrong token type', 'invalid_token');
        // The token's role may be stale: the user's current role and membership decide.
        const user = await app.principals.find(claims.sub);
        if (!user || user.accountId !== claims.acc) throw unauthorized('this user was removed from the account', 'token_revoked');
        principal = { accountId: claims.acc, role: user.role, userId: claims.sub, apiKeyId: null };
      }
      if (ROLE_RANK[principal.role] < ROLE_RANK[min]) throw forbidden(`this needs the ${min} role or higher`);
      req.principal = principal;
    });
  },
  { name: 'auth', dependencies: ['hub'] },
);
