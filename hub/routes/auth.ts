import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { withAccount } from '../../storage/session.js';
import { getUser } from '../../storage/repositories/users.js';
import { listApiKeys, revokeApiKey, revokeRefreshToken } from '../../storage/repositories/credentials.js';
import { audit } from '../../storage/repositories/audit.js';
import { notFound } from '../errors.js';
import { clientAddress } from '../plugins/rate-limit.js';
import { IdParams, Nullable, User } from '../schemas.js';
import { checkPassword, createApiKey, issueRefreshToken, refreshSession, sha256 } from '../services/auth.js';

const Tokens = Type.Object({
  accessToken: Type.String(),
  refreshToken: Type.String(),
  expiresIn: Type.Integer({ description: 'seconds until the access token expires' }),
  user: User,
});

const ApiKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  role: Type.String(),
  createdAt: Type.Any(),
  lastUsedAt: Nullable(Type.Any()),
  revokedAt: Nullable(Type.Any()),
});

/** Agent sessions (login, rotating refresh, logout) and API keys. */
const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, config } = app.hub;
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
      }),
      response: { 200: Tokens },
    },
  }, async (req) => {
    const login = await checkPassword(db, req.body.email, req.body.password, req.body.account);
    return tokensFor(login.accountId, login.id);
  });

  app.post('/auth/refresh', {
    config: loginLimit,
    schema: { tags: ['auth'], security: [], body: Type.Object({ refreshToken: Type.String({ minLength: 1, maxLength: 200 }) }), response: { 200: Tokens } },
  }, async (req) => {
    const spent = await refreshSession(db, req.body.refreshToken, { secretKey: config.secretKey, ttlSeconds: config.refreshTokenTtlSeconds, graceSeconds: config.refreshReuseGraceSeconds });
    return tokensFor(spent.accountId, spent.userId, spent.refreshToken);
  });

  app.post('/auth/logout', {
    schema: { tags: ['auth'], security: [], body: Type.Object({ refreshToken: Type.String({ minLength: 1, maxLength: 200 }) }), response: { 204: Type.Null() } },
  }, async (req, reply) => {
    await revokeRefreshToken(db, sha256(req.body.refreshToken));
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
