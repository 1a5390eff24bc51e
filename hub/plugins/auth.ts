import fp from 'fastify-plugin';
import jwt from '@fastify/jwt';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JWT } from '@fastify/jwt';
import { deriveKey } from '../../storage/secret-box.js';
import type { Role } from '../../storage/repositories/users.js';
import { HubError, forbidden, unauthorized } from '../errors.js';
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
    /**
     * Who the request's header credential verifiably names (`user:<id>`, `api_key:<id>`), or undefined for
     * none or a bad one; the rate limiter keys by it. Verified once per request: `authorize` reuses the result.
     */
    callerOf(req: FastifyRequest): Promise<string | undefined>;
  }
}

export interface AuthorizeOptions {
  /** EventSource cannot send headers: take the token from `?access_token=`. */
  allowQueryToken?: boolean;
  /** Also accept a short-lived embed token (the Lit agent components); only the routes they call opt in. */
  allowEmbed?: boolean;
}

type Verified = { kind: 'api_key'; principal: Principal } | { kind: 'token'; claims: AccessClaims };

/** The credential in the request's headers: `Authorization: Bearer …` or `x-api-key`. */
const headerCredential = (req: FastifyRequest): string | undefined => {
  const header = req.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7).trim() : (req.headers['x-api-key'] as string | undefined);
};

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

    // One verification per request and token: the rate limiter (onRequest, first) and authorize share it.
    const verified = new WeakMap<FastifyRequest, { token: string; result: Promise<Verified> }>();
    const verify = (req: FastifyRequest, token: string): Promise<Verified> => {
      const known = verified.get(req);
      if (known?.token === token) return known.result;
      const result = verifyCredential(app.jwt, db, token);
      result.catch(() => {}); // whoever awaits it sees the error; an unawaited one is not unhandled
      verified.set(req, { token, result });
      return result;
    };

    app.decorate('callerOf', async (req: FastifyRequest) => {
      // The query token counts too (the event stream's), but never as an API key: authorize refuses those there.
      const query = (req.query as Record<string, string | undefined> | undefined)?.access_token;
      const token = headerCredential(req) ?? (query?.startsWith('hd_') ? undefined : query);
      if (!token) return undefined;
      try {
        const v = await verify(req, token);
        return v.kind === 'api_key' ? `api_key:${v.principal.apiKeyId}` : `user:${v.claims.sub}`;
      } catch (err) {
        if (err instanceof HubError && err.statusCode === 401) return undefined;
        throw err;
      }
    });

    app.decorate('authorize', (min: Role, opts: AuthorizeOptions = {}) => async (req: FastifyRequest) => {
      let token = headerCredential(req);
      // EventSource cannot send headers, so the realtime stream may take a short-lived token in the query,
      // never an API key: URLs end up in proxy logs, browser history and Referer headers.
      if (!token && opts.allowQueryToken) {
        token = (req.query as Record<string, string | undefined>)?.access_token;
        if (token?.startsWith('hd_')) throw unauthorized('API keys are not accepted in URLs; send it in the Authorization header, or use a short-lived access or embed token', 'api_key_in_url');
      }
      if (!token) throw unauthorized();
      const v = await verify(req, token);
      let principal: Principal;
      if (v.kind === 'api_key') {
        principal = v.principal;
      } else {
        const { claims } = v;
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

/** Checks a credential's signature or hash, not yet the user's current membership or role. */
async function verifyCredential(jwt: JWT, db: Parameters<typeof authenticateApiKey>[0], token: string): Promise<Verified> {
  if (token.startsWith('hd_')) return { kind: 'api_key', principal: await authenticateApiKey(db, token) };
  try {
    return { kind: 'token', claims: jwt.verify<AccessClaims>(token) };
  } catch {
    throw unauthorized('access token is invalid or expired', 'invalid_token');
  }
}
