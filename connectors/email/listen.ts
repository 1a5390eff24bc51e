import type { ImapFlow, MailboxObject } from 'imapflow';
import type { ChannelInstallation, CheckpointStore, InboundEvent } from '../core/types.js';
import { mailboxConfig } from './config.js';
import { imapClient } from './imap.js';
import { parseEmail, type EmailParseOptions } from './parse.js';

/** Where a folder has been read up to; only valid for the UIDVALIDITY it was taken under. */
export interface FolderCheckpoint {
  uidValidity: string;
  lastUid: number;
}

export interface ListenOptions {
  /** Delay before reconnect attempt `n` (0-based); exponential with a cap by default. */
  backoff?: (attempt: number) => number;
  /** Messages per emit (one ingest transaction). */
  batchSize?: number;
  /** Overrides the channel's poll interval: the safety net under IDLE, and the only way on servers without it. */
  pollMs?: number;
  /** Told about each connection failure; the listener itself never gives up until aborted. */
  onError?: (err: unknown, attempt: number) => void;
  parse?: Partial<EmailParseOptions>;
}

export const defaultBackoff = (attempt: number): number => Math.min(60_000, 1000 * 2 ** attempt) * (0.75 + Math.random() * 0.5);

/**
 * Follows one IMAP folder until `signal` aborts: IDLE for new mail (a poll as fallback), every
 * message parsed and emitted in UID order, the checkpoint advanced only after emit resolved, i.e.
 * after the hub committed. After any disconnect it reconnects with backoff and resumes from the
 * checkpoint; a new UIDVALIDITY re-reads the folder, which ingest dedupes by Message-ID.
 */
export async function listenMailbox(
  channel: ChannelInstallation,
  emit: (events: InboundEvent[]) => Promise<void>,
  checkpoint: CheckpointStore,
  signal: AbortSignal,
  opts: ListenOptions = {},
): Promise<void> {
  const cfg = mailboxConfig(channel);
  if (!cfg.imap) throw new Error(`email channel ${channel.id} has no IMAP server configured`);
  const imap = cfg.imap;
  const backoff = opts.backoff ?? defaultBackoff;
  const pollMs = opts.pollMs ?? imap.pollMs;
  const key = `imap:${imap.folder}`;
  let attempt = 0;
  while (!signal.aborted) {
    const client = imapClient(imap, { disableAutoIdle: true });
    let wake = () => {};
    client.on('exists', () => wake());
    client.on('error', () => wake());
    client.on('close', () => wake());
    const onAbort = () => wake();
    signal.addEventListener('abort', onAbort);
    try {
      await client.connect();
      const lock = await client.getMailboxLock(imap.folder);
      try {
        for (;;) {
          await syncFolder(client, channel, cfg.address, key, emit, checkpoint, signal, opts);
          attempt = 0;
          if (signal.aborted) break;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, pollMs);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
            if (!client.usable || signal.aborted) wake();
            // IDLE until new mail or the poll; our next command (NOOP) ends it. Servers without
            // IDLE get imapflow's fallback (missingIdleCommand), and the poll covers the rest.
            else void client.idle().catch(() => wake());
          });
          wake = () => {};
          if (signal.aborted) break;
          if (!client.usable) throw new Error('IMAP connection closed');
        }
      } finally {
        if (client.usable) lock.release();
      }
    } catch (err) {
      if (!signal.aborted) opts.onError?.(err, attempt);
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (client.usable) await client.logout().catch(() => client.close());
      else client.close();
    }
    if (signal.aborted) break;
    await sleep(backoff(attempt++), signal);
  }
}

async function syncFolder(
  client: ImapFlow,
  channel: ChannelInstallation,
  mailbox: string,
  key: string,
  emit: (events: InboundEvent[]) => Promise<void>,
  checkpoint: CheckpointStore,
  signal: AbortSignal,
  opts: ListenOptions,
): Promise<void> {
  const box = client.mailbox as MailboxObject;
  const uidValidity = String(box.uidValidity);
  const saved = (await checkpoint.get(key)) as FolderCheckpoint | undefined;
  let lastUid = saved && saved.uidValidity === uidValidity ? saved.lastUid : 0;
  // NOOP first: it ends IDLE and brings the client's view of the folder (EXISTS) up to date.
  await client.noop();
  // `N:*` always includes the highest UID, even when it is below N.
  const uids = ((await client.search({ uid: `${lastUid + 1}:*` }, { uid: true })) || []).filter((u) => u > lastUid).sort((a, b) => a - b);
  const batchSize = opts.batchSize ?? 25;
  for (let i = 0; i < uids.length && !signal.aborted; i += batchSize) {
    const batch = uids.slice(i, i + batchSize);
    const fetched: { uid: number; source: Buffer; internalDate?: Date }[] = [];
    for await (const m of client.fetch(batch.join(','), { uid: true, source: true, internalDate: true }, { uid: true })) {
      if (m.source) fetched.push({ uid: m.uid, source: m.source, internalDate: m.internalDate instanceof Date ? m.internalDate : undefined });
    }
    fetched.sort((a, b) => a.uid - b.uid);
    const events: InboundEvent[] = [];
    for (const m of fetched) {
      const parsed = await parseEmail(m.source, { channelId: channel.id, mailbox, receivedAt: m.internalDate, sourceRef: `imap:${key.slice(5)}/${uidValidity}/${m.uid}`, ...opts.parse });
      events.push(parsed.event);
    }
    if (events.length > 0) await emit(events);
    lastUid = batch[batch.length - 1]!;
    await checkpoint.set(key, { uidValidity, lastUid } satisfies FolderCheckpoint);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
