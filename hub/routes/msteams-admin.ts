import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Queryable } from '../../storage/database.js';
import { withAccount } from '../../storage/session.js';
import { updateChannel } from '../../storage/repositories/channels.js';
import { audit } from '../../storage/repositories/audit.js';
import { badRequest, conflict, notFound } from '../errors.js';
import { IdParams, Nullable, Uuid } from '../schemas.js';
import { claimTeam } from '../teams/installs.js';
import { listTeamsInstallations, teamsConfig, type TeamsInstallConfig } from '../teams/store.js';
import { actorOf } from './conversations.js';
import { errorResponse } from '../plugins/error-responses.js';

/*
 * RBAC                                            viewer  agent  admin  owner   (API keys act as their role)
 * GET    /msteams/installs                          ✗      ✗      ✓      ✓
 * POST   /msteams/installs                          ✗      ✗      ✓      ✓
 * PUT    /msteams/installs/:id/routing              ✗      ✗      ✓      ✓
 * GET    /msteams/links                             ✗      ✗      ✓      ✓
 * PUT    /msteams/links/:userId                     ✗      ✗      ✓      ✓
 * DELETE /msteams/links/:userId                     ✗      ✗      ✓      ✓
 *
 * "msteams", not "teams": /teams are HummDesk's own agent teams.
 */

const TeamsChannelId = Type.String({ pattern: '^19:[^\\s;]{1,200}$', description: 'Teams channel id (19:…@thread.tacv2); the General channel has the team’s id' });
const AadObjectId = Type.String({ format: 'uuid', description: 'Entra (AAD) object id of the Teams user' });

const Routing = Type.Object({
  teams: Type.Record(Type.String({ format: 'uuid' }), TeamsChannelId, { description: 'HummDesk team id → Teams channel' }),
  inboxes: Type.Record(Type.String({ format: 'uuid' }), TeamsChannelId, { description: 'HummDesk channel (inbox) id → Teams channel, for conversations whose team has none' }),
  defaultChannel: Nullable(TeamsChannelId),
  threadReplies: Type.Union([Type.Literal('notes'), Type.Literal('replies')], { description: 'what an agent’s plain reply in a card’s thread becomes: an internal note (default) or a reply to the customer' }),
});

const Install = Type.Object({
  id: Uuid,
  teamsTeamId: Type.String(),
  tenantId: Type.String(),
  aadGroupId: Nullable(Type.String()),
  name: Type.String(),
  enabled: Type.Boolean(),
  state: Type.Union([Type.Literal('connected'), Type.Literal('disconnected'), Type.Literal('disabled')], {
    description: '`disconnected`: the bot was removed from the team (or Teams refused it the roster); add the app to the team again to reconnect',
  }),
  disconnected: Nullable(Type.Object({ reason: Type.String(), at: Type.String() })),
  channels: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), type: Type.Union([Type.Literal('standard'), Type.Literal('private'), Type.Literal('shared')]) })),
  routing: Routing,
});

const Link = Type.Object({ userId: Uuid, name: Type.String(), email: Type.String(), aadObjectId: Nullable(Type.String()) });
const LinkParams = Type.Object({ userId: Uuid });

type Row = { id: string; externalKey: string; name: string; enabled: boolean; config: Record<string, unknown> };

function toInstall(r: Row) {
  const c = teamsConfig(r);
  return {
    id: r.id, teamsTeamId: r.externalKey, tenantId: c.tenantId, aadGroupId: c.aadGroupId ?? null, name: r.name, enabled: r.enabled,
    state: r.enabled ? ('connected' as const) : c.disconnected ? ('disconnected' as const) : ('disabled' as const),
    disconnected: !r.enabled && c.disconnected ? c.disconnected : null,
    channels: c.channels,
    routing: { teams: c.triageChannels ?? {}, inboxes: c.inboxTriageChannels ?? {}, defaultChannel: c.defaultTriageChannel ?? null, threadReplies: c.threadReplies ?? 'notes' },
  };
}

/**
 * Microsoft Teams settings for admins: claiming a team the bot was added to (with the code it posted there),
 * which Teams channel each HummDesk team and inbox uses, the thread-reply mode, and which Teams user is which agent.
 */
const msteamsAdmin: FastifyPluginAsyncTypebox = async (app) => {
  const { db, box } = app.hub;
  const installs = async (tx: Queryable) => (await listTeamsInstallations(tx)).map((r) => ({ id: r.id, externalKey: r.externalKey, name: r.name, enabled: r.enabled, config: r.config }));

  app.get('/msteams/installs', {
    onRequest: app.authorize('admin'),
    schema: { tags: ['msteams'], summary: 'Microsoft Teams teams connected to this account, their channels and routing', response: { 200: Type.Object({ items: Type.Array(Install) }) } },
  }, async (req) => ({ items: (await withAccount(db, req.principal.accountId, installs)).map(toInstall) }));

  app.post('/msteams/installs', {
    onRequest: app.authorize('admin'),
    schema: {
      tags: ['msteams'],
      summary: 'Connect a Teams team with the one-time code the HummDesk bot posted in its General channel when it was added',
      description: 'Errors: 400 `teams_link_code_invalid` (mistyped, used or expired), 409 `teams_team_taken` (connected to an account already).',
      body: Type.Object({ code: Type.String({ minLength: 8, maxLength: 20, pattern: '^[A-Za-z0-9 -]+$' }) }, { additionalProperties: false }),
      response: { 201: Install, 400: errorResponse(400, ['validation_failed', 'teams_link_code_invalid']), 409: errorResponse(409, ['teams_team_taken']) },
    },
  }, async (req, reply) => {
    const actor = actorOf(req);
    const { id } = await claimTeam(app.hub, actor.accountId, req.body.code, actor);
    const row = (await withAccount(db, actor.accountId, installs)).find((r) => r.id === id)!;
    return reply.status(201).send(toInstall(row));
  });

  app.put('/msteams/installs/:id/routing', {
    onRequest: app.authorize('admin'),
    schema: {
      tags: ['msteams'],
      summary: 'Set the Teams channel per HummDesk team and inbox, the default one, and the thread-reply mode; given fields replace the stored ones',
      description: 'Only standard channels: bots cannot post in private or shared ones. Errors: 400 `teams_channel_unknown` (not a channel of this team), `teams_channel_not_standard`, `team_not_found`, `inbox_not_found`; 404 `msteams_install_not_found`; 409 `teams_routing_taken` (a team or inbox is mapped in another Teams team).',
      params: IdParams,
      body: Type.Partial(Routing, { additionalProperties: false }),
      response: { 200: Install, 400: errorResponse(400, ['validation_failed', 'teams_channel_unknown', 'teams_channel_not_standard', 'team_not_found', 'inbox_not_found']), 404: errorResponse(404, ['msteams_install_not_found']), 409: errorResponse(409, ['teams_routing_taken']) },
    },
  }, async (req) => {
    const actor = actorOf(req);
    const b = req.body;
    return withAccount(db, actor.accountId, async (tx) => {
      const all = await installs(tx);
      const row = all.find((w) => w.id === req.params.id);
      if (!row) throw notFound('msteams_install');
      const current = teamsConfig(row);
      for (const channel of [...Object.values(b.teams ?? {}), ...Object.values(b.inboxes ?? {}), ...(b.defaultChannel ? [b.defaultChannel] : [])]) {
        const known = current.channels.find((c) => c.id === channel);
        if (!known) throw badRequest('teams_channel_unknown', `${channel} is not a channel of this Teams team (channels are read when the bot is added, and again on channel events)`, { channel });
        if (known.type !== 'standard') throw badRequest('teams_channel_not_standard', `${known.name} is a ${known.type} channel: bots can post only in standard channels`, { channel, type: known.type });
      }
      if (b.teams && Object.keys(b.teams).length) {
        const found = (await tx.query<{ id: string }>(`SELECT id FROM teams WHERE id = ANY($1::uuid[])`, [Object.keys(b.teams)])).rows.map((r) => r.id);
        const unknown = Object.keys(b.teams).filter((id) => !found.includes(id));
        if (unknown.length) throw badRequest('team_not_found', 'no such team in this account', { teams: unknown });
      }
      if (b.inboxes && Object.keys(b.inboxes).length) {
        const found = (await tx.query<{ id: string }>(`SELECT id FROM channels WHERE id = ANY($1::uuid[])`, [Object.keys(b.inboxes)])).rows.map((r) => r.id);
        const unknown = Object.keys(b.inboxes).filter((id) => !found.includes(id));
        if (unknown.length) throw badRequest('inbox_not_found', 'no such channel (inbox) in this account', { inboxes: unknown });
      }
      const next: TeamsInstallConfig = {
        ...current,
        ...(b.teams ? { triageChannels: b.teams } : {}),
        ...(b.inboxes ? { inboxTriageChannels: b.inboxes } : {}),
        ...(b.defaultChannel !== undefined ? { defaultTriageChannel: b.defaultChannel ?? undefined } : {}),
        ...(b.threadReplies ? { threadReplies: b.threadReplies } : {}),
      };
      if (next.defaultTriageChannel === undefined) delete next.defaultTriageChannel;
      // One team (or inbox) has one thread home across the account's Teams teams, else moves would be ambiguous.
      for (const other of all) {
        if (other.id === row.id) continue;
        const o = teamsConfig(other);
        const taken = [...Object.keys(next.triageChannels ?? {}).filter((t) => o.triageChannels?.[t]), ...Object.keys(next.inboxTriageChannels ?? {}).filter((i) => o.inboxTriageChannels?.[i])];
        if (taken.length) throw conflict('teams_routing_taken', `already mapped in Teams team ${other.name}: ${taken.join(', ')}`);
      }
      await updateChannel(tx, box, row.id, { config: next as unknown as Record<string, unknown> });
      app.hub.installations.forget();
      await audit(tx, { accountId: actor.accountId, actorKind: actor.kind, actorId: actor.id, action: 'msteams.routing_updated', targetKind: 'channel', targetId: row.id, data: { ...b } });
      return toInstall({ ...row, config: next as unknown as Record<string, unknown> });
    });
  });

  app.get('/msteams/links', {
    onRequest: app.authorize('admin'),
    schema: { tags: ['msteams'], summary: 'Agents and the Teams users (AAD object ids) they are linked to; links are made by matching email in the team’s tenant, or here', response: { 200: Type.Object({ items: Type.Array(Link) }) } },
  }, async (req) => ({
    items: await withAccount(db, req.principal.accountId, async (tx) =>
      (await tx.query<{ userId: string; name: string; email: string; aadObjectId: string | null }>(
        `SELECT id AS "userId", name, email, teams_user_id AS "aadObjectId" FROM users WHERE role <> 'viewer' ORDER BY name, id`,
      )).rows),
  }));

  app.put('/msteams/links/:userId', {
    onRequest: app.authorize('admin'),
    schema: {
      tags: ['msteams'],
      summary: 'Link a Teams user (AAD object id) to an agent',
      description: 'Errors: 400 `viewer_cannot_link`; 404 `user_not_found`; 409 `teams_user_taken` (linked to another agent).',
      params: LinkParams,
      body: Type.Object({ aadObjectId: AadObjectId }, { additionalProperties: false }),
      response: { 200: Link, 400: errorResponse(400, ['validation_failed', 'viewer_cannot_link']), 404: errorResponse(404, ['user_not_found']), 409: errorResponse(409, ['teams_user_taken']) },
    },
  }, async (req) => {
    const actor = actorOf(req);
    const aadObjectId = req.body.aadObjectId.toLowerCase();
    return withAccount(db, actor.accountId, async (tx) => {
      const user = (await tx.query<{ id: string; role: string }>(`SELECT id, role FROM users WHERE id = $1`, [req.params.userId])).rows[0];
      if (!user) throw notFound('user');
      if (user.role === 'viewer') throw badRequest('viewer_cannot_link', 'viewers do not act in Teams; give the user an agent role first');
      const taken = (await tx.query(`SELECT 1 FROM users WHERE teams_user_id = $1 AND id <> $2`, [aadObjectId, user.id])).rowCount;
      if (taken) throw conflict('teams_user_taken', 'that Teams user is linked to another agent');
      const row = (await tx.query<{ userId: string; name: string; email: string; aadObjectId: string | null }>(
        `UPDATE users SET teams_mri = CASE WHEN teams_user_id = $2 THEN teams_mri END, teams_user_id = $2 WHERE id = $1 RETURNING id AS "userId", name, email, teams_user_id AS "aadObjectId"`,
        [user.id, aadObjectId],
      )).rows[0]!;
      await audit(tx, { accountId: actor.accountId, actorKind: actor.kind, actorId: actor.id, action: 'msteams.user_linked', targetKind: 'user', targetId: user.id, data: { aadObjectId } });
      return row;
    });
  });

  app.delete('/msteams/links/:userId', {
    onRequest: app.authorize('admin'),
    schema: { tags: ['msteams'], summary: 'Unlink an agent from Teams', description: 'Errors: 404 `user_not_found`.', params: LinkParams, response: { 204: Type.Null() } },
  }, async (req, reply) => {
    const actor = actorOf(req);
    await withAccount(db, actor.accountId, async (tx) => {
      const hit = (await tx.query(`UPDATE users SET teams_user_id = NULL, teams_mri = NULL WHERE id = $1`, [req.params.userId])).rowCount;
      if (!hit) throw notFound('user');
      await audit(tx, { accountId: actor.accountId, actorKind: actor.kind, actorId: actor.id, action: 'msteams.user_unlinked', targetKind: 'user', targetId: req.params.userId });
    });
    return reply.status(204).send(null);
  });
};

export default msteamsAdmin;
