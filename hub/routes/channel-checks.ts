import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import type { ChannelInstallation } from '../../connectors/core/types.js';
import { ConnectorError } from '../../connectors/core/errors.js';
import { validateMailbox } from '../../connectors/email/config.js';
import { IMAP_STATUS_KEY, type MailboxStatus } from '../../connectors/email/listen.js';
import { LINK_KEY, type LinkRecord } from '../../connectors/whatsapp/web/session.js';
import { META_STATUS_KEY, type MetaChannelStatus } from '../services/meta-health.js';
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
  state: Type.Union([Type.Literal('active'), Type.Literal('disabled'), Type.Literal('failing'), Type.Literal('disconnected')], {
    description: 'disconnected: the workspace removed the app (Slack, Teams), the linked phone is off (WhatsApp Web), or Meta refused '
      + 'the access token (expired or revoked) or no longer knows the number or Page (WhatsApp Cloud API, Messenger) until a call succeeds again; '
      + 'failing: the mailbox cannot be logged in to or polled, or the latest delivery in the last week failed',
  }),
  lastError: Nullable(Type.Object({
    code: Type.Optional(Type.String({ description: 'a stable code when there is one (channel_auth_failed, app_uninstalled, whatsapp_web_disconnected…)' })),
    message: Type.String(),
    at: Type.String({ description: 'when it last happened' }),
  })),
  since: Nullable(Type.String({ description: 'since when the channel has been failing or disconnected (null when active or disabled)' })),
});

/** What an installation's own record says of a removal (Slack, Teams), in our words. */
const DISCONNECTED: Record<string, string> = {
  app_uninstalled: 'the app was uninstalled from the workspace; install it again to reconnect',
  tokens_revoked: 'the workspace revoked the app\'s tokens; install it again to reconnect',
  roster_refused: 'Teams refused the team\'s roster: the app is no longer in the team; add it again to reconnect',
};

/** How long a failed delivery keeps marking its channel as failing, unless a later one succeeded. */
const RECENT_DAYS = 7;

type Row = {
  id: string; enabled: boolean; status: string | null; error: string | null; at: Date | null;
  disconnected: { reason?: string; at?: string } | null; mailbox: MailboxStatus | null; link: LinkRecord | null; meta: MetaChannelStatus | null;
};

/** One channel's state: a removal first, then disabled, a failing mailbox, a linked phone that is off, a Meta channel cut off, the last delivery. */
function channelStatus(r: Row): Static<typeof ChannelStatus> {
  const channelId = r.id;
  if (r.disconnected) {
    const reason = String(r.disconnected.reason ?? 'disconnected');
    const at = String(r.disconnected.at ?? '');
    return { channelId, state: 'disconnected', lastError: { code: reason, message: DISCONNECTED[reason] ?? `disconnected (${reason})`, at }, since: at };
  }
  if (!r.enabled) return { channelId, state: 'disabled', lastError: null, since: null };
  if (r.mailbox?.state === 'failing') {
    const m = r.mailbox;
    return { channelId, state: 'failing', lastError: { code: m.code, message: m.message, at: m.at }, since: m.since };
  }
  if (r.link && (r.link.state === 'disconnected' || r.link.state === 'logged_out')) {
    const at = r.link.updatedAt;
    return {
      channelId, state: 'disconnected',
      lastError: { ...(r.link.code ? { code: r.link.code } : {}), message: r.link.reason ?? `the linked phone is ${r.link.state.replace('_', ' ')}`, at },
      since: at,
    };
  }
  if (r.meta?.state === 'disconnected') {
    const m = r.meta;
    return { channelId, state: 'disconnected', lastError: { code: m.code, message: m.message, at: m.at }, since: m.since };
  }
  if (r.status === 'failed') {
    const at = r.at!.toISOString();
    return { channelId, state: 'failing', lastError: { message: r.error ?? 'delivery failed', at }, since: at };
  }
  return { channelId, state: 'active', lastError: null, since: null };
}

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
      summary: 'Each channel\'s state with its last error and since when: disconnected (the app was removed, the linked phone is off, Meta refused the token or lost the number or Page), disabled, failing (the mailbox login or poll fails, or the latest delivery in the last week failed) or active',
      response: { 200: Type.Object({ items: Type.Array(ChannelStatus) }) },
    },
  }, async (req) => withAccount(db, req.principal.accountId, async (tx) => {
    const { rows } = await tx.query<Row>(
      `SELECT ch.id, ch.enabled, last.delivery_status AS status, last.delivery_error AS error, last.created_at AS at,
              CASE WHEN jsonb_typeof(ch.config->'disconnected') = 'object' THEN ch.config->'disconnected' END AS disconnected,
              (SELECT value FROM channel_checkpoints WHERE channel_id = ch.id AND key = $2) AS mailbox,
              (SELECT value FROM channel_checkpoints
                WHERE channel_id = ch.id AND key = $3 AND ch.kind = 'whatsapp-web') AS link,
              (SELECT value FROM channel_checkpoints
                WHERE channel_id = ch.id AND key = $4 AND ch.kind IN ('whatsapp', 'messenger')) AS meta
         FROM channels ch
         LEFT JOIN LATERAL (
           SELECT m.delivery_status, m.delivery_error, m.created_at
             FROM conversations c JOIN messages m ON m.conversation_id = c.id
            WHERE c.channel_id = ch.id AND m.direction = 'outbound'
              AND m.delivery_status IN ('sent', 'delivered', 'read', 'failed')
              AND m.created_at > now() - make_interval(days => $1)
            ORDER BY m.created_at DESC LIMIT 1) last ON true
        ORDER BY ch.created_at, ch.id`,
      [RECENT_DAYS, IMAP_STATUS_KEY, LINK_KEY, META_STATUS_KEY],
    );
    return { items: rows.map(channelStatus) };
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
