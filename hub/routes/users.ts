import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type TSchema } from 'typebox';
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { withAccount } from '../../storage/session.js';
import { deleteUser, getPasswordHash, getUser, insertUser, listUsers, lockOwners, updateUser, type Role as RoleName } from '../../storage/repositories/users.js';
import { revokeUserRefreshTokens } from '../../storage/repositories/credentials.js';
import { audit } from '../../storage/repositories/audit.js';
import { isUniqueViolation } from '../../storage/unique-violation.js';
import { HubError, conflict, forbidden, notFound } from '../errors.js';
import { IdParams, Role, User } from '../schemas.js';
import { ROLE_RANK, hashPassword } from '../services/auth.js';
import { actorOf } from './conversations.js';

/*
 * RBAC                                   viewer  agent  admin  owner   (API keys act as their role)
 * GET    /users, /users/:id                 ✓      ✓      ✓      ✓
 * POST   /users                             ✗      ✗      ✓¹     ✓
 * PATCH  /users/:id  own name/available     ✓      ✓      ✓      ✓
 * PATCH  /users/:id  own password           ✓      ✓      ✓      ✓     (users only, needs currentPassword)
 * PATCH  /users/:id  other user             ✗      ✗      ✓²     ✓
 * PATCH  /users/:id  role                   ✗      ✗      ✓¹²    ✓³
 * DELETE /users/:id                         ✗      ✗      ✓²     ✓³
 * ¹ grants at most its own rank: an admin creates viewers, agents and admins, never owners.
 * ² only users ranked below the actor (agents, viewers); an admin never manages another admin or an owner.
 * ³ an owner manages everyone, but the account always keeps at least one owner (409 last_owner).
 * Skills, capacity and Slack/Teams linking are admin fields, also on one's own profile.
 * A role change or deletion applies to the user's live access tokens at once (hub/services/principals.ts).
 */

const canGrant = (actor: RoleName, role: RoleName) => (role === 'owner' ? actor === 'owner' : ROLE_RANK[role] <= ROLE_RANK[actor]);
const canManage = (actor: RoleName, target: RoleName) => actor === 'owner' || ROLE_RANK[target] < ROLE_RANK[actor];
const isAdmin = (role: RoleName) => ROLE_RANK[role] >= ROLE_RANK.admin;

// Null first: with type coercion on, a null tried against integer first would become 0.
const NullFirst = <T extends TSchema>(t: T) => Type.Union([Type.Null(), t]);

const PROFILE_FIELDS = ['name', 'available'] as const;
const ADMIN_FIELDS = ['skills', 'maxOpenConversations', 'slackUserId', 'teamsUserId'] as const;

const users: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.hub;
  const lastOwner = () => conflict('last_owner', 'the account must keep at least one owner');

  app.get('/users', {
    // The desk's components show who a conversation is assigned to and offer agents to assign.
    onRequest: app.authorize('viewer', { allowEmbed: true }),
    schema: { tags: ['users'], response: { 200: Type.Object({ items: Type.Array(User) }) } },
  }, async (req) => ({ items: await withAccount(db, req.principal.accountId, (tx) => listUsers(tx)) }));

  app.get('/users/:id', {
    onRequest: app.authorize('viewer'),
    schema: { tags: ['users'], params: IdParams, response: { 200: User } },
  }, async (req) => {
    const user = await withAccount(db, req.principal.accountId, (tx) => getUser(tx, req.params.id));
    if (!user) throw notFound('user');
    return user;
  });

  app.post('/users', {
    onRequest: app.authorize('admin'),
    schema: {
      tags: ['users'],
      body: Type.Object({
        email: Type.String({ format: 'email', maxLength: 320 }),
        name: Type.String({ minLength: 1, maxLength: 200 }),
        role: Role,
        password: Type.Optional(Type.String({ maxLength: 1000, description: 'leave it out to invite the user instead (POST /users/:id/invite): until they set one, nobody can sign in as them' })),
      }, { additionalProperties: false }),
      response: { 201: User },
    },
  }, async (req, reply) => {
    const actor = actorOf(req);
    const { email, name, role, password } = req.body;
    if (!canGrant(req.principal.role, role)) throw forbidden(`the ${req.principal.role} role may not create ${role}s`);
    // No password: a random one nobody knows, until the user sets theirs through an invite link.
    const passwordHash = await hashPassword(password ?? randomBytes(32).toString('hex'));
    try {
      const user = await withAccount(db, actor.accountId, async (tx) => {
        const row = await insertUser(tx, { accountId: actor.accountId, email, name, role, passwordHash });
        await audit(tx, { accountId: actor.accountId, actorKind: actor.kind, actorId: actor.id, action: 'user.created', targetKind: 'user', targetId: row.id, data: { role } });
        return row;
      });
      return reply.status(201).send(user);
    } catch (err) {
      throw isUniqueViolation(err) ? conflict('user_exists', 'a user with this email already exists') : err;
    }
  });

  app.patch('/users/:id', {
    onRequest: app.authorize('viewer'),
    schema: {
      tags: ['users'],
      params: IdParams,
      body: Type.Object({
        name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        available: Type.Optional(Type.Boolean()),
        role: Type.Optional(Role),
        skills: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100 })),
        maxOpenConversations: Type.Optional(NullFirst(Type.Integer({ minimum: 0, maximum: 10_000 }))),
        slackUserId: Type.Optional(NullFirst(Type.String({ minLength: 1, maxLength: 100 }))),
        teamsUserId: Type.Optional(NullFirst(Type.String({ minLength: 1, maxLength: 200 }))),
        password: Type.Optional(Type.String({ maxLength: 1000 })),
        currentPassword: Type.Optional(Type.String({ maxLength: 1000 })),
      }, { additionalProperties: false }),
      response: { 200: User },
    },
  }, async (req) => {
    const actor = actorOf(req);
    const p = req.principal;
    const { password, currentPassword, role, ...fields } = req.body;
    const updated = await withAccount(db, actor.accountId, async (tx) => {
      const target = await getUser(tx, req.params.id);
      if (!target) throw notFound('user');
      const self = p.userId === target.id;
      const manages = isAdmin(p.role) && canManage(p.role, target.role);
      for (const f of PROFILE_FIELDS) if (fields[f] !== undefined && !self && !manages) throw forbidden(`you may not change ${f} of this user`);
      for (const f of ADMIN_FIELDS) if (fields[f] !== undefined && !(isAdmin(p.role) && (self || manages))) throw forbidden(`changing ${f} needs the admin role`);
      let passwordHash: string | undefined;
      if (password !== undefined) {
        if (!self) throw forbidden('only the user may change their own password');
        const stored = await getPasswordHash(tx, target.id);
        if (!stored || !currentPassword || !(await bcrypt.compare(currentPassword, stored)))
          throw new HubError(400, 'current_password_wrong', 'currentPassword is missing or wrong');
        passwordHash = await hashPassword(password);
      }
      if (role !== undefined && role !== target.role) {
        if (!manages || !canGrant(p.role, role)) throw forbidden(`the ${p.role} role may not make this user ${role}`);
        if (target.role === 'owner' && (await lockOwners(tx)) <= 1) throw lastOwner();
      }
      const updated = (await updateUser(tx, target.id, { ...fields, role, passwordHash }))!;
      // A new password signs every other session out.
      if (passwordHash !== undefined) await revokeUserRefreshTokens(tx, target.id);
      const changed = Object.keys(req.body).filter((k) => k !== 'currentPassword');
      await audit(tx, {
        accountId: actor.accountId, actorKind: actor.kind, actorId: actor.id, action: 'user.updated', targetKind: 'user', targetId: target.id,
        data: { fields: changed, ...(role !== undefined && role !== target.role ? { role: { from: target.role, to: role } } : {}) },
      });
      return updated;
    });
    // After the commit, so this process's next request by that user cannot reload the old role.
    app.principals.forget(updated.id);
    return updated;
  });

  app.delete('/users/:id', {
    onRequest: app.authorize('admin'),
    schema: { tags: ['users'], params: IdParams, response: { 204: Type.Null() } },
  }, async (req, reply) => {
    const actor = actorOf(req);
    await withAccount(db, actor.accountId, async (tx) => {
      const target = await getUser(tx, req.params.id);
      if (!target) throw notFound('user');
      if (!canManage(req.principal.role, target.role)) throw forbidden(`the ${req.principal.role} role may not delete a ${target.role}`);
      if (target.role === 'owner' && (await lockOwners(tx)) <= 1) throw lastOwner();
      await deleteUser(tx, target.id);
      await audit(tx, { accountId: actor.accountId, actorKind: actor.kind, actorId: actor.id, action: 'user.deleted', targetKind: 'user', targetId: target.id, data: { email: target.email, role: target.role } });
    });
    // Their refresh tokens went with the row (ON DELETE CASCADE); their access tokens stop here at once.
    app.principals.forget(req.params.id);
    return reply.status(204).send(null);
  });
};

export default users;
