import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Queryable } from '../../storage/database.js';
import { withAccount } from '../../storage/session.js';
import { getInstallation, updateChannel } from '../../storage/repositories/channels.js';
import { audit } from '../../storage/repositories/audit.js';
import { SlackClients, slackErrorCode, toConnectorError } from '../../connectors/slack/client.js';
import { slackConfig, triageChannelsOf, type SlackInstallConfig } from '../../connectors/slack/config.js';
import { HubError, badRequest, conflict, notFound } from '../errors.js';
import { IdParams, Nullable, Uuid } from '../schemas.js';
import { slackOf } from '../install-slack.js';
import { actorOf } from './conversations.js';

/*
 * RBAC                                            viewer  agent  admin  owner   (API keys act as their role)
 * GET    /slack/workspaces                          ✗      ✗      ✓      ✓
 * PUT    /slack/workspaces/:id/triage               ✗      ✗      ✓      ✓
 * GET    /slack/links                               ✗      ✗      ✓      ✓
 * PUT    /slack/links/:userId                       ✗      ✗      ✓      ✓
 * DELETE /slack/links/:userId                       ✗      ✗      ✓      ✓
 */

/** A Slack conversation id: public (C…) or private (G…) channel. */
const SlackChannel = Type.String({ pattern: '^[CG][A-Z0-9]{2,20}$', description: 'Slack channel id' });
const SlackUser = Type.String({ pattern: '^[UW][A-Z0-9]{2,20}$', description: 'Slack user id' });

const Triage = Type.Object({
  teams: Type.Record(Type.String({ format: 'uuid' }), SlackChannel, { description: 'HummDesk team id → triage channel' }),
  inboxes: Type.Record(Type.String({ format: 'uuid' }), SlackChannel, { description: 'HummDesk channel (inbox) id → triage channel, for conversations whose team has none' }),
  defaultChannel: Nullable(SlackChannel),
  customerChannels: Type.Array(SlackChannel, { maxItems: 500 }),
  threadReplies: Type.Union([Type.Literal('notes'), Type.Literal('replies')]),
  staffMessages: Type.Union([Type.Literal('outbound'), Type.Literal('notes')], {
    description: 'what a message of our own staff in a Slack Connect customer channel becomes: our side of the conversation (outbound, default) or an internal note',
  }),
});

const Workspace = Type.Object({
  id: Uuid,
  slackTeamId: Type.String(),
  slackTeamName: Nullable(Type.String()),
  name: Type.String(),
  enabled: Type.Boolean(),
  state: Type.Union([Type.Literal('connected'), Type.Literal('disconnected'), Type.Literal('disabled')], {
    description: '`disconnected`: Slack said the app was uninstalled or its tokens revoked (tokens erased; reinstall to reconnect)',
  }),
  disconnected: Nullable(Type.Object({ reason: Type.String(), at: Type.String() })),
  triage: Triage,
});

const TriagePatch = Type.Partial(Triage, { additionalProperties: false });

const Link = Type.Object({ userId: Uuid, name: Type.String(), email: Type.String(), slackUserId: Nullable(Type.String()) });
const LinkParams = Type.Object({ userId: Uuid });

type Row = { id: string; externalKey: string; name: string; enabled: boolean; config: Record<string, unknown> };

function toWorkspace(r: Row) {
  const c = slackConfig(r);
  return {
    id: r.id, slackTeamId: r.externalKey, slackTeamName: c.teamName ?? null, name: r.name, enabled: r.enabled,
    // A reinstall enables the row again: the record of the last disconnection then no longer describes it.
    state: r.enabled ? ('connected' as const) : c.disconnected ? ('disconnected' as const) : ('disabled' as const),
    disconnected: !r.enabled && c.disconnected ? c.disconnected : null,
    triage: {
      teams: c.triageChannels ?? {}, inboxes: c.inboxTriageChannels ?? {}, defaultChannel: c.defaultTriageChannel ?? null,
      customerChannels: c.customerChannels ?? [], threadReplies: c.threadReplies ?? 'notes', staffMessages: c.staffMessages ?? 'outbound',
    },
  };
}

/**
 * Slack settings for admins: which triage channel each team and inbox uses in which workspace, and
 * which Slack user is which agent. Several workspaces per account, several triage channels per workspace.
 */
const slackAdmin: FastifyPluginAsyncTypebox = async (app) => {
  const { db, box } = app.hub;
  const clients = () => slackOf(app.hub)?.clients ?? new SlackClients();

  const workspaces = async (tx: Queryable) =>
    (await tx.query<Row>(`SELECT id, external_key AS "externalKey", name, enabled, config FROM channels WHERE kind = 'slack' ORDER BY created_at, id`)).rows;

  app.get('/slack/workspaces', {
    onRequest: app.authorize('admin'),
    schema: { tags: ['slack'], summary: 'Connected Slack workspaces and their triage channels', response: { 200: Type.Object({ items: Type.Array(Workspace) }) } },
  }, async (req) => ({ items: (await withAccount(db, req.principal.accountId, workspaces)).map(toWorkspace) }));

  app.put('/slack/workspaces/:id/triage', {
    onRequest: app.authorize('admin'),
    schema: {
      tags: ['slack'],
      summary: 'Set triage channels (per team, per inbox, default), customer channels, the thread-reply mode and what staff messages in shared channels become; given fields replace the stored ones',
      params: IdParams,
      body: TriagePatch,
      response: { 200: Workspace },
    },
  }, async (req) => {
    const actor = actorOf(req);
    const b = req.body;
    return withAccount(db, actor.accountId, async (tx) => {
      const all = await workspaces(tx);
      const row = all.find((w) => w.id === req.params.id);
      if (!row) throw notFound('slack_workspace');
      if (b.teams && Object.keys(b.teams).length) {
        const known = (await tx.query<{ id: string }>(`SELECT id FROM teams WHERE id = ANY($1::uuid[])`, [Object.keys(b.teams)])).rows.map((r) => r.id);
        const unknown = Object.keys(b.teams).filter((id) => !known.includes(id));
        if (unknown.length) throw badRequest('team_not_found', 'no such team in this account', { teams: unknown });
      }
      if (b.inboxes && Object.keys(b.inboxes).length) {
        const known = (await tx.query<{ id: string }>(`SELECT id FROM channels WHERE id = ANY($1::uuid[])`, [Object.keys(b.inboxes)])).rows.map((r) => r.id);
        const unknown = Object.keys(b.inboxes).filter((id) => !known.includes(id));
        if (unknown.length) throw badRequest('inbox_not_found', 'no such channel (inbox) in this account', { inboxes: unknown });
      }
      const current = slackConfig(row);
      const next: SlackInstallConfig = {
        ...current,
        ...(b.teams ? { triageChannels: b.teams } : {}),
        ...(b.inboxes ? { inboxTriageChannels: b.inboxes } : {}),
        ...(b.defaultChannel !== undefined ? { defaultTriageChannel: b.defaultChannel ?? undefined } : {}),
        ...(b.customerChannels ? { customerChannels: [...new Set(b.customerChannels)] } : {}),
        ...(b.threadReplies ? { threadReplies: b.threadReplies } : {}),
        ...(b.staffMessages ? { staffMessages: b.staffMessages } : {}),
      };
      if (next.defaultTriageChannel === undefined) delete next.defaultTriageChannel;
      // A channel is either where customers write or where agents work, never both.
      const both = (next.customerChannels ?? []).filter((c) => triageChannelsOf(next).has(c));
      if (both.length) throw badRequest('slack_channel_role_conflict', 'a channel cannot be a triage channel and a customer channel', { channels: both });
      // One team (or inbox) has one thread home across the account's workspaces, else moves would be ambiguous.
      for (const other of all) {
        if (other.id === row.id) continue;
        const o = slackConfig(other);
        const teams = Object.keys(next.triageChannels ?? {}).filter((t) => o.triageChannels?.[t]);
        const inboxes = Object.keys(next.inboxTriageChannels ?? {}).filter((i) => o.inboxTriageChannels?.[i]);
        if (teams.length || inboxes.length) throw conflict('slack_triage_taken', `already mapped in workspace ${other.name}: ${[...teams, ...inboxes].join(', ')}`);
      }
      await updateChannel(tx, box, row.id, { config: next as Record<string, unknown> });
      app.hub.installations.forget();
      await audit(tx, { accountId: actor.accountId, actorKind: actor.kind, actorId: actor.id, action: 'slack.triage_updated', targetKind: 'channel', targetId: row.id, data: { ...b } });
      return toWorkspace({ ...row, config: next as Record<string, unknown> });
    });
  });

  app.get('/slack/links', {
    onRequest: app.authorize('admin'),
    schema: { tags: ['slack'], summary: 'Agents and the Slack users they are linked to', response: { 200: Type.Object({ items: Type.Array(Link) }) } },
  }, async (req) => ({
    items: await withAccount(db, req.principal.accountId, async (tx) =>
      (await tx.query<{ userId: string; name: string; email: string; slackUserId: string | null }>(
        `SELECT id AS "userId", name, email, slack_user_id AS "slackUserId" FROM users WHERE role <> 'viewer' ORDER BY name, id`,
      )).rows),
  }));

  app.put('/slack/links/:userId', {
    onRequest: app.authorize('admin'),
    schema: {
      tags: ['slack'],
      summary: 'Link a Slack user to an agent; with workspaceId the user is checked with users.info first',
      params: LinkParams,
      body: Type.Object({ slackUserId: SlackUser, workspaceId: Type.Optional(Uuid) }, { additionalProperties: false }),
      response: { 200: Link },
    },
  }, async (req) => {
    const actor = actorOf(req);
    const { slackUserId, workspaceId } = req.body;
    if (workspaceId) {
      const install = await withAccount(db, actor.accountId, (tx) => getInstallation(tx, box, workspaceId));
      if (!install || install.kind !== 'slack') throw notFound('slack_workspace');
      try {
        const info = await clients().for(install.secrets.botToken).users.info({ user: slackUserId });
        if (info.user?.deleted || info.user?.is_bot) throw badRequest('slack_user_unusable', 'that Slack user is deactivated or a bot');
      } catch (err) {
        if (err instanceof HubError) throw err;
        if (slackErrorCode(err) === 'user_not_found') throw notFound('slack_user');
        throw new HubError(502, 'slack_unavailable', toConnectorError(err).message);
      }
    }
    return withAccount(db, actor.accountId, async (tx) => {
      const user = (await tx.query<{ id: string; role: string }>(`SELECT id, role FROM users WHERE id = $1`, [req.params.userId])).rows[0];
      if (!user) throw notFound('user');
      if (user.role === 'viewer') throw badRequest('viewer_cannot_link', 'viewers do not act in Slack; give the user an agent role first');
      const taken = (await tx.query(`SELECT 1 FROM users WHERE slack_user_id = $1 AND id <> $2`, [slackUserId, user.id])).rowCount;
      if (taken) throw conflict('slack_user_taken', 'that Slack user is linked to another agent');
      const row = (await tx.query<{ userId: string; name: string; email: string; slackUserId: string | null }>(
        `UPDATE users SET slack_user_id = $2 WHERE id = $1 RETURNING id AS "userId", name, email, slack_user_id AS "slackUserId"`,
        [user.id, slackUserId],
      )).rows[0]!;
      await audit(tx, { accountId: actor.accountId, actorKind: actor.kind, actorId: actor.id, action: 'slack.user_linked', targetKind: 'user', targetId: user.id, data: { slackUserId } });
      return row;
    });
  });

  app.delete('/slack/links/:userId', {
    onRequest: app.authorize('admin'),
    schema: { tags: ['slack'], summary: 'Unlink an agent from Slack', params: LinkParams, response: { 204: Type.Null() } },
  }, async (req, reply) => {
    const actor = actorOf(req);
    await withAccount(db, actor.accountId, async (tx) => {
      const hit = (await tx.query(`UPDATE users SET slack_user_id = NULL WHERE id = $1`, [req.params.userId])).rowCount;
      if (!hit) throw notFound('user');
      await audit(tx, { accountId: actor.accountId, actorKind: actor.kind, actorId: actor.id, action: 'slack.user_unlinked', targetKind: 'user', targetId: req.params.userId });
    });
    return reply.status(204).send(null);
  });
};

export default slackAdmin;
