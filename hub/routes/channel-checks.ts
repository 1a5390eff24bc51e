import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ChannelInstallation } from '../../connectors/core/types.js';
import { ConnectorError } from '../../connectors/core/errors.js';
import { validateMailbox } from '../../connectors/email/config.js';
import { withAccount } from '../../storage/session.js';
import { getInstallation } from '../../storage/repositories/channels.js';
import { badRequest, notFound } from '../errors.js';
import { IdParams, Nullable, Uuid } from '../schemas.js';

/*
 * RBAC                                   viewer  agent  admin  owner   (API keys act as their role)
 * GET    /channels/status                   ✓      ✓      ✓      ✓
 * POST   /channels/check (dry run)          ✗      ✗      ✓      ✓
 * POST   /channels/:id/check                ✗      ✗      ✓      ✓
 * What the admin console shows beside each channel, and its "Test connection" button. Embed tokens are
 * refused here (as on every settings route): an agent tool's token never reaches a channel's servers.
 */

const CheckResult = Type.Object({
  ok: Type.Boolean(),
  code: Type.Optional(Type.String({ description: 'why the check failed: a stable code (channel_auth_failed, mail_connect_failed, mail_tls_failed…)' })),
  message: Type.Optional(Type.String({ description: 'our own words, never a server\'s text' })),
});

const ChannelStatus = Type.Object({
  channelId: Uuid,
  state: Type.Union([Type.Literal('active'), Type.Literal('disabled'), Type.Literal('failing')]),
  lastError: Nullable(Type.Object({ message: Type.String(), at: Type.String() })),
});

/** How long a failed delivery keeps marking its channel as failing, unless a later one succeeded. */
const RECENT_DAYS = 7;

const channelChecks: FastifyPluginAsyncTypebox = async (app) => {
  const { db, box } = app.hub;

  const check = async (installation: ChannelInstallation) => {
    const connector = app.hub.connectors.get(installation.kind);
    if (!connector) throw badRequest('channel_check_unsupported', `the ${installation.kind} connector is not running in this hub`);
    if (installation.kind === 'email') {
      try {
        await validateMailbox(installation.config, installation.externalKey, app.hub.egress);
      } catch (err) {
        if (err instanceof ConnectorError) throw badRequest(err.code, err.message);
        throw err;
      }
    }
    const result = await connector.check(installation);
    return result.ok ? { ok: true } : { ok: false, code: result.code, message: result.message };
  };

  app.get('/channels/status', {
    onRequest: app.authorize('viewer'),
    schema: {
      tags: ['channels'],
      summary: 'Each channel\'s state: disabled, failing (its latest delivery in the last week failed, with the reason) or active',
      response: { 200: Type.Object({ items: Type.Array(ChannelStatus) }) },
    },
  }, async (req) => withAccount(db, req.principal.accountId, async (tx) => {
    const { rows } = await tx.query<{ id: string; enabled: boolean; status: string | null; error: string | null; at: Date | null }>(
      `SELECT ch.id, ch.enabled, last.delivery_status AS status, last.delivery_error AS error, last.created_at AS at
         FROM channels ch
         LEFT JOIN LATERAL (
           SELECT m.delivery_status, m.delivery_error, m.created_at
             FROM conversations c JOIN messages m ON m.conversation_id = c.id
            WHERE c.channel_id = ch.id AND m.direction = 'outbound'
              AND m.delivery_status IN ('sent', 'delivered', 'read', 'failed')
              AND m.created_at > now() - make_interval(days => $1)
            ORDER BY m.created_at DESC LIMIT 1) last ON true
        ORDER BY ch.created_at, ch.id`,
      [RECENT_DAYS],
    );
    return {
      items: rows.map((r) => ({
        channelId: r.id,
        state: !r.enabled ? 'disabled' as const : r.status === 'failed' ? 'failing' as const : 'active' as const,
        lastError: r.status === 'failed' ? { message: r.error ?? 'delivery failed', at: r.at!.toISOString() } : null,
      })),
    };
  }));

  app.post('/channels/check', {
    onRequest: app.authorize('admin'),
    schema: {
      tags: ['channels'],
      summary: 'Test a mailbox before creating its channel: the settings are checked as on create, then the hub logs in to IMAP and SMTP (nothing is stored)',
      body: Type.Object({
        kind: Type.Literal('email'),
        externalKey: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
        config: Type.Record(Type.String(), Type.Unknown()),
        secrets: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 10_000 }))),
      }, { additionalProperties: false }),
      response: { 200: CheckResult },
    },
  }, async (req) => {
    const { kind, config, secrets } = req.body;
    const externalKey = req.body.externalKey ?? (typeof config.address === 'string' ? config.address : '');
    return check({ id: '00000000-0000-4000-8000-000000000000', accountId: req.principal.accountId, kind, externalKey, teamId: null, config, secrets: secrets ?? {} });
  });

  app.post('/channels/:id/check', {
    onRequest: app.authorize('admin'),
    schema: {
      tags: ['channels'],
      summary: 'Test a stored channel\'s connection with its stored settings and secrets',
      params: IdParams,
      response: { 200: CheckResult },
    },
  }, async (req) => {
    const installation = await withAccount(db, req.principal.accountId, (tx) => getInstallation(tx, box, req.params.id));
    if (!installation) throw notFound('channel');
    return check(installation);
  });
};

export default channelChecks;
