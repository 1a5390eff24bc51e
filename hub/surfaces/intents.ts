import type { Database, Queryable } from '../../storage/database.js';
import { tenantReads, withAccount } from '../../storage/session.js';
import { RetryLaterError } from '../queue/jobs.js';
import { renewSync, type SurfaceName, type SyncKey } from './claims.js';

/**
 * Intent records: no platform call is made inside a database transaction, and a post is never made
 * twice. What a sync will post is recorded first (planIntents, in the sync's short reading
 * transaction), the call is made with no transaction open, and its result is recorded in its own short
 * transaction (recordIntent). An intent still pending from an earlier run (started_at set) may have
 * been posted without its result being recorded: the surface looks for it on the platform (by the
 * intent id it put in the post) before posting again.
 */

export interface Intent {
  id: string;
  key: string;
  target: Record<string, unknown>;
  detail: Record<string, unknown>;
  state: 'pending' | 'done';
  remoteId: string | null;
  /** When the call may have gone out; null when none is known to have. */
  startedAt: string | null;
}

export interface PlannedIntent {
  key: string;
  target: Record<string, unknown>;
  detail?: Record<string, unknown>;
}

/** SQL (a scalar subquery) for a conversation's intents on one surface, as JSON: read with the rest of a sync's snapshot. */
export const INTENTS_JSON = (conversationParam: string, surfaceParam: string) =>
  `(SELECT json_agg(json_build_object('id', i.id, 'key', i.intent_key, 'target', i.target, 'detail', i.detail, 'state', i.state, 'remoteId', i.remote_id, 'startedAt', i.started_at))
    FROM surface_intents i WHERE i.conversation_id = ${conversationParam} AND i.surface = ${surfaceParam})`;

export function intentsByKey(rows: Intent[] | null | undefined): Map<string, Intent> {
  return new Map((rows ?? []).map((i) => [i.key, i]));
}

/**
 * Records what is about to be posted, marked as going out now. Keys already recorded are left
 * alone unless no call of theirs is known to have gone out (then they go out again now).
 */
export async function planIntents(tx: Queryable, p: { accountId: string; conversationId: string; surface: SurfaceName }, items: PlannedIntent[]): Promise<Map<string, Intent>> {
  if (!items.length) return new Map();
  const { rows } = await tx.query<Intent>(
    `INSERT INTO surface_intents AS i (account_id, conversation_id, surface, intent_key, target, detail, started_at, attempts)
     SELECT $1, $2, $3, x.key, x.target, x.detail, now(), 1 FROM jsonb_to_recordset($4::jsonb) AS x(key text, target jsonb, detail jsonb)
     ON CONFLICT (conversation_id, surface, intent_key) DO UPDATE SET started_at = now(), attempts = i.attempts + 1, target = EXCLUDED.target, detail = i.detail || EXCLUDED.detail
       WHERE i.state = 'pending' AND i.started_at IS NULL
     RETURNING id, intent_key AS key, target, detail, state, remote_id AS "remoteId", started_at AS "startedAt"`,
    [p.accountId, p.conversationId, p.surface, JSON.stringify(items.map((i) => ({ key: i.key, target: i.target, detail: i.detail ?? {} })))],
  );
  return intentsByKey(rows);
}

/** The call's result: done, with the platform's id and what the surface keeps about it. */
export async function recordIntent(tx: Queryable, id: string, remoteId: string, detail: Record<string, unknown> = {}): Promise<void> {
  await tx.query(`UPDATE surface_intents SET state = 'done', remote_id = $2, detail = detail || $3::jsonb, done_at = now() WHERE id = $1`, [id, remoteId, JSON.stringify(detail)]);
}

/** Keeps what a later attempt needs (uploaded file ids, where a search stopped) without finishing the intent. */
export async function noteIntent(tx: Queryable, id: string, detail: Record<string, unknown>): Promise<void> {
  await tx.query(`UPDATE surface_intents SET detail = detail || $2::jsonb WHERE id = $1`, [id, JSON.stringify(detail)]);
}

/** A suspect intent was looked for and not found: it goes out again now. */
export async function restartIntent(tx: Queryable, id: string, detail: Record<string, unknown> = {}): Promise<void> {
  await tx.query(`UPDATE surface_intents SET started_at = now(), attempts = attempts + 1, detail = (detail - 'searchCursor' - 'unsureAt') || $2::jsonb WHERE id = $1 AND state = 'pending'`, [id, JSON.stringify(detail)]);
}

/** What looking for an earlier attempt's post found. */
export type Found = { found: string; detail?: Record<string, unknown> } | { absent: true } | { unsure: true; retryInMs: number; detail?: Record<string, unknown> };

export interface IntentCall {
  /** Looks for an earlier attempt's post on the platform; called only for an intent that may have gone out. */
  find(intent: Intent): Promise<Found>;
  /** Makes the post; resolves with the platform's id. */
  call(intent: Intent): Promise<string>;
  /** What to keep with the result. */
  detail?: Record<string, unknown>;
  /** What a later search needs to know this attempt's post by (e.g. a digest of its text), kept as the call goes out again. */
  startDetail?: Record<string, unknown>;
  /** Further records written in the same transaction as the result (e.g. the surface's thread row). */
  alsoRecord?(tx: Queryable, remoteId: string): Promise<void>;
  /** The platform certainly made nothing (it answered with a refusal): the next run need not look for it. */
  refused?(err: unknown): boolean;
}

/**
 * Runs one intent of a sync: nothing when it is done, a search when an earlier attempt may have made
 * it, else the call; then the result in its own transaction. `fresh` says the intent was planned by
 * this run (its call has not gone out yet).
 */
export class IntentRunner {
  /** Intents this run planned whose call has not gone out: given back (unstarted) when the run stops early. */
  readonly unsent = new Set<string>();
  private renewedAt = Date.now();
  constructor(
    private readonly db: Database,
    private readonly accountId: string,
    /** The run's lease, extended with a result once half of it has passed. */
    private readonly lease?: { key: Omit<SyncKey, 'accountId'>; ms: number },
    /**
     * After a call whose outcome is unknown (a timeout, a 5xx: not a refusal), how long the platform may
     * still be carrying it out: a later run looks for it only once that has passed (0: at once).
     */
    private readonly settleMs = 0,
  ) {}

  async make(intent: Intent, fresh: boolean, how: IntentCall): Promise<string> {
    if (intent.state === 'done' && intent.remoteId !== null) return intent.remoteId;
    if (!fresh && intent.startedAt) {
      // An earlier call cut off without an answer may land a while later: looking at once would not find
      // it, and the post would be made twice. Its job comes back once the platform has had time to finish it.
      const unsureAt = typeof intent.detail.unsureAt === 'string' ? Date.parse(intent.detail.unsureAt) : NaN;
      const settling = unsureAt + this.settleMs - Date.now();
      if (settling > 0) throw new RetryLaterError('an earlier call may still be landing: looking for it once the platform has had time to finish it', Math.ceil(settling));
      const found = await how.find(intent);
      if ('found' in found) {
        await this.record(intent, found.found, { ...how.detail, ...found.detail }, how);
        return found.found;
      }
      if ('unsure' in found) {
        if (found.detail) await withAccount(this.db, this.accountId, (tx) => noteIntent(tx, intent.id, found.detail!));
        throw new RetryLaterError('looking for an earlier post within the platform’s read budget', found.retryInMs);
      }
      await withAccount(this.db, this.accountId, (tx) => restartIntent(tx, intent.id, how.startDetail));
    } else if (!fresh) {
      await withAccount(this.db, this.accountId, (tx) => restartIntent(tx, intent.id, how.startDetail));
    }
    this.unsent.add(intent.id);
    let remoteId: string;
    try {
      remoteId = await how.call(intent);
    } catch (err) {
      // A refusal leaves the intent unsent (the run gives it back); anything else may have posted, and
      // may still be posting: when it was cut off is noted, so a later run gives it time to land first.
      if (!how.refused?.(err)) {
        this.unsent.delete(intent.id);
        if (this.settleMs > 0) await withAccount(this.db, this.accountId, (tx) => noteIntent(tx, intent.id, { unsureAt: new Date().toISOString() })).catch(() => undefined);
      }
      throw err;
    }
    this.unsent.delete(intent.id);
    await this.record(intent, remoteId, how.detail ?? {}, how);
    return remoteId;
  }

  private async record(intent: Intent, remoteId: string, detail: Record<string, unknown>, how: IntentCall): Promise<void> {
    const renew = !!this.lease && Date.now() - this.renewedAt > this.lease.ms / 2;
    // The result alone: one statement in its own transaction (one round trip on PostgreSQL).
    if (!how.alsoRecord && !renew) await recordIntent(tenantReads(this.db, this.accountId), intent.id, remoteId, detail);
    else await withAccount(this.db, this.accountId, async (tx) => {
      await recordIntent(tx, intent.id, remoteId, detail);
      await how.alsoRecord?.(tx, remoteId);
      if (this.lease && renew) {
        await renewSync(tx, this.lease.key, this.lease.ms);
        this.renewedAt = Date.now();
      }
    });
    intent.state = 'done';
    intent.remoteId = remoteId;
  }
}

/** Records a post made before intents existed (or found otherwise) as done, with what it shows. */
export async function recordDone(tx: Queryable, p: { accountId: string; conversationId: string; surface: SurfaceName }, key: string, target: Record<string, unknown>, remoteId: string, detail: Record<string, unknown>): Promise<void> {
  await tx.query(
    `INSERT INTO surface_intents AS i (account_id, conversation_id, surface, intent_key, target, detail, state, remote_id, done_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'done', $7, now())
     ON CONFLICT (conversation_id, surface, intent_key) DO UPDATE SET state = 'done', remote_id = EXCLUDED.remote_id, detail = i.detail || EXCLUDED.detail, done_at = coalesce(i.done_at, now())`,
    [p.accountId, p.conversationId, p.surface, key, JSON.stringify(target), JSON.stringify(detail), remoteId],
  );
}
