import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type TSchema } from 'typebox';
import { CHANNEL_KINDS } from '../../connectors/core/types.js';
import type { Queryable } from '../../storage/database.js';
import { withAccount } from '../../storage/session.js';
import { getChannel, getInstallation, insertChannel, listChannels, updateChannel, type ChannelRow } from '../../storage/repositories/channels.js';
import { getTeam } from '../../storage/repositories/teams.js';
import { audit } from '../../storage/repositories/audit.js';
import { isUniqueViolation } from '../../storage/unique-violation.js';
import { ConnectorError } from '../../connectors/core/errors.js';
import { validateMailbox } from '../../connectors/email/config.js';
import { badRequest, conflict, notFound } from '../errors.js';
import { IdParams, Nullable, Uuid } from '../schemas.js';
import { channelKeyFor } from '../services/channel-keys.js';
import { releaseStaleSlackTeam } from '../slack/team-binding.js';
import { actorOf } from './conversations.js';

/*
 * RBAC                                   viewer  agent  admin  owner   (API keys act as their role)
 * GET    /channels, /channels/:id           ✓      ✓      ✓      ✓
 * POST   /channels                          ✗      ✗      ✓      ✓
 * PATCH  /channels/:id                      ✗      ✗      ✓      ✓
 * DELETE /channels/:id (disables)           ✗      ✗      ✓      ✓
 * Secrets are write-only: sealed at rest by hub.box, and responses name the keys but never the values.
 */

const Channel = Type.Object({
  id: Uuid,
  kind: Type.String(),
  name: Type.String(),
  externalKey: Type.String(),
  config: Type.Record(Type.String(), Type.Unknown()),
  teamId: Nullable(Uuid),
  enabled: Type.Boolean(),
  secretKeys: Type.Array(Type.String(), { description: 'names of the stored secrets; values are never returned' }),
  createdAt: Type.Any(),
});

// Null first: with type coercion on, a null tried against string first would become "".
const NullFirst = <T extends TSchema>(t: T) => Type.Union([Type.Null(), t]);
const Kind = Type.Union(CHANNEL_KINDS.map((k) => Type.Literal(k)));
const Config = Type.Record(Type.String(), Type.Unknown());
const Secrets = Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 10_000 }));

const channels: FastifyPluginAsyncTypebox = async (app) => {
  // Webhook routes cache installations briefly; a change made here applies to them at once.
  app.addHook('onSend', async (req, _reply, payload) => {
    if (req.method !== 'GET') app.hub.installations.forget();
    return payload;
  });
  const { db, box } = app.hub;

  // Built field by field so a secret can never ride along in a response.
  const present = async (tx: Queryable, row: ChannelRow) => {
    const secrets = (await getInstallation(tx, box, row.id))?.secrets ?? {};
    return { id: row.id, kind: row.kind, name: row.name, externalKey: row.externalKey, config: row.config, teamId: row.teamId, enabled: row.enabled, secretKeys: Object.keys(secrets).sort(), createdAt: row.createdAt };
  };
  // Foreign keys ignore row-level security, so a team id is looked up as this tenant first.
  const requireTeam = async (tx: Queryable, teamId: string | null | undefined) => {
    if (teamId && !(await getTeam(tx, teamId))) throw notFound('team');
  };
  // Settings a connector would only trip over later (every 30 s, in the log) are refused here, with a code.
  const validate = async (kind: string, externalKey: string, config: Record<string, unknown>) => {
    if (kind === 'whatsapp' && config.graphVersion !== undefined && (typeof config.graphVersion !== 'string' || !/^v\d{1,3}\.\d{1,2}$/.test(config.graphVersion)))
      throw badRequest('graph_version_invalid', 'config.graphVersion is a Graph API version such as v25.0');
    if (kind !== 'email') return;
    try {
      await validateMailbox(config, externalKey, app.hub.egress);
    } catch (err) {
      if (err instanceof ConnectorError) throw badRequest(err.code, err.message);
      throw err;
    }
  };
  const duplicate = () => conflict('channel_exists', 'a channel of this kind with this external key already exists');

  app.get('/channels', {
    onRequest: app.authorize('viewer', { allowEmbed: true }),
    schema: { tags: ['channels'], response: { 200: Type.Object({ items: Type.Array(Channel) }) } },
  }, async (req) => withAccount(db, req.principal.accountId, async (tx) => {
    const items = [];
    for (const row of await listChannels(tx)) items.push(await present(tx, row));
    return { items };
  }));

  app.get('/channels/:id', {
    onRequest: app.authorize('viewer'),
    schema: { tags: ['channels'], params: IdParams, response: { 200: Channel } },
  }, async (req) => withAccount(db, req.principal.accountId, async (tx) => {
    const row = await getChannel(tx, req.params.id);
    if (!row) throw notFound('channel');
    return present(tx, row);
  }));

  app.post('/channels', {
    onRequest: app.authorize('admin'),
    schema: {
      tags: ['channels'],
      body: Type.Object({
        kind: Kind,
        name: Type.String({ minLength: 1, maxLength: 200 }),
        externalKey: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'how webhooks find this installation: phone number id, Page id, mailbox…; web chat widget ids are generated (leave it out), a Slack team id is the one secrets.botToken belongs to' })),
        config: Type.Optional(Config),
        secrets: Type.Optional(Secrets),
        teamId: Type.Optional(Nullable(Uuid)),
      }, { additionalProperties: false }),
      response: { 201: Channel },
    },
  }, async (req, reply) => {
    const actor = actorOf(req);
    const key = await channelKeyFor(app.hub, req.body);
    await validate(req.body.kind, key.externalKey, req.body.config ?? {});
    const create = () => withAccount(db, actor.accountId, async (tx) => {
      await requireTeam(tx, req.body.teamId);
      const row = await insertChannel(tx, box, { accountId: actor.accountId, ...req.body, externalKey: key.externalKey, config: { ...req.body.config, ...key.config } });
      await audit(tx, { accountId: actor.accountId, actorKind: actor.kind, actorId: actor.id, action: 'channel.created', targetKind: 'channel', targetId: row.id, data: { kind: row.kind, externalKey: row.externalKey } });
      return present(tx, row);
    });
    try {
      return reply.status(201).send(await create());
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      // A Slack team held elsewhere without a bot token of that team is freed for the one who has one.
      if (req.body.kind === 'slack' && (await releaseStaleSlackTeam(app.hub, key.externalKey))) return reply.status(201).send(await create());
      throw duplicate();
    }
  });

  app.patch('/channels/:id', {
    onRequest: app.authorize('admin'),
    schema: {
      tags: ['channels'],
      params: IdParams,
      body: Type.Object({
        name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        config: Type.Optional(Config),
        secrets: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), NullFirst(Type.String({ maxLength: 10_000 })), { description: 'merged into the stored secrets; null removes a key' })),
        teamId: Type.Optional(Nullable(Uuid)),
        enabled: Type.Optional(Type.Boolean()),
      }, { additionalProperties: false }),
      response: { 200: Channel },
    },
  }, async (req) => {
    const actor = actorOf(req);
    const { secrets: secretPatch, ...rest } = req.body;
    if (rest.config !== undefined || rest.enabled === true) {
      // Checked outside the transaction: it may resolve a host name.
      const before = await withAccount(db, actor.accountId, (tx) => getChannel(tx, req.params.id));
      if (!before) throw notFound('channel');
      await validate(before.kind, before.externalKey, rest.config ?? before.config);
    }
    return withAccount(db, actor.accountId, async (tx) => {
      const current = await getInstallation(tx, box, req.params.id);
      if (!current) throw notFound('channel');
      await requireTeam(tx, rest.teamId);
      let secrets: Record<string, string> | undefined;
      if (secretPatch) {
        secrets = { ...current.secrets };
        for (const [k, v] of Object.entries(secretPatch)) {
          if (v === null) delete secrets[k];
          else secrets[k] = v;
        }
      }
      const row = (await updateChannel(tx, box, req.params.id, { ...rest, secrets }))!;
      // Secret names are audited, values never.
      await audit(tx, { accountId: actor.accountId, actorKind: actor.kind, actorId: actor.id, action: 'channel.updated', targetKind: 'channel', targetId: row.id, data: { fields: Object.keys(req.body), secretKeys: Object.keys(secretPatch ?? {}) } });
      return present(tx, row);
    });
  });

  app.delete('/channels/:id', {
    onRequest: app.authorize('admin'),
    schema: { tags: ['channels'], summary: 'Disable a channel; its conversations and history stay', params: IdParams, response: { 204: Type.Null() } },
  }, async (req, reply) => {
    const actor = actorOf(req);
    await withAccount(db, actor.accountId, async (tx) => {
      if (!(await updateChannel(tx, box, req.params.id, { enabled: false }))) throw notFound('channel');
      await audit(tx, { accountId: actor.accountId, actorKind: actor.kind, actorId: actor.id, action: 'channel.disabled', targetKind: 'channel', targetId: req.params.id });
    });
    return reply.status(204).send(null);
  });
};

export default channels;
