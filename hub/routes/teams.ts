import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { withAccount } from '../../storage/session.js';
import { getUser } from '../../storage/repositories/users.js';
import { addTeamMember, deleteTeam, getTeam, insertTeam, listTeams, removeTeamMember, updateTeam } from '../../storage/repositories/teams.js';
import { audit } from '../../storage/repositories/audit.js';
import { conflict, notFound } from '../errors.js';
import { IdParams, Uuid } from '../schemas.js';
import { actorOf } from './conversations.js';
import { isUniqueViolation } from '../../storage/unique-violation.js';

/*
 * RBAC                                   viewer  agent  admin  owner   (API keys act as their role)
 * GET    /teams, /teams/:id                 ✓      ✓      ✓      ✓
 * POST   /teams                             ✗      ✗      ✓      ✓
 * PATCH  /teams/:id                         ✗      ✗      ✓      ✓
 * DELETE /teams/:id                         ✗      ✗      ✓      ✓
 * PUT    /teams/:id/members/:userId         ✗      ✗      ✓      ✓
 * DELETE /teams/:id/members/:userId         ✗      ✗      ✓      ✓
 */

const Team = Type.Object({
  id: Uuid,
  name: Type.String(),
  settings: Type.Record(Type.String(), Type.Unknown()),
  memberIds: Type.Array(Uuid),
  createdAt: Type.Any(),
});

// Routing settings are defined later; until then any JSON object is kept as given.
const Settings = Type.Record(Type.String(), Type.Unknown(), { description: 'team routing settings (a JSON object)' });
const Name = Type.String({ minLength: 1, maxLength: 100 });
const MemberParams = Type.Object({ id: Uuid, userId: Uuid });

const teams: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.hub;
  const duplicate = () => conflict('team_exists', 'a team with this name already exists');

  app.get('/teams', {
    onRequest: app.authorize('viewer', { allowEmbed: true }),
    schema: { tags: ['teams'], response: { 200: Type.Object({ items: Type.Array(Team) }) } },
  }, async (req) => ({ items: await withAccount(db, req.principal.accountId, (tx) => listTeams(tx)) }));

  app.get('/teams/:id', {
    onRequest: app.authorize('viewer'),
    schema: { tags: ['teams'], params: IdParams, response: { 200: Team } },
  }, async (req) => {
    const team = await withAccount(db, req.principal.accountId, (tx) => getTeam(tx, req.params.id));
    if (!team) throw notFound('team');
    return team;
  });

  app.post('/teams', {
    onRequest: app.authorize('admin'),
    schema: { tags: ['teams'], body: Type.Object({ name: Name, settings: Type.Optional(Settings) }, { additionalProperties: false }), response: { 201: Team } },
  }, async (req, reply) => {
    const actor = actorOf(req);
    try {
      const team = await withAccount(db, actor.accountId, async (tx) => {
        const row = await insertTeam(tx, { accountId: actor.accountId, name: req.body.name, settings: req.body.settings });
        await audit(tx, { accountId: actor.accountId, actorKind: actor.kind, actorId: actor.id, action: 'team.created', targetKind: 'team', targetId: row.id, data: { name: row.name } });
        return row;
      });
      return reply.status(201).send(team);
    } catch (err) {
      throw isUniqueViolation(err) ? duplicate() : err;
    }
  });

  app.patch('/teams/:id', {
    onRequest: app.authorize('admin'),
    schema: {
      tags: ['teams'],
      params: IdParams,
      body: Type.Object({ name: Type.Optional(Name), settings: Type.Optional(Settings) }, { additionalProperties: false }),
      response: { 200: Team },
    },
  }, async (req) => {
    const actor = actorOf(req);
    try {
      return await withAccount(db, actor.accountId, async (tx) => {
        const team = await updateTeam(tx, req.params.id, req.body);
        if (!team) throw notFound('team');
        await audit(tx, { accountId: actor.accountId, actorKind: actor.kind, actorId: actor.id, action: 'team.updated', targetKind: 'team', targetId: team.id, data: { fields: Object.keys(req.body) } });
        return team;
      });
    } catch (err) {
      throw isUniqueViolation(err) ? duplicate() : err;
    }
  });

  app.delete('/teams/:id', {
    onRequest: app.authorize('admin'),
    schema: { tags: ['teams'], params: IdParams, response: { 204: Type.Null() } },
  }, async (req, reply) => {
    const actor = actorOf(req);
    await withAccount(db, actor.accountId, async (tx) => {
      if (!(await deleteTeam(tx, req.params.id))) throw notFound('team');
      await audit(tx, { accountId: actor.accountId, actorKind: actor.kind, actorId: actor.id, action: 'team.deleted', targetKind: 'team', targetId: req.params.id });
    });
    return reply.status(204).send(null);
  });

  app.put('/teams/:id/members/:userId', {
    onRequest: app.authorize('admin'),
    schema: { tags: ['teams'], summary: 'Add a user to a team (idempotent)', params: MemberParams, response: { 200: Team } },
  }, async (req) => {
    const actor = actorOf(req);
    return withAccount(db, actor.accountId, async (tx) => {
      // Foreign keys ignore row-level security, so both ids are looked up as this tenant first.
      if (!(await getTeam(tx, req.params.id))) throw notFound('team');
      if (!(await getUser(tx, req.params.userId))) throw notFound('user');
      await addTeamMember(tx, { accountId: actor.accountId, teamId: req.params.id, userId: req.params.userId });
      await audit(tx, { accountId: actor.accountId, actorKind: actor.kind, actorId: actor.id, action: 'team.member_added', targetKind: 'team', targetId: req.params.id, data: { userId: req.params.userId } });
      return (await getTeam(tx, req.params.id))!;
    });
  });

  app.delete('/teams/:id/members/:userId', {
    onRequest: app.authorize('admin'),
    schema: { tags: ['teams'], params: MemberParams, response: { 200: Team } },
  }, async (req) => {
    const actor = actorOf(req);
    return withAccount(db, actor.accountId, async (tx) => {
      if (!(await getTeam(tx, req.params.id))) throw notFound('team');
      if (!(await removeTeamMember(tx, req.params.id, req.params.userId))) throw notFound('team_member');
      await audit(tx, { accountId: actor.accountId, actorKind: actor.kind, actorId: actor.id, action: 'team.member_removed', targetKind: 'team', targetId: req.params.id, data: { userId: req.params.userId } });
      return (await getTeam(tx, req.params.id))!;
    });
  });
};

export default teams;
