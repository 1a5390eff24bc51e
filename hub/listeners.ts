import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Counter } from 'prom-client';
import type { ChannelInstallation, CheckpointStore, ChannelKind, InboundEvent } from '../connectors/core/types.js';
import { getInstallation } from '../storage/repositories/channels.js';
import { withAccount } from '../storage/session.js';
import type { Hub } from './context.js';

/** The long-lived inbound side: one `connector.listen()` per enabled channel whose connector has one. */
export interface Listeners {
  /** Starts listeners for channels added or enabled since the last call, stops those disabled or removed. */
  refresh(): Promise<void>;
  /** Channel ids being listened to. */
  running(): string[];
  stop(): Promise<void>;
}

/** A checkpoint store on channel_checkpoints, one tenant transaction per read or write. */
export function checkpointStore(hub: Pick<Hub, 'db'>, accountId: string, channelId: string): CheckpointStore {
  return {
    async get(key) {
      const { rows } = await withAccount(hub.db, accountId, (tx) => tx.query<{ value: unknown }>(`SELECT value FROM channel_checkpoints WHERE channel_id = $1 AND key = $2`, [channelId, key]));
      return rows[0]?.value;
    },
    async set(key, value) {
      await withAccount(hub.db, accountId, (tx) =>
        tx.query(
          `INSERT INTO channel_checkpoints (account_id, channel_id, key, value) VALUES ($1, $2, $3, $4::jsonb)
           ON CONFLICT (channel_id, key) DO UPDATE SET value = excluded.value, updated_at = now()`,
          [accountId, channelId, key, JSON.stringify(value)],
        ),
      );
    },
  };
}

/** Messages stored only as their raw original (unreadable, or refused by the store too often). */
function keptRawCounter(hub: Hub): Counter<'kind' | 'code'> {
  const name = 'hummdesk_messages_kept_raw_total';
  return (hub.metrics.registry.getSingleMetric(name) as Counter<'kind' | 'code'> | undefined) ??
    new Counter({ name, help: 'Inbound messages kept raw instead of parsed, by channel kind and reason code', labelNames: ['kind', 'code'] as const, registers: [hub.metrics.registry] });
}

const LEASE_KEY = 'listener:lease';

/**
 * One process listens per channel: a lease row in channel_checkpoints, renewed while it listens and
 * taken over by another hub once it has expired (its holder died). Times are the database's, so
 * hub clocks need not agree. Returns whether `owner` holds the lease now.
 */
export async function claimLease(hub: Pick<Hub, 'db'>, accountId: string, channelId: string, owner: string, leaseMs: number): Promise<boolean> {
  const { rows } = await withAccount(hub.db, accountId, (tx) =>
    tx.query(
      `INSERT INTO channel_checkpoints (account_id, channel_id, key, value)
       VALUES ($1, $2, $3, jsonb_build_object('owner', $4::text, 'expiresAt', clock_timestamp() + make_interval(secs => $5::float8 / 1000)))
       ON CONFLICT (channel_id, key) DO UPDATE SET value = excluded.value, updated_at = now()
         WHERE channel_checkpoints.value->>'owner' = $4 OR (channel_checkpoints.value->>'expiresAt')::timestamptz < clock_timestamp()
       RETURNING 1`,
      [accountId, channelId, LEASE_KEY, owner, leaseMs],
    ),
  );
  return rows.length > 0;
}

export async function releaseLease(hub: Pick<Hub, 'db'>, accountId: string, channelId: string, owner: string): Promise<void> {
  await withAccount(hub.db, accountId, (tx) => tx.query(`DELETE FROM channel_checkpoints WHERE channel_id = $1 AND key = $2 AND value->>'owner' = $3`, [channelId, LEASE_KEY, owner]));
}

export interface ListenerOptions {
  /** How often channels are rescanned: new or enabled ones start, and expired leases are taken over. */
  rescanMs?: number;
  /** How long a listener's claim on its channel lasts without renewal (renewed every third of it). */
  leaseMs?: number;
}

export function startListeners(hub: Hub, opts: ListenerOptions = {}): Listeners {
  const keptRaw = keptRawCounter(hub);
  const leaseMs = opts.leaseMs ?? 30_000;
  const owner = `${hostname()}/${process.pid}/${randomUUID()}`;
  const active = new Map<string, { controller: AbortController; done: Promise<void> }>();
  let stopped = false;
  let refreshing: Promise<void> = Promise.resolve();

  const launch = (channel: ChannelInstallation) => {
    const connector = hub.connectors.get(channel.kind);
    if (!connector?.listen) return;
    const controller = new AbortController();
    const emit = async (events: InboundEvent[]) => {
      await hub.ingest.ingest(channel, events);
      for (const e of events) {
        // Ignored mail (a report no signed return path vouches for, a complaint) stays in the mailbox; the operator sees why.
        if (e.type === 'ignored') hub.log.info({ channelId: channel.id, reason: e.reason }, 'inbound event ignored');
        if (e.type !== 'message' || !e.message.keptRaw) continue;
        const { code, reason } = e.message.keptRaw;
        keptRaw.inc({ kind: channel.kind, code });
        hub.log.warn({ channelId: channel.id, externalId: e.message.externalId, code, reason }, 'message kept raw');
      }
    };
    let renewedAt = Date.now();
    const renew = setInterval(() => {
      claimLease(hub, channel.accountId, channel.id, owner, leaseMs).then(
        (held) => {
          if (held) renewedAt = Date.now();
          else {
            hub.log.warn({ channelId: channel.id }, 'channel listener lease taken over; stopping here');
            controller.abort();
          }
        },
        (err: unknown) => {
          // Cannot tell whether another hub has it: stop before the lease can have expired.
          if (Date.now() - renewedAt > (leaseMs * 2) / 3) {
            hub.log.warn({ err, channelId: channel.id }, 'channel listener lease not renewed; stopping here');
            controller.abort();
          }
        },
      );
    }, leaseMs / 3);
    const done = connector
      .listen(channel, emit, checkpointStore(hub, channel.accountId, channel.id), controller.signal)
      .catch((err: unknown) => hub.log.error({ err, channelId: channel.id }, 'channel listener stopped'))
      .finally(async () => {
        clearInterval(renew);
        if (active.get(channel.id)?.controller === controller) active.delete(channel.id);
        await releaseLease(hub, channel.accountId, channel.id, owner).catch(() => undefined);
      });
    active.set(channel.id, { controller, done });
    hub.log.info({ channelId: channel.id, kind: channel.kind }, 'channel listener started');
  };

  const scan = async () => {
    const kinds = [...hub.connectors.values()].filter((c) => c.listen).map((c) => c.kind) as ChannelKind[];
    // The one cross-tenant read: which channels exist; each installation is then read as its tenant.
    const { rows } = await hub.db.query<{ id: string; accountId: string }>(
      `SELECT id, account_id AS "accountId" FROM channels WHERE enabled AND kind = ANY($1::text[])`,
      [kinds],
    );
    const wanted = new Set(rows.map((r) => r.id));
    for (const [id, l] of active) if (!wanted.has(id)) l.controller.abort();
    for (const r of rows) {
      if (stopped || active.has(r.id)) continue;
      if (!(await claimLease(hub, r.accountId, r.id, owner, leaseMs))) continue;
      const installation = await withAccount(hub.db, r.accountId, (tx) => getInstallation(tx, hub.box, r.id));
      if (installation) launch(installation);
      else await releaseLease(hub, r.accountId, r.id, owner);
    }
  };

  const refresh = () => (refreshing = refreshing.then(scan, scan).catch((err: unknown) => hub.log.error({ err }, 'listener scan failed')));
  void refresh();
  const timer = setInterval(() => void refresh(), opts.rescanMs ?? 30_000);
  timer.unref();

  return {
    refresh,
    running: () => [...active.keys()],
    async stop() {
      stopped = true;
      clearInterval(timer);
      await refreshing;
      const all = [...active.values()];
      for (const l of all) l.controller.abort();
      await Promise.all(all.map((l) => l.done));
    },
  };
}
