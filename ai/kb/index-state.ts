import { queryPrepared, type Queryable } from '../../storage/database.js';

/** The current account's row of kb_index: which model search uses, and the reindex under way. */
export interface KbIndexRow {
  accountId: string;
  /** The model whose vectors are complete and searched; null before the first article. */
  model: string | null;
  dim: number | null;
  /** The model the account's own HNSW index covers (large accounts). */
  hnswModel: string | null;
  reindexState: 'idle' | 'running' | 'done' | 'failed';
  targetModel: string | null;
  targetDim: number | null;
  done: number;
  total: number;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
}

const COLUMNS = `account_id AS "accountId", model, dim, hnsw_model AS "hnswModel", reindex_state AS "reindexState",
  target_model AS "targetModel", target_dim AS "targetDim", done, total, started_at AS "startedAt", finished_at AS "finishedAt", error`;

/** Row-level security leaves the transaction's own account. */
export async function readKbIndex(tx: Queryable, lock: '' | 'FOR SHARE' | 'FOR UPDATE' = ''): Promise<KbIndexRow | undefined> {
  // Named (planned once per connection): every search and analysis batch reads it.
  return (await queryPrepared<KbIndexRow>(tx, `hd_kb_index${lock ? `_${lock.slice(4).toLowerCase()}` : ''}`, `SELECT ${COLUMNS} FROM kb_index ${lock}`, [])).rows[0];
}

/**
 * The row, created if missing, locked for an article write: a reindex switches models under FOR UPDATE,
 * so a write either lands before the switch (and is re-embedded) or after it (with the new model).
 */
export async function lockKbIndexForWrite(tx: Queryable, accountId: string): Promise<KbIndexRow> {
  await tx.query(`INSERT INTO kb_index (account_id) VALUES ($1) ON CONFLICT (account_id) DO NOTHING`, [accountId]);
  return (await readKbIndex(tx, 'FOR SHARE'))!;
}

export interface ReindexStatus {
  state: KbIndexRow['reindexState'];
  /** The model being built while running, else the active one. */
  model: string | null;
  dimension: number | null;
  done: number;
  total: number;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
}

export function reindexStatus(row: KbIndexRow | undefined): ReindexStatus {
  if (!row) return { state: 'idle', model: null, dimension: null, done: 0, total: 0, startedAt: null, finishedAt: null, error: null };
  const building = row.reindexState === 'running' || row.reindexState === 'failed';
  const iso = (t: string | null) => (t ? new Date(t).toISOString() : null);
  return {
    state: row.reindexState,
    model: building ? row.targetModel : row.model,
    dimension: building ? row.targetDim : row.dim,
    done: row.done,
    total: row.total,
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
    error: row.error,
  };
}
