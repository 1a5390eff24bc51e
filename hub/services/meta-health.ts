import type { ChannelInstallation, Connector } from '../../connectors/core/types.js';
import { AuthError, ConnectorError } from '../../connectors/core/errors.js';
import { INSTALLATION_REMOVED } from '../../connectors/meta/graph.js';
import { withAccount } from '../../storage/session.js';
import { audit } from '../../storage/repositories/audit.js';
import type { Hub } from '../context.js';

/** Checkpoint key of a WhatsApp Cloud API or Messenger channel's link to Meta, which the admin console shows beside the channel. */
export const META_STATUS_KEY = 'meta:status';

/**
 * The hub's last word on a Meta channel: `disconnected` after Meta refused its token (190: expired or
 * revoked) or said its number or Page is gone, with a stable code, our own words and since when; `ok`
 * again after the next call Meta accepted.
 */
export type MetaChannelStatus =
  | { state: 'ok'; at: string }
  | { state: 'disconnected'; code: string; message: string; since: string; at: string };

/** Whether a failed call means the channel is cut off from Meta (not one message refused), in our words. */
export function metaDisconnection(kind: string, err: unknown): { code: string; message: string } | undefined {
  if (err instanceof AuthError)
    return { code: err.code, message: `Meta refused the channel's access token (expired or revoked); enter a new token in the channel's settings` };
  if (err instanceof ConnectorError && err.code === INSTALLATION_REMOVED)
    return {
      code: err.code,
      message: kind === 'messenger'
        ? 'Meta no longer knows this Page for the channel\'s token (the Page was removed or the app taken off it)'
        : 'Meta no longer knows this business number for the channel\'s token (the number was removed from the WhatsApp Business Account)',
    };
  return undefined;
}

/** How long a process trusts that a channel it saw working is not marked disconnected by another process. */
const KNOWN_OK_MS = 30_000;

/**
 * A Meta connector whose calls for a stored channel (sends, file fetches, read marks, hand-backs, checks)
 * keep that channel's link state: a disconnection is recorded once (state, code, since when; an audit
 * entry and a `channel.disconnected` event tell admins), and the next call Meta accepts clears it. The
 * connector itself stays a pure translator; everything else passes through unchanged.
 */
export function watchMetaHealth<C extends Connector>(hub: Pick<Hub, 'db' | 'bus' | 'log'>, connector: C): C {
  const known = new Map<string, { ok: boolean; at: number }>();

  const disconnected = async (channel: ChannelInstallation, d: { code: string; message: string }) => {
    known.set(channel.id, { ok: false, at: Date.now() });
    const at = new Date().toISOString();
    const first = await withAccount(hub.db, channel.accountId, async (tx) => {
      const current = (await tx.query<{ value: MetaChannelStatus }>(`SELECT value FROM channel_checkpoints WHERE channel_id = $1 AND key = $2 FOR UPDATE`, [channel.id, META_STATUS_KEY])).rows[0]?.value;
      const was = current?.state === 'disconnected' ? current : undefined;
      const next: MetaChannelStatus = { state: 'disconnected', code: d.code, message: d.message, since: was?.since ?? at, at };
      await tx.query(
        `INSERT INTO channel_checkpoints (account_id, channel_id, key, value) VALUES ($1, $2, $3, $4::jsonb)
         ON CONFLICT (channel_id, key) DO UPDATE SET value = excluded.value, updated_at = now()`,
        [channel.accountId, channel.id, META_STATUS_KEY, JSON.stringify(next)],
      );
      if (was) return false;
      await audit(tx, { accountId: channel.accountId, actorKind: 'system', actorId: null, action: 'channel.disconnected', targetKind: 'channel', targetId: channel.id, data: { kind: channel.kind, code: d.code } });
      return true;
    });
    if (!first) return;
    hub.bus.publish(channel.accountId, { type: 'channel.disconnected', channelId: channel.id, kind: channel.kind, reason: d.code });
    hub.log.warn({ channelId: channel.id, kind: channel.kind, code: d.code }, `${channel.kind}: channel disconnected from Meta; ${d.message}`);
  };

  const working = async (channel: ChannelInstallation) => {
    const seen = known.get(channel.id);
    if (seen?.ok && Date.now() - seen.at < KNOWN_OK_MS) return;
    const cleared = await withAccount(hub.db, channel.accountId, async (tx) => {
      const { rowCount } = await tx.query(
        `UPDATE channel_checkpoints SET value = jsonb_build_object('state', 'ok', 'at', $3::text), updated_at = now()
         WHERE channel_id = $1 AND key = $2 AND value->>'state' = 'disconnected'`,
        [channel.id, META_STATUS_KEY, new Date().toISOString()],
      );
      if (rowCount > 0) await audit(tx, { accountId: channel.accountId, actorKind: 'system', actorId: null, action: 'channel.reconnected', targetKind: 'channel', targetId: channel.id, data: { kind: channel.kind } });
      return rowCount > 0;
    });
    known.set(channel.id, { ok: true, at: Date.now() });
    if (cleared) hub.log.info({ channelId: channel.id, kind: channel.kind }, `${channel.kind}: Meta accepted a call again; the channel is connected`);
  };

  /** Runs one call for a stored channel and records what it says of the link; recording never changes the call's outcome. */
  const observe = async <T>(channel: ChannelInstallation, call: () => Promise<T>, refused?: (r: T) => unknown): Promise<T> => {
    let result: T;
    try {
      result = await call();
    } catch (err) {
      const d = metaDisconnection(channel.kind, err);
      if (d) await disconnected(channel, d).catch((e: unknown) => hub.log.error({ err: e, channelId: channel.id }, 'could not record the channel as disconnected'));
      throw err;
    }
    const failure = refused?.(result);
    const d = failure === undefined ? undefined : metaDisconnection(channel.kind, failure);
    await (d ? disconnected(channel, d) : failure === undefined ? working(channel) : Promise.resolve()).catch((e: unknown) =>
      hub.log.error({ err: e, channelId: channel.id }, 'could not record the channel\'s link state'),
    );
    return result;
  };

  // The connector's own methods and fields come through its prototype; only the calls about a stored channel are wrapped.
  const watched = Object.create(connector) as C;
  watched.send = (msg) => observe(msg.channel, () => connector.send(msg));
  watched.check = (channel) =>
    observe(channel, () => connector.check(channel), (r) => (r.ok ? undefined : r.code === 'channel_auth_failed' ? new AuthError(channel.kind, r.message) : r.code === INSTALLATION_REMOVED ? new ConnectorError(r.message, channel.kind, r.code) : null));
  if (connector.fetchAttachment) {
    const fetch = connector.fetchAttachment.bind(connector);
    watched.fetchAttachment = (channel, ref, opts) => observe(channel, () => fetch(channel, ref, opts));
  }
  if (connector.markRead) {
    const mark = connector.markRead.bind(connector);
    watched.markRead = (channel, externalId) => observe(channel, () => mark(channel, externalId));
  }
  if (connector.handBack) {
    const back = connector.handBack.bind(connector);
    watched.handBack = (channel, recipient, to) => observe(channel, () => back(channel, recipient, to));
  }
  return watched;
}
