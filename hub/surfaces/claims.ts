import type { Queryable } from '../../storage/database.js';

/**
 * One sync of a conversation per surface at a time, without holding a transaction (or a lock) over
 * the platform calls: a lease row in surface_syncs. A sync asked for while another runs marks the row
 * dirty and returns; the running one goes round once more when it finishes, so queued syncs of one
 * conversation collapse into one run. The owner is the job's id: a job retried after its process died
 * takes its own lease back at once; any other waits for the lease to run out.
 *
 * Before that, requests collapse at enqueue (migration 290): a request written while the conversation's
 * sync job is queued and has not started is absorbed by it (no job of its own). A job starts when it
 * claims; a job given up for now (rate limit, busy channel) takes the mark back, so it absorbs again.
 */

export type SurfaceName = 'slack' | 'teams';

/** Longer than any sync: a sync never waits long for the platform (it reschedules itself instead). */
export const SYNC_LEASE_MS = 5 * 60_000;

export interface SyncKey {
  accountId: string;
  conversationId: string;
  surface: SurfaceName;
  owner: string;
  /** The queue job running the sync (its outbox id): the one later requests were absorbed by, until it claims. */
  job?: string;
}

/**
 * True when this owner now runs the conversation's sync; false when another does (marked dirty for it);
 * 'covered' when a finished sync already read every request so far (numbered, migration 220): `seq` is this
 * job's own number, and requests absorbed by it or numbered since count too, so a job that comes back after a
 * round of it was given up (with its own number long read) still runs for what that round was to mirror.
 * Claiming starts the job: requests from now on queue a job of their own (or the running sync goes round
 * again for them); the request row is locked while clearing it, so this transaction's read sees every request
 * the job absorbed.
 */
export async function claimSync(tx: Queryable, k: SyncKey, leaseMs = SYNC_LEASE_MS, seq?: number): Promise<boolean | 'covered'> {
  const { rows } = await tx.query<{ mine: boolean }>(
    `WITH started AS (
       UPDATE surface_sync_requests SET queued_job = NULL, queued_at = NULL WHERE conversation_id = $2 AND queued_job = $7::bigint RETURNING seq
     )
     INSERT INTO surface_syncs AS s (account_id, conversation_id, surface, owner, lease_until)
     VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::double precision / 1000))
     ON CONFLICT (conversation_id, surface) DO UPDATE SET
       owner = CASE WHEN s.owner IS NULL OR s.owner = EXCLUDED.owner OR s.lease_until < now() THEN EXCLUDED.owner ELSE s.owner END,
       lease_until = CASE WHEN s.owner IS NULL OR s.owner = EXCLUDED.owner OR s.lease_until < now() THEN EXCLUDED.lease_until ELSE s.lease_until END,
       dirty = NOT (s.owner IS NULL OR s.owner = EXCLUDED.owner OR s.lease_until < now())
     WHERE $6::bigint IS NULL OR s.synced_seq < greatest($6::bigint, (SELECT seq FROM started), (SELECT r.seq FROM surface_sync_requests r WHERE r.conversation_id = $2))
     RETURNING owner = $4 AS mine`,
    [k.accountId, k.conversationId, k.surface, k.owner, leaseMs, seq ?? null, jobNumber(k.job)],
  );
  if (!rows[0]) return 'covered';
  return rows[0].mine === true;
}

/** An outbox id as the request row keeps it; anything else (a direct call) names no queued job. */
function jobNumber(job: string | undefined): string | null {
  return job !== undefined && /^\d{1,18}$/.test(job) ? job : null;
}

/** Asked for again since the run read: a claim marked it dirty, or a request was numbered after the run's ($6). */
const ASKED = `(dirty OR ($6::bigint > 0 AND coalesce((SELECT r.seq FROM surface_sync_requests r WHERE r.conversation_id = $1), 0) > $6::bigint))`;

/**
 * Ends a run: 'again' when a sync was asked for meanwhile (the lease is renewed and the flag cleared
 * for the next round), else the lease is given up. Asked for meanwhile: a claim marked the row dirty,
 * or a request was numbered after the one the run read (its job may not have come to claim yet: still
 * queued, or sent back by a busy channel), so no change waits for its own job's turn. `abandon` gives
 * the lease up whatever was asked: the job is rescheduled (rate limit, failure) and its next run sees
 * everything anyway. `requeue` (a job given up for now that will surely run again: a rate limit, a busy
 * channel) marks that job as the conversation's queued sync again when none is, so requests meanwhile
 * are absorbed by it instead of each queueing a job. `unstart`: the run's intents whose calls did not go
 * out (not reached, or the platform refused them), given back in the same statement, so the next run need not
 * look for them: one round trip, no transaction.
 */
export async function releaseSync(tx: Queryable, k: Omit<SyncKey, 'accountId'>, opts: { abandon?: boolean; requeue?: boolean; leaseMs?: number; /** The request number the finished run read and mirrored all of. */ syncedSeq?: number; unstart?: string[] } = {}): Promise<'again' | 'done'> {
  const unstart = opts.unstart ?? [];
  const { rows } = await tx.query<{ again: boolean }>(
    `WITH requeued AS (
       UPDATE surface_sync_requests SET queued_job = $7::bigint, queued_at = now() WHERE conversation_id = $1 AND $7::bigint IS NOT NULL AND queued_job IS NULL RETURNING 1
     )${unstart.length ? `, unstarted AS (
       UPDATE surface_intents SET started_at = NULL WHERE id = ANY($8::uuid[]) AND state = 'pending' AND conversation_id = $1 RETURNING 1
     )` : ''}
     UPDATE surface_syncs SET
       owner = CASE WHEN ${ASKED} AND NOT $4 THEN owner END,
       lease_until = CASE WHEN ${ASKED} AND NOT $4 THEN now() + make_interval(secs => $5::double precision / 1000) END,
       dirty = false,
       synced_seq = greatest(synced_seq, $6::bigint)
     WHERE conversation_id = $1 AND surface = $2 AND owner = $3
     RETURNING owner IS NOT NULL AS again`,
    [k.conversationId, k.surface, k.owner, opts.abandon === true, opts.leaseMs ?? SYNC_LEASE_MS, opts.abandon ? 0 : (opts.syncedSeq ?? 0), opts.abandon && opts.requeue ? jobNumber(k.job) : null, ...(unstart.length ? [unstart] : [])],
  );
  return rows[0]?.again ? 'again' : 'done';
}

/** Extends a running sync's lease (a long run: a moved conversation re-posting its history at the channel's pace). */
export async function renewSync(tx: Queryable, k: Omit<SyncKey, 'accountId'>, leaseMs = SYNC_LEASE_MS): Promise<void> {
  await tx.query(
    `UPDATE surface_syncs SET lease_until = now() + make_interval(secs => $4::double precision / 1000) WHERE conversation_id = $1 AND surface = $2 AND owner = $3`,
    [k.conversationId, k.surface, k.owner, leaseMs],
  );
}
