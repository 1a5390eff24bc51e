import type { Logger } from 'pino';
import type { Database } from '../../storage/database.js';
import type { LocalBlobStore } from '../../storage/blob-store.js';
import { setAccount } from '../../storage/session.js';
import { deleteUnclaimedUploads, lockExpiredUploads, referencedBlobKeys } from '../../storage/repositories/uploads.js';
import type { Hub } from '../context.js';

export interface UploadSweepOptions {
  /** Uploads no message claimed are deleted once older than this. */
  retentionMs: number;
  /** Uploads per transaction. */
  batchSize?: number;
  /** Bytes written this recently are kept: the row that will name them may not be committed yet. */
  blobGraceMs?: number;
  now?: () => Date;
  /** Checked between batches, so a stopping process does not start another. */
  signal?: AbortSignal;
}

export interface SweepDeps {
  db: Database;
  blobs: LocalBlobStore;
  log: Logger;
  swept: { inc(n: number): void };
}

const HOUR = 3_600_000;

/**
 * Deletes expired unclaimed uploads of every account, a batch per transaction, then bytes nothing names,
 * then settles bytes an unfinished delete left aside.
 */
export async function sweepUploads(deps: SweepDeps, opts: UploadSweepOptions): Promise<{ uploads: number; blobs: number }> {
  const now = (opts.now ?? (() => new Date()))();
  const cutoff = new Date(now.getTime() - opts.retentionMs);
  const writtenBefore = new Date(now.getTime() - (opts.blobGraceMs ?? HOUR));
  const batchSize = opts.batchSize ?? 500;
  let uploads = 0;
  let blobs = 0;
  for (;;) {
    if (opts.signal?.aborted) break;
    const batch = await deps.db.transaction(async (tx) => {
      // Owner connection for the lock: the sweep belongs to no tenant and must see every account's rows.
      const expired = await lockExpiredUploads(tx, cutoff, batchSize);
      const byAccount = new Map<string, string[]>();
      for (const u of expired) byAccount.set(u.accountId, [...(byAccount.get(u.accountId) ?? []), u.id]);
      const keys: string[] = [];
      for (const [accountId, ids] of byAccount) {
        // Each delete runs as the row's tenant, so RLS still bounds what this transaction can remove.
        await setAccount(tx, accountId);
        keys.push(...(await deleteUnclaimedUploads(tx, ids)));
      }
      return { locked: expired.length, keys };
    });
    uploads += batch.keys.length;
    deps.swept.inc(batch.keys.length);
    blobs += await deleteUnnamedBlobs(deps, [...new Set(batch.keys)], writtenBefore);
    if (batch.locked < batchSize) break;
  }
  if (!opts.signal?.aborted) blobs += await settleAsideBlobs(deps, writtenBefore);
  if (uploads) deps.log.info({ uploads, blobs }, 'expired uploads swept');
  return { uploads, blobs };
}

/** After the deleting transaction committed, so the last sweep to commit sees every other's deletes. */
async function deleteUnnamedBlobs(deps: SweepDeps, keys: string[], writtenBefore: Date): Promise<number> {
  if (!keys.length) return 0;
  // Owner connection: bytes are shared by content across accounts, so a tenant's view would miss other accounts' rows.
  const named = await referencedBlobKeys(deps.db, keys);
  let deleted = 0;
  for (const key of keys) {
    if (named.has(key)) continue;
    try {
      if (await deps.blobs.delete(key, writtenBefore)) deleted++;
    } catch (err) {
      deps.log.warn({ err, blobKey: key }, 'bytes of a swept upload could not be deleted');
    }
  }
  return deleted;
}

/**
 * A process that stopped inside a blob delete left its bytes aside: put them back when a row names
 * them (a put() the delete saw in the mtime had its row committed), else delete them once as old as
 * any unnamed bytes. Deletes in flight in other processes are listed too, and settle the same way.
 * Returns how many it deleted.
 */
async function settleAsideBlobs(deps: SweepDeps, writtenBefore: Date): Promise<number> {
  const aside = await deps.blobs.listAside();
  if (!aside.length) return 0;
  const named = await referencedBlobKeys(deps.db, [...new Set(aside.map((a) => a.key))]);
  let restored = 0;
  let deleted = 0;
  for (const blob of aside) {
    try {
      if (named.has(blob.key)) {
        if (await deps.blobs.restoreAside(blob)) restored++;
      } else if (blob.writtenAt < writtenBefore && (await deps.blobs.removeAside(blob))) deleted++;
    } catch (err) {
      deps.log.warn({ err, blobKey: blob.key }, 'bytes left aside by an unfinished delete could not be settled');
    }
  }
  if (restored || deleted) deps.log.info({ restored, deleted }, 'bytes left aside by an unfinished delete settled');
  return deleted;
}

export interface UploadSweep {
  /** Runs one sweep now (or joins the one running). */
  run(): Promise<void>;
  /** Stops the timer and waits for a sweep in flight. */
  stop(): Promise<void>;
}

/** Sweeps at start and then every `intervalMs` in a process that runs jobs; sweeps in other processes skip its rows. */
export function startUploadSweep(
  hub: Pick<Hub, 'db' | 'blobs' | 'log' | 'metrics' | 'config'>,
  opts: Partial<UploadSweepOptions> & { intervalMs?: number } = {},
): UploadSweep {
  const controller = new AbortController();
  const deps: SweepDeps = { db: hub.db, blobs: hub.blobs, log: hub.log, swept: hub.metrics.uploadsSwept };
  const options: UploadSweepOptions = { retentionMs: hub.config.uploadRetentionHours * HOUR, ...opts, signal: controller.signal };
  let running: Promise<void> | undefined;
  const run = () =>
    (running ??= sweepUploads(deps, options)
      .then(
        () => undefined,
        (err: unknown) => hub.log.error({ err }, 'upload sweep failed; the next one retries'),
      )
      .finally(() => (running = undefined)));
  void run();
  const timer = setInterval(() => void run(), opts.intervalMs ?? 15 * 60_000);
  timer.unref();
  return {
    run,
    async stop() {
      controller.abort();
      clearInterval(timer);
      await running;
    },
  };
}
