import { randomUUID } from 'node:crypto';
import type { Database, Queryable } from '../../storage/database.js';
import { withAccount } from '../../storage/session.js';
import { enqueue } from '../../storage/repositories/outbox.js';
import { EmbeddingError } from '../embed/embedder.js';
import type { EmbedderSet } from '../embed/set.js';
import { passageText, writeEmbeddings } from './articles.js';
import { readKbIndex, reindexStatus, type KbIndexRow, type ReindexStatus } from './index-state.js';
import { EXACT_SEARCH_MAX_ROWS } from './search.js';
import { buildTenantIndex, dropTenantIndexes, hasMoreVectors } from './tenant-index.js';

/**
 * The account's knowledge-base index kept in step with the hub's configured embedding model, by the
 * `kb.reindex` job: the new model's vectors are written beside the old ones in batches (progress in
 * kb_index, so a crashed run resumes where it stopped), search keeps reading the old model, and when
 * every passage has a new vector the account switches in one transaction and the old vectors go.
 * A large account also gets its own HNSW index (ai/kb/tenant-index.ts), built before the switch.
 */

export class ReindexError extends Error {
  override name = 'ReindexError';
  constructor(
    readonly code: 'embedder_unavailable',
    message: string,
  ) {
    super(message);
  }
}

/** Starts (or restarts) a reindex towards `model` and enqueues its job, in the caller's transaction. */
export async function requestReindex(tx: Queryable, accountId: string, model: string): Promise<ReindexStatus> {
  await tx.query(`INSERT INTO kb_index (account_id) VALUES ($1) ON CONFLICT (account_id) DO NOTHING`, [accountId]);
  const { rows } = await tx.query<{ done: number; total: number }>(
    `SELECT (SELECT count(*)::int FROM kb_embeddings WHERE model = $1) AS done, (SELECT count(*)::int FROM kb_chunks) AS total`, [model]);
  await tx.query(
    `UPDATE kb_index SET reindex_state = 'running', target_model = $1, target_dim = CASE WHEN target_model = $1 THEN target_dim END,
       done = $2, total = $3, finished_at = NULL, error = NULL,
       started_at = CASE WHEN reindex_state = 'running' AND target_model = $1 THEN started_at ELSE now() END`,
    [model, rows[0]!.done, rows[0]!.total],
  );
  await enqueue(tx, accountId, 'kb.reindex', { model });
  return reindexStatus(await readKbIndex(tx));
}

/** Enqueues the job that gives a large account its own HNSW index, at most once in ten minutes. */
export async function requestTenantIndexIfLarge(tx: Queryable, accountId: string, max = EXACT_SEARCH_MAX_ROWS): Promise<boolean> {
  const row = await readKbIndex(tx);
  if (!row?.model || row.hnswModel === row.model || row.reindexState === 'running' || !(await hasMoreVectors(tx, row.model, max))) return false;
  const { rowCount } = await tx.query(`UPDATE kb_index SET hnsw_requested_at = now() WHERE hnsw_requested_at IS NULL OR hnsw_requested_at < now() - interval '10 minutes'`);
  if (rowCount) await enqueue(tx, accountId, 'kb.reindex', {});
  return rowCount > 0;
}

/** Accounts whose active model is not the configured one and that are not yet reindexing towards it (start-up). */
export async function accountsToReindex(db: Database, model: string): Promise<string[]> {
  // A maintenance scan over every tenant, as the job runner's claim is: the connection's own role.
  const { rows } = await db.query<{ id: string }>(
    `SELECT account_id AS id FROM kb_index
     WHERE model IS NOT NULL AND model <> $1 AND NOT (reindex_state = 'running' AND target_model = $1)`, [model]);
  return rows.map((r) => r.id);
}

/** Large accounts still without their own index over their active model (start-up, after the migration). */
export async function accountsToIndex(db: Database, max = EXACT_SEARCH_MAX_ROWS): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT i.account_id AS id FROM kb_index i JOIN kb_embeddings e ON e.account_id = i.account_id AND e.model = i.model AND e.published
     WHERE i.hnsw_model IS DISTINCT FROM i.model GROUP BY i.account_id HAVING count(*) > $1`, [max]);
  return rows.map((r) => r.id);
}

export interface RunOptions {
  batchSize?: number;
  /** Stop after this long and report 'continue' (the job runs again; runners have leases). */
  budgetMs?: number;
  exactMaxRows?: number;
  leaseMs?: number;
  /** The last attempt: a failure marks the reindex failed instead of waiting for a retry. */
  lastAttempt?: boolean;
}

export type RunResult = 'idle' | 'continue' | 'switched' | 'indexed' | 'busy';

/** Another run took the account's lease over (this one's ran out while it embedded). */
class LeaseLost extends Error {}

/** Extends the lease if this run still holds it; in the caller's transaction, so a write and its lease go together. */
async function renewLease(tx: Queryable, owner: string, ms: number): Promise<void> {
  const { rowCount } = await tx.query(`UPDATE kb_index SET lease_until = now() + make_interval(secs => $2::double precision / 1000) WHERE lease_owner = $1`, [owner, ms]);
  if (!rowCount) throw new LeaseLost();
}

/** One run of the account's `kb.reindex` job. Idempotent: every step starts from what the tables say. */
export async function runKbIndex(db: Database, accountId: string, models: EmbedderSet, o: RunOptions = {}): Promise<RunResult> {
  const leaseMs = o.leaseMs ?? 120_000;
  const owner = randomUUID();
  const claimed = await withAccount(db, accountId, async (tx) => (await tx.query(
    `UPDATE kb_index SET lease_until = now() + make_interval(secs => $1::double precision / 1000), lease_owner = $2 WHERE lease_until IS NULL OR lease_until < now()`,
    [leaseMs, owner])).rowCount > 0);
  if (!claimed) return (await withAccount(db, accountId, (tx) => readKbIndex(tx))) ? 'busy' : 'idle';
  try {
    return await run(db, accountId, models, owner, { batchSize: 64, budgetMs: 60_000, exactMaxRows: EXACT_SEARCH_MAX_ROWS, leaseMs, ...o });
  } catch (err) {
    if (err instanceof LeaseLost) return 'busy';
    const fatal = err instanceof ReindexError || (err instanceof EmbeddingError && ['auth', 'bad_request', 'dimension_mismatch', 'bad_response'].includes(err.code));
    const message = err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err);
    await withAccount(db, accountId, (tx) => tx.query(
      `UPDATE kb_index SET error = $1, reindex_state = CASE WHEN $2 AND reindex_state = 'running' THEN 'failed' ELSE reindex_state END,
         finished_at = CASE WHEN $2 AND reindex_state = 'running' THEN now() ELSE finished_at END
       WHERE lease_owner = $3`,
      [message.slice(0, 500), fatal || !!o.lastAttempt, owner])).catch(() => undefined);
    throw err;
  } finally {
    await withAccount(db, accountId, (tx) => tx.query(`UPDATE kb_index SET lease_until = NULL, lease_owner = NULL WHERE lease_owner = $1`, [owner])).catch(() => undefined);
  }
}

async function run(db: Database, accountId: string, models: EmbedderSet, owner: string, o: Required<Omit<RunOptions, 'lastAttempt'>>): Promise<RunResult> {
  const deadline = Date.now() + o.budgetMs;
  const state = () => withAccount(db, accountId, (tx) => readKbIndex(tx));
  for (let row = await state(); row; row = await state()) {
    if (row.reindexState !== 'running' || !row.targetModel) return (await indexActive(db, accountId, row, owner, o.exactMaxRows)) ? 'indexed' : 'idle';
    const target = models.forModel(row.targetModel);
    if (!target) throw new ReindexError('embedder_unavailable', `this hub cannot compute ${row.targetModel}`);
    const batch = await withAccount(db, accountId, (tx) => missing(tx, target.modelId, o.batchSize));
    if (!batch.length) {
      if (await switchModel(db, accountId, row, owner, o.exactMaxRows)) return 'switched';
      continue;
    }
    // The endpoint is called with no transaction open; the batch is written only while the lease is still this run's.
    const vectors = await target.embed(batch.map(passageText), { accountId, lane: 'bulk' });
    await withAccount(db, accountId, async (tx) => {
      await renewLease(tx, owner, o.leaseMs);
      await writeEmbeddings(tx, target.modelId, batch.map((c) => c.id), vectors);
      await tx.query(
        `UPDATE kb_index SET target_dim = $2, error = NULL,
           done = (SELECT count(*)::int FROM kb_embeddings WHERE model = $1), total = (SELECT count(*)::int FROM kb_chunks)
         WHERE target_model = $1`,
        [target.modelId, vectors[0]!.length]);
    });
    if (Date.now() > deadline) return 'continue';
  }
  return 'idle';
}

/** Passages without a vector of `model`, in a stable order. */
function missing(tx: Queryable, model: string, limit: number) {
  return tx.query<{ id: string; heading: string | null; text: string }>(
    `SELECT c.id, c.heading, c.text FROM kb_chunks c
     WHERE NOT EXISTS (SELECT 1 FROM kb_embeddings e WHERE e.chunk_id = c.id AND e.model = $1) ORDER BY c.id LIMIT $2`,
    [model, limit]).then((r) => r.rows);
}

/**
 * Every passage has a vector of the target: build the large account's index over it, then switch
 * under the row lock article writes take, so no passage written meanwhile is left without a vector.
 */
async function switchModel(db: Database, accountId: string, row: KbIndexRow, owner: string, exactMaxRows: number): Promise<boolean> {
  const target = row.targetModel!;
  const { large, dim } = await withAccount(db, accountId, async (tx) => ({
    large: await hasMoreVectors(tx, target, exactMaxRows),
    dim: (await tx.query<{ dim: number }>(`SELECT dim FROM kb_embeddings WHERE model = $1 LIMIT 1`, [target])).rows[0]?.dim ?? row.targetDim,
  }));
  if (large && dim) {
    await withAccount(db, accountId, (tx) => renewLease(tx, owner, 30 * 60_000));
    await buildTenantIndex(db, accountId, target, dim);
  }
  const switched = await withAccount(db, accountId, async (tx) => {
    await renewLease(tx, owner, 120_000);
    const now = await readKbIndex(tx, 'FOR UPDATE');
    if (now?.reindexState !== 'running' || now.targetModel !== target) return false;
    if ((await missing(tx, target, 1)).length) return false;
    await tx.query(
      `UPDATE kb_index SET model = $1, dim = $2, hnsw_model = $3, hnsw_requested_at = NULL, reindex_state = 'done', finished_at = now(), error = NULL,
         done = (SELECT count(*)::int FROM kb_embeddings WHERE model = $1), total = (SELECT count(*)::int FROM kb_chunks)`,
      [target, dim, large && dim ? target : null]);
    await tx.query(`DELETE FROM kb_embeddings WHERE model <> $1`, [target]);
    return true;
  });
  if (switched) await dropTenantIndexes(db, accountId, large ? target : undefined);
  return switched;
}

/** A large account without its own index over the active model gets one. */
async function indexActive(db: Database, accountId: string, row: KbIndexRow, owner: string, exactMaxRows: number): Promise<boolean> {
  if (!row.model || !row.dim || row.hnswModel === row.model) return false;
  if (!(await withAccount(db, accountId, (tx) => hasMoreVectors(tx, row.model!, exactMaxRows)))) return false;
  await withAccount(db, accountId, (tx) => renewLease(tx, owner, 30 * 60_000));
  await buildTenantIndex(db, accountId, row.model, row.dim);
  await withAccount(db, accountId, (tx) => tx.query(`UPDATE kb_index SET hnsw_model = $1, hnsw_requested_at = NULL WHERE model = $1`, [row.model]));
  await dropTenantIndexes(db, accountId, row.model);
  return true;
}
