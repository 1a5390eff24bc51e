import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import { Type } from 'typebox';
import { withAccount } from '../../storage/session.js';
import { getUser } from '../../storage/repositories/users.js';
import { listApiKeys, revokeApiKey, revokeRefreshToken } from '../../storage/repositories/credentials.js';
import { audit } from '../../storage/repositories/audit.js';
import { badRequest, notFound, unauthorized } from '../errors.js';
import { clientAddress } from '../plugins/rate-limit.js';
import { IdParams, Nullable, User } from '../schemas.js';
import { checkPassword, createApiKey, issueRefreshToken, refreshSession, sha256 } from '../services/auth.js';
import { createFirstAccount, setupState } from '../services/setup.js';
import { errorResponse } from '../plugins/error-responses.js';

const Tokens = Type.Object({
  accessToken: Type.String(),
  refreshToken: Type.Optional(Type.String({ description: 'absent for a cookie session: the token is then only in the httpOnly cookie' })),
  expiresIn: Type.Integer({ description: 'seconds until the access token expires' }),
  user: User,
});

const SessionChoice = Type.Optional(Type.Union([Type.Literal('token'), Type.Literal('cookie')], {
  description: '`cookie`: the refresh token goes into an httpOnly cookie (the hub\'s own page), not the body',
}));

const ApiKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  role: Type.String(),
  createdAt: Type.Any(),
  lastUsedAt: Nullable(Type.Any()),
  revokedAt: Nullable(Type.Any()),
});

/** The hub's own page keeps its refresh token here, out of reach of any script (httpOnly), sent only to /auth. */
export const SESSION_COOKIE = 'hd_session';
const COOKIE_PATH = '/api/v1/auth';
/**
 * A cookie session is used only with this header: a page on another origin cannot send it without a
 * preflight the API refuses, so a cross-site request can neither refresh nor end the session.
 */
export const SESSION_HEADER = 'x-hummdesk-session';

const RefreshBody = Type.Object({
  refreshToken: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'omit for a cookie session (with the `X-HummDesk-Session: cookie` header)' })),
});

/** Agent sessions (login, rotating refresh, logout) and API keys. */
const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, config } = app.hub;
  await app.register(cookie);
  const secureCookie = config.publicUrl.startsWith('https:');

  const setSessionCookie = (reply: FastifyReply, token: string) =>
    reply.setCookie(SESSION_COOKIE, token, {
      path: COOKIE_PATH, httpOnly: true, sameSite: 'strict', secure: secureCookie, maxAge: config.refreshTokenTtlSeconds,
    });
  const clearSessionCookie = (reply: FastifyReply) =>
    reply.clearCookie(SESSION_COOKIE, { path: COOKIE_PATH, httpOnly: true, sameSite: 'strict', secure: secureCookie });

  /** The refresh token of a request: its body's, else (with the session header) its cookie's. */
  const presentedToken = (req: FastifyRequest, body: { refreshToken?: string } | undefined): { token: string; cookie: boolean } => {
    if (body?.refreshToken) return { token: body.refreshToken, cookie: false };
    const fromCookie = req.cookies[SESSION_COOKIE];
    if (req.headers[SESSION_HEADER] !== 'cookie') throw badRequest('refresh_token_required', 'send refreshToken, or the X-HummDesk-Session: cookie header for a cookie session');
    if (!fromCookie) throw unauthorized('no session: sign in again', 'session_missing');
    return { token: fromCookie, cookie: true };
  };
  // Password guessing is slowed per address, well below the general limit.
  const loginLimit = { rateLimit: { max: 10, timeWindow: 60_000, keyGenerator: (req: FastifyRequest) => `login:${clientAddress(req)}` } };

  const tokensFor = async (accountId: string, userId: string, refreshToken?: string) => {
    const user = await withAccount(db, accountId, (tx) => getUser(tx, userId));
    if (!user) throw notFound('user');
    return {
      accessToken: app.signAccessToken({ userId, accountId, role: user.role }),
      refreshToken: refreshToken ?? (await issueRefreshToken(db, accountId, userId, config.refreshTokenTtlSeconds)),
      expiresIn: config.accessTokenTtlSeconds,
      user,
    };
  };

  app.post('/auth/login', {
    config: loginLimit,
    schema: {
      tags: ['auth'],
      security: [],
      description: 'An email that is a user in several accounts whose password matches more than one answers 409 `account_required` with those accounts (`details.accounts`: slug and name); send the chosen slug as `account`.',
      body: Type.Object({
        email: Type.String({ minLength: 3, maxLength: 320 }),
        password: Type.String({ minLength: 1, maxLength: 1000 }),
        account: Type.Optional(Type.String({ minLength: 1, maxLength: 63, description: 'the account slug, when the email signs in to several' })),
        session: SessionChoice,
      }),
      response: { 200: Tokens },
    },
  }, async (req, reply) => {
    const login = await checkPassword(db, req.body.email, req.body.password, req.body.account);
    const tokens = await tokensFor(login.accountId, login.id);
    if (req.body.session !== 'cookie') return tokens;
    setSessionCookie(reply, tokens.refreshToken);
    return { ...tokens, refreshToken: undefined };
  });

  // First run: a hub with no account lets whoever has its printed setup token create the workspace and be its owner, once.
  app.get('/setup', {
    schema: {
      tags: ['auth'],
      security: [],
      summary: 'Whether this hub still needs its first account (then POST /setup creates it)',
      response: {
        200: Type.Object({
          needed: Type.Boolean({ description: 'no account exists yet' }),
          demo: Type.Boolean({ description: 'the demo account of `npm start` exists; its login is printed in the terminal' }),
        }),
      },
    },
  }, async () => setupState(db));

  app.post('/setup', {
    config: loginLimit,
    schema: {
      tags: ['auth'],
      security: [],
      summary: 'Create the first account (workspace) and its owner, signed in at once; refused with 409 `setup_done` once any account exists',
      description: 'Takes the setup token `hummdesk start` prints in its terminal while no account exists: without it 401 `setup_token_required`, another 403 `setup_token_invalid`.',
      body: Type.Object({
        setupToken: Type.Optional(Type.String({ maxLength: 200, description: 'the setup token `hummdesk start` printed in its terminal' })),
        workspace: Type.String({ minLength: 1, maxLength: 200, description: 'the workspace (account) name' }),
        name: Type.String({ minLength: 1, maxLength: 200, description: "the owner's name" }),
        email: Type.String({ format: 'email', maxLength: 320 }),
        password: Type.String({ maxLength: 1000, description: 'at least 8 characters (400 `password_too_short`)' }),
        session: SessionChoice,
      }, { additionalProperties: false }),
      response: {
        201: Type.Object({ ...Tokens.properties, account: Type.Object({ id: Type.String(), name: Type.String(), slug: Type.String() }) }),
        400: errorResponse(400, ['validation_failed', 'invalid_text', 'malformed_json', 'name_blank', 'password_too_short']),
        401: errorResponse(401, ['setup_token_required']),
        403: errorResponse(403, ['setup_token_invalid']),
        409: errorResponse(409, ['setup_done']),
      },
    },
  }, async (req, reply) => {
    const { workspace, name, email, password, setupToken } = req.body;
    const created = await createFirstAccount(db, config.secretKey, { workspace, name, email, password, setupToken });
    const tokens = await tokensFor(created.accountId, created.userId);
    const account = { id: created.accountId, name: created.name, slug: created.slug };
    if (req.body.session !== 'cookie') return reply.status(201).send({ ...tokens, account });
    setSessionCookie(reply, tokens.refreshToken);
    return reply.status(201).send({ ...tokens, refreshToken: undefined, account });
  });

  app.post('/auth/refresh', {
    config: loginLimit,
    schema: { tags: ['auth'], security: [], body: RefreshBody, response: { 200: Tokens } },
  }, async (req, reply) => {
    const presented = presentedToken(req, req.body);
    let spent;
    try {
      spent = await refreshSession(db, presented.token, { secretKey: config.secretKey, ttlSeconds: config.refreshTokenTtlSeconds, graceSeconds: config.refreshReuseGraceSeconds });
    } catch (err) {
      // A dead cookie is forgotten, so the page shows its sign-in form rather than failing on every load.
      if (presented.cookie) clearSessionCookie(reply);
      throw err;
    }
    const tokens = await tokensFor(spent.accountId, spent.userId, spent.refreshToken);
    if (!presented.cookie) return tokens;
    setSessionCookie(reply, spent.refreshToken);
    return { ...tokens, refreshToken: undefined };
  });

  app.post('/auth/logout', {
    schema: { tags: ['auth'], security: [], body: RefreshBody, response: { 204: Type.Null() } },
  }, async (req, reply) => {
    const presented = presentedToken(req, req.body);
    await revokeRefreshToken(db, sha256(presented.token));
    if (presented.cookie) clearSessionCookie(reply);
    return reply.status(204).send(null);
  });

  app.get('/me', {
    onRequest: app.authorize('viewer'),
    schema: { tags: ['auth'], response: { 200: Type.Object({ accountId: Type.String(), role: Type.String(), user: Nullable(User), apiKeyId: Nullable(Type.String()) }) } },
  }, async (req) => {
    const p = req.principal;
    const user = p.userId ? (await withAccount(db, p.accountId, (tx) => getUser(tx, p.userId!))) ?? null : null;
    return { accountId: p.accountId, role: p.role, user, apiKeyId: p.apiKeyId };
  });

  app.get('/api-keys', {
    onRequest: app.authorize('admin'),
    schema: { tags: ['auth'], response: { 200: Type.Object({ items: Type.Array(ApiKey) }) } },
  }, async (req) => ({ items: await withAccount(db, req.principal.accountId, (tx) => listApiKeys(tx)) }));

  app.post('/api-keys', {
    onRequest: app.authorize('admin'),
    schema: {
      tags: ['auth'],
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), role: Type.Union([Type.Literal('admin'), Type.Literal('agent'), Type.Literal('viewer')], { default: 'agent' }) }),
      response: { 201: Type.Object({ key: Type.String({ description: 'shown once; store it now' }), apiKey: ApiKey }) },
    },
  }, async (req, reply) => {
    const p = req.principal;
    const created = await createApiKey(db, p.accountId, req.body, { kind: p.userId ? 'user' : 'api_key', id: p.userId ?? p.apiKeyId });
    return reply.status(201).send(created);
  });

  app.delete('/api-keys/:id', {
    onRequest: app.authorize('admin'),
    schema: { tags: ['auth'], params: IdParams, response: { 204: Type.Null() } },
  }, async (req, reply) => {
    const p = req.principal;
    await withAccount(db, p.accountId, async (tx) => {
      if (!(await revokeApiKey(tx, req.params.id))) throw notFound('api_key');
      await audit(tx, { accountId: p.accountId, actorKind: p.userId ? 'user' : 'api_key', actorId: p.userId ?? p.apiKeyId, action: 'api_key.revoked', targetKind: 'api_key', targetId: req.params.id });
    });
    app.principals.forgetApiKey(req.params.id);
    return reply.status(204).send(null);
  });
};

export default authRoutes;
