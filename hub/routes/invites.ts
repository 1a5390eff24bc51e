import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { withAccount } from '../../storage/session.js';
import { getUser, updateUser } from '../../storage/repositories/users.js';
import { revokeUserRefreshTokens } from '../../storage/repositories/credentials.js';
import { findInvite, insertInvite, spendInvite } from '../../storage/repositories/invites.js';
import { audit } from '../../storage/repositories/audit.js';
import { HubError, badRequest, forbidden, notFound } from '../errors.js';
import { clientAddress } from '../plugins/rate-limit.js';
import { IdParams } from '../schemas.js';
import { ROLE_RANK, hashPassword, sha256 } from '../services/auth.js';
import { actorOf } from './conversations.js';

/*
 * RBAC                                   viewer  agent  admin  owner   (API keys act as their role)
 * POST   /users/:id/invite                  ✗      ✗      ✓¹     ✓
 * POST   /auth/invite                     public: the one-time token is the credential
 * ¹ only users ranked below the actor, as for any other change to a user.
 */

/** How long an invite link works. */
export const INVITE_TTL_DAYS = 7;

const invites: FastifyPluginAsyncTypebox = async (app) => {
  const { db, config } = app.hub;
  const invalid = () => badRequest('invite_invalid', 'this invite link is not valid or was already used: ask your admin for a new one');

  app.post('/users/:id/invite', {
    onRequest: app.authorize('admin'),
    schema: {
      tags: ['users'],
      summary: 'A one-time link at which the user sets their own password (the hub sends no mail: hand the link over); a new link replaces the last unused one',
      params: IdParams,
      response: { 201: Type.Object({ url: Type.String(), expiresAt: Type.String() }) },
    },
  }, async (req, reply) => {
    const actor = actorOf(req);
    const token = randomBytes(24).toString('base64url');
    const expiresAt = new Date(Date.now() + INVITE_TTL_DAYS * 86_400_000);
    await withAccount(db, actor.accountId, async (tx) => {
      const target = await getUser(tx, req.params.id);
      if (!target) throw notFound('user');
      if (req.principal.role !== 'owner' && ROLE_RANK[target.role] >= ROLE_RANK[req.principal.role]) throw forbidden(`the ${req.principal.role} role may not invite a ${target.role}`);
      await insertInvite(tx, { accountId: actor.accountId, userId: target.id, tokenHash: sha256(token), expiresAt });
      await audit(tx, { accountId: actor.accountId, actorKind: actor.kind, actorId: actor.id, action: 'user.invited', targetKind: 'user', targetId: target.id });
    });
    reply.header('cache-control', 'no-store');
    return reply.status(201).send({ url: `${config.publicUrl}/?invite=${token}`, expiresAt: expiresAt.toISOString() });
  });

  app.post('/auth/invite', {
    config: { rateLimit: { max: 10, timeWindow: 60_000, keyGenerator: (req: FastifyRequest) => `invite:${clientAddress(req)}` } },
    schema: {
      tags: ['auth'],
      security: [],
      summary: 'Accept an invite: set the password with the one-time token from the link, then sign in with it',
      body: Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }), password: Type.String({ maxLength: 1000 }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ email: Type.String() }) },
    },
  }, async (req) => {
    const invite = await findInvite(db, sha256(req.body.token));
    if (!invite || invite.used) throw invalid();
    if (invite.expired) throw new HubError(400, 'invite_expired', 'this invite link has expired: ask your admin for a new one');
    // Before spending the link, so a too-short password leaves it usable.
    const passwordHash = await hashPassword(req.body.password);
    const email = await withAccount(db, invite.accountId, async (tx) => {
      if (!(await spendInvite(tx, invite.id))) throw invalid();
      const user = await updateUser(tx, invite.userId, { passwordHash });
      if (!user) throw invalid();
      await revokeUserRefreshTokens(tx, user.id);
      await audit(tx, { accountId: invite.accountId, actorKind: 'user', actorId: user.id, action: 'user.invite_accepted', targetKind: 'user', targetId: user.id });
      return user.email;
    });
    return { email };
  });
};

export default invites;
