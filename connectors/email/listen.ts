import type { ImapFlow, MailboxObject } from 'imapflow';
import type { ChannelInstallation, CheckpointStore, InboundEvent } from '../core/types.js';
import { ConnectorError } from '../core/errors.js';
import { mailboxConfig, type ProcessedAction, type ServerConfig } from './config.js';
import { EgressGuard } from '../core/egress.js';
import { imapClient } from './imap.js';
import { keptRawEmail, parseEmail, PARSE_DEFAULTS, tooLargeEmail, type EmailParseOptions } from './parse.js';

/** Where a folder has been read up to; only valid for the UIDVALIDITY it was taken under. */
export interface FolderCheckpoint {
  uidValidity: string;
  lastUid: number;
  /** The message after lastUid whose ingest has been failing, and how often it failed so far. */
  failing?: { uid: number; attempts: number; error: string };
}

/** Checkpoint key of the mailbox's connection state, which the admin console shows beside the channel. */
export const IMAP_STATUS_KEY = 'imap:status';

/**
 * The listener's last word on its mailbox: `ok` after a sync, `failing` after a failed login, connection or
 * poll (a stable code and our own words, never the server's text), `since` the first failure in a row.
 */
export type MailboxStatus =
  | { state: 'ok'; at: string }
  | { state: 'failing'; code: string; message: string; since: string; at: string };

/** Why an IMAP connection or poll failed, as a code and our own words (the server's text can carry anything). */
export function describeImapFailure(err: unknown, s: Pick<ServerConfig, 'host' | 'port'> & { folder: string }): { code: string; message: string } {
  if (err instanceof ConnectorError) return { code: err.code, message: err.message };
  const e = (err ?? {}) as { authenticationFailed?: boolean; code?: string; mailboxMissing?: boolean; serverResponseCode?: string };
  if (e.authenticationFailed) return { code: 'channel_auth_failed', message: `channel_auth_failed: the IMAP server ${s.host}:${s.port} refused the login` };
  if (e.mailboxMissing || e.serverResponseCode === 'NONEXISTENT')
    return { code: 'mail_folder_missing', message: `mail_folder_missing: the IMAP server ${s.host}:${s.port} has no folder "${s.folder}"` };
  if (e.code && /^(E[A-Z]+|ERR_TLS|CERT_|DEPTH_|UNABLE_TO|SELF_SIGNED)/.test(e.code) && e.code !== 'EPROTOCOL')
    return { code: 'mail_connect_failed', message: `mail_connect_failed: could not connect to the IMAP server ${s.host}:${s.port} (${e.code})` };
  return { code: 'mail_poll_failed', message: `mail_poll_failed: the connection to the IMAP server ${s.host}:${s.port} failed; reconnecting` };
}

export interface ListenOptions {
  /** Delay before reconnect attempt `n` (0-based); exponential with a cap by default. */
  backoff?: (attempt: number) => number;
  /** Messages per emit (one ingest transaction). */
  batchSize?: number;
  /**
   * Bytes fetched per batch (sizes are read first): messages are grouped up to this total, so a
   * larger one is fetched on its own. Messages above `parse.maxMessageBytes` are not fetched at all.
   */
  batchBytes?: number;
  /** Checks the IMAP server before every connection; strict (public hosts, ports 143/993) when absent. */
  egress?: EgressGuard;
  /** Overrides the channel's poll interval: the safety net under IDLE, and the only way on servers without it. */
  pollMs?: number;
  /** Told about each connection failure; the listener itself never gives up until aborted. */
  onError?: (err: unknown, attempt: number) => void;
  parse?: Partial<EmailParseOptions>;
  /**
   * Failed ingests of one message (one per reconnect cycle) before it is kept raw instead, so it
   * cannot block the mailbox forever. Default 5.
   */
  maxIngestAttempts?: number;
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
  opts = { ...opts, parse: { authservId: cfg.authservId, ...opts.parse } };
  const imap = cfg.imap;
  const backoff = opts.backoff ?? defaultBackoff;
  const pollMs = opts.pollMs ?? imap.pollMs;
  const key = `imap:${imap.folder}`;
  const egress = opts.egress ?? new EgressGuard();
  const maxMessageBytes = opts.parse?.maxMessageBytes ?? PARSE_DEFAULTS.maxMessageBytes;
  // The stored status, read once; written when it changes (and on every failure, for its time).
  let known: MailboxStatus | null | undefined;
  const report = async (err: unknown | null) => {
    if (signal.aborted) return;
    try {
      known ??= ((await checkpoint.get(IMAP_STATUS_KEY)) as MailboxStatus | undefined) ?? null;
      if (err === null && known?.state !== 'failing') return;
      const at = new Date().toISOString();
      const next: MailboxStatus = err === null
        ? { state: 'ok', at }
        : { state: 'failing', ...describeImapFailure(err, imap), since: known?.state === 'failing' ? known.since : at, at };
      await checkpoint.set(IMAP_STATUS_KEY, next);
      known = next;
    } catch {
      // The store is unreachable too: the next failure or sync writes the status.
    }
  };
  let attempt = 0;
  while (!signal.aborted) {
    let client: ImapFlow;
    try {
      // Checked before every connection: the name may resolve elsewhere by now.
      client = await imapClient(imap, egress, { disableAutoIdle: true, maxLiteralSize: maxMessageBytes + 256 * 1024 });
    } catch (err) {
      if (!signal.aborted) opts.onError?.(err, attempt);
      await report(err);
      await sleep(backoff(attempt++), signal);
      continue;
    }
    let wake = () => {};
    // New mail announced while we were busy syncing (not idling) must not wait for the next poll.
    let announced = false;
    client.on('exists', () => {
      announced = true;
      wake();
    });
    client.on('error', () => wake());
    client.on('close', () => wake());
    const onAbort = () => wake();
    signal.addEventListener('abort', onAbort);
    try {
      await client.connect();
      const processed = imap.processed;
      if (processed && 'moveTo' in processed) {
        // A missing target would fail every move after the ingest; create it up front instead.
        await client.mailboxCreate(processed.moveTo).catch((err: { serverResponseCode?: string }) => {
          if (err.serverResponseCode !== 'ALREADYEXISTS') throw err;
        });
      }
      const lock = await client.getMailboxLock(imap.folder);
      try {
        for (;;) {
          announced = false;
          await syncFolder(client, channel, cfg.address, key, emit, checkpoint, signal, opts, processed);
          attempt = 0;
          await report(null);
          if (signal.aborted) break;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, pollMs);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
            if (!client.usable || signal.aborted || announced) wake();
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
      await report(err);
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
  processed: ProcessedAction | undefined,
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
  const batchBytes = opts.batchBytes ?? 8 * 1024 * 1024;
  const maxMessageBytes = opts.parse?.maxMessageBytes ?? PARSE_DEFAULTS.maxMessageBytes;
  // Sizes first (RFC822.SIZE): what is fetched together is bounded in bytes, not only in count.
  const sizes = new Map<number, number>();
  if (uids.length > 0) for await (const m of client.fetch(`${lastUid + 1}:*`, { uid: true, size: true }, { uid: true })) if (m.uid > lastUid) sizes.set(m.uid, m.size ?? 0);
  const batches: number[][] = [];
  let bytes = 0;
  for (const uid of uids) {
    const size = sizes.get(uid) ?? 0;
    const cost = size > maxMessageBytes ? 0 : size;
    const open = batches.at(-1);
    if (open && open.length < batchSize && bytes + cost <= batchBytes) {
      open.push(uid);
      bytes += cost;
    } else {
      batches.push([uid]);
      bytes = cost;
    }
  }
  for (const batch of batches) {
    if (signal.aborted) break;
    const fetched: Fetched[] = [];
    const parseOptsOf = (uid: number, internalDate: unknown) => ({ channelId: channel.id, mailbox, receivedAt: internalDate instanceof Date ? internalDate : undefined, sourceRef: `imap:${key.slice(5)}/${uidValidity}/${uid}`, ...opts.parse });
    const whole = batch.filter((u) => (sizes.get(u) ?? 0) <= maxMessageBytes);
    const tooLarge = batch.filter((u) => (sizes.get(u) ?? 0) > maxMessageBytes);
    if (whole.length > 0)
      for await (const m of client.fetch(whole.join(','), { uid: true, source: true, internalDate: true }, { uid: true }))
        if (m.source) fetched.push({ uid: m.uid, source: m.source, parseOpts: parseOptsOf(m.uid, m.internalDate) });
    for (const m of fetched) m.event = (await parseEmail(m.source, m.parseOpts)).event;
    if (tooLarge.length > 0)
      // Only the head (64 KB) of a message over the limit: its sender, subject and thread, never its body.
      for await (const m of client.fetch(tooLarge.join(','), { uid: true, source: { start: 0, maxLength: 64 * 1024 }, internalDate: true }, { uid: true })) {
        const parseOpts = parseOptsOf(m.uid, m.internalDate);
        const head = m.source ?? Buffer.alloc(0);
        fetched.push({ uid: m.uid, source: head, parseOpts, event: tooLargeEmail(head, sizes.get(m.uid)!, { ...parseOpts, location: `folder "${key.slice(5)}" (UID ${m.uid})` }).event });
      }
    fetched.sort((a, b) => a.uid - b.uid);
    try {
      if (fetched.length > 0) await emit(fetched.map((m) => m.event!));
    } catch (err) {
      if (signal.aborted) throw err;
      // One at a time, so a message that cannot be stored holds back neither the rest of its batch
      // nor, after maxIngestAttempts, the mailbox.
      for (const m of fetched) {
        await emitOne(m, emit, checkpoint, key, uidValidity, lastUid, opts.maxIngestAttempts ?? 5);
        lastUid = m.uid;
        await checkpoint.set(key, { uidValidity, lastUid } satisfies FolderCheckpoint);
      }
    }
    // Only now that the batch is committed; before the checkpoint, so a lost connection retries it.
    if (processed && 'flag' in processed) await client.messageFlagsAdd(batch, [processed.flag], { uid: true });
    else if (processed) await client.messageMove(batch, processed.moveTo, { uid: true });
    lastUid = batch[batch.length - 1]!;
    await checkpoint.set(key, { uidValidity, lastUid } satisfies FolderCheckpoint);
  }
}

interface Fetched {
  uid: number;
  source: Buffer;
  parseOpts: EmailParseOptions;
  event?: InboundEvent;
}

/**
 * Emits one message; on failure counts the attempt in the checkpoint and rethrows (the listener
 * reconnects with backoff). From the last allowed attempt on, a failure is followed by the message
 * kept raw with the reason: if that stores, the message itself was the problem and the folder moves
 * on; if it fails too, the store is down and nothing advances.
 */
async function emitOne(
  m: Fetched,
  emit: (events: InboundEvent[]) => Promise<void>,
  checkpoint: CheckpointStore,
  key: string,
  uidValidity: string,
  lastUid: number,
  maxAttempts: number,
): Promise<void> {
  try {
    await emit([m.event!]);
    return;
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    const saved = (await checkpoint.get(key)) as FolderCheckpoint | undefined;
    const attempts = (saved?.uidValidity === uidValidity && saved.failing?.uid === m.uid ? saved.failing.attempts : 0) + 1;
    if (attempts < maxAttempts) {
      await checkpoint.set(key, { uidValidity, lastUid, failing: { uid: m.uid, attempts, error } } satisfies FolderCheckpoint);
      throw err;
    }
    await emit([keptRawEmail(m.source, m.parseOpts, `ingest failed ${attempts} times: ${error}`, 'ingest_failed').event]);
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
