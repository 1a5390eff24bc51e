import type { ChannelInstallation, CheckpointStore, ChannelKind } from '../connectors/core/types.js';
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
export function checkpointStore(hub: Hub, accountId: string, channelId: string): CheckpointStore {
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

export function startListeners(hub: Hub, opts: { rescanMs?: number } = {}): Listeners {
  const active = new Map<string, { controller: AbortController; done: Promise<void> }>();
  let stopped = false;
  let refreshing: Promise<void> = Promise.resolve();

  const launch = (channel: ChannelInstallation) => {
    const connector = hub.connectors.get(channel.kind);
    if (!connector?.listen) return;
    const controller = new AbortController();
    const emit = async (events: Parameters<Parameters<NonNullable<typeof connector.listen>>[1]>[0]) => {
      await hub.ingest.ingest(channel, events);
    };
    const done = connector
      .listen(channel, emit, checkpointStore(hub, channel.accountId, channel.id), controller.signal)
      .catch((err: unknown) => hub.log.error({ err, channelId: channel.id }, 'channel listener stopped'))
      .finally(() => {
        if (active.get(channel.id)?.controller === controller) active.delete(channel.id);
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
      const installation = await withAccount(hub.db, r.accountId, (tx) => getInstallation(tx, hub.box, r.id));
      if (installation) launch(installation);
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
