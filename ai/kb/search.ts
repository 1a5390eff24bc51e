import { createHash } from 'node:crypto';
import { queryPrepared, type Database, type Queryable } from '../../storage/database.js';
import { withAccount } from '../../storage/session.js';
import type { Embedder } from '../embed/embedder.js';
import { toVectorLiteral } from './articles.js';
import { readKbIndex } from './index-state.js';
import { embedQuery, type KbQuery } from './query.js';
import { tenantPredicate } from './tenant-index.js';
import { wordMatchSql, wordQueries } from './words.js';

export interface Passage {
  chunkId: string;
  articleId: string;
  title: string;
  heading: string | null;
  text: string;
  language: string;
  url: string | null;
  score: number;
  /** Cosine similarity of the passage to the query, when it came up in the vector search. */
  similarity: number | null;
}

// Reciprocal rank fusion constant (Cormack et al.): ranks beyond ~60 hardly count.
const RRF_K = 60;
let iterativeScan: boolean | undefined;

/**
 * Up to this many of the account's vectors the nearest are found exactly over the account's own rows
 * (account index, then sort): cheap at this size and exact. Above it the account gets its own partial
 * HNSW index in the background (ai/kb/tenant-index.ts) and search uses it once built. A shared index
 * would not do: row-level security drops other tenants' rows only after the index scan.
 */
export const EXACT_SEARCH_MAX_ROWS = 20_000;

export type VectorStrategy = 'exact' | 'hnsw';

/** The vectors search reads: the account's active model, and whether it has its own HNSW index. */
export interface VectorSet {
  accountId: string;
  model: string;
  dim: number;
  hnsw: boolean;
}

export async function activeVectors(tx: Queryable): Promise<VectorSet | undefined> {
  const row = await readKbIndex(tx);
  return row?.model && row.dim ? { accountId: row.accountId, model: row.model, dim: row.dim, hnsw: row.hnswModel === row.model } : undefined;
}

export interface NearestOptions {
  /** How many nearest passages to return. */
  limit: number;
  language?: string;
  /** Forces a strategy (benchmarks); by default the account's own index when it has one. */
  strategy?: VectorStrategy;
}

/**
 * The SQL of the vector half of a search: rows (id, r, sim) of the nearest passages, nearest first.
 * $1 is the query vector, $2 the limit; `extra` is more WHERE conditions. The HNSW form names account
 * and model literally: that is what lets the planner use the account's partial index. The exact form
 * takes them as parameters (pushed onto `params`): its text is the same for every account, so a
 * connection keeps one prepared search per filter, not one per account (of which there may be thousands).
 */
function nearestSql(set: VectorSet, strategy: VectorStrategy, extra: string, params: unknown[]): string {
  if (!Number.isInteger(set.dim) || set.dim <= 0) throw new Error(`bad dimension ${set.dim}`);
  const where = strategy === 'exact'
    ? `account_id = $${params.push(set.accountId)}::uuid AND model = $${params.push(set.model)} AND dim = ${set.dim} AND published`
    : tenantPredicate(set.accountId, set.model, set.dim);
  const distance = `embedding::vector(${set.dim}) <=> $1::vector(${set.dim})`;
  // OFFSET 0 keeps the distance in a subquery the planner cannot turn into an index scan.
  const inner = strategy === 'exact'
    ? `SELECT chunk_id AS id, d FROM (SELECT chunk_id, ${distance} AS d FROM kb_embeddings WHERE ${where} ${extra} OFFSET 0) mine ORDER BY d LIMIT $2`
    : `SELECT chunk_id AS id, ${distance} AS d FROM kb_embeddings WHERE ${where} ${extra} ORDER BY ${distance} LIMIT $2`;
  return `SELECT id, row_number() OVER (ORDER BY d) AS r, 1 - d AS sim FROM (${inner}) nearest`;
}

/** Sets the HNSW scan up: a language filter is applied after the index scan, so keep scanning until enough pass. */
async function prepareHnsw(tx: Queryable, limit: number): Promise<void> {
  iterativeScan ??= ((await tx.query(`SELECT 1 FROM pg_settings WHERE name = 'hnsw.iterative_scan'`)).rowCount > 0);
  const ef = String(Math.min(1000, Math.max(100, limit)));
  // Before the account's rows are analyzed the planner may prefer a sort over the index; it must not.
  // The penalty that disabling costs would push the plan over jit_above_cost: JIT took ~200 ms a query.
  await tx.query(`SELECT set_config('enable_sort', 'off', true), set_config('jit', 'off', true)`);
  if (iterativeScan) await tx.query(`SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', $1, true)`, [ef]);
  else await tx.query(`SELECT set_config('hnsw.ef_search', $1, true)`, [ef]);
}

/** The account's passages nearest to a vector of its active model: (id, similarity), nearest first. */
export async function nearestChunks(tx: Queryable, vector: ArrayLike<number>, o: NearestOptions): Promise<{ id: string; similarity: number }[]> {
  return (await runNearest(tx, vector, o, '')).rows as { id: string; similarity: number }[];
}

/** The query plan nearestChunks would run (benchmarks and tests check which index it uses). */
export async function nearestPlan(tx: Queryable, vector: ArrayLike<number>, o: NearestOptions): Promise<string> {
  return (await runNearest(tx, vector, o, 'EXPLAIN ')).rows.map((r) => String(Object.values(r)[0])).join('\n');
}

async function runNearest(tx: Queryable, vector: ArrayLike<number>, o: NearestOptions, prefix: string) {
  const set = await activeVectors(tx);
  if (!set) return { rows: [], rowCount: 0 };
  const strategy = o.strategy ?? (set.hnsw ? 'hnsw' : 'exact');
  if (strategy === 'hnsw') await prepareHnsw(tx, o.limit);
  const params: unknown[] = [toVectorLiteral(vector), o.limit];
  const lang = o.language ? `AND language = $${params.push(o.language)}` : '';
  const nearest = nearestSql(set, strategy, lang, params);
  return tx.query<Record<string, unknown>>(`${prefix}SELECT id, sim::float8 AS similarity FROM (${nearest}) v ORDER BY r`, params);
}

export interface SearchOptions {
  limit?: number;
  language?: string;
  strategy?: VectorStrategy;
  /** The account's active vectors, read earlier in the same transaction (several searches read them once); null: none. */
  vectors?: VectorSet | null;
}

/**
 * Hybrid search over the current account's published passages: vector search (exact for a small
 * account, its own HNSW index otherwise, see EXACT_SEARCH_MAX_ROWS) and full-text search, fused by
 * reciprocal rank. The query comes embedded (embedQuery); a vector of a model the account no longer
 * uses (a reindex switched meanwhile) is left out and the words alone count.
 */
export async function searchKb(tx: Queryable, q: KbQuery, o: SearchOptions = {}): Promise<Passage[]> {
  const query = q.text;
  const limit = o.limit ?? 5;
  const candidates = Math.max(40, limit * 4);
  const set = o.vectors === undefined ? await activeVectors(tx) : o.vectors ?? undefined;
  const vector = set && q.vector && q.model === set.model && q.vector.length === set.dim ? q.vector : undefined;
  const strategy = o.strategy ?? (set?.hnsw ? 'hnsw' : 'exact');
  const ws = wordQueries(query);
  const params: unknown[] = [vector ? toVectorLiteral(vector) : null, candidates, ws?.all ?? null, limit, ws?.any ?? null];
  const lang = o.language ? `AND language = $${params.push(o.language)}` : '';
  if (set && vector && strategy === 'hnsw') await prepareHnsw(tx, candidates);
  const v = set && vector ? nearestSql(set, strategy, lang, params) : `SELECT NULL::uuid AS id, 0::bigint AS r, NULL::float8 AS sim WHERE $1::text IS NULL AND false`;
  const sql = `WITH v AS (${v}
     ), t AS (${wordMatchSql({ all: '$3', any: '$5', limit: '$2' }, lang)}
     ), fused AS (
       SELECT id, sum(1.0 / (${RRF_K} + r)) AS score, max(sim) AS sim
       FROM (SELECT id, r, sim FROM v UNION ALL SELECT id, r, NULL FROM t) u GROUP BY id
       -- Cut to the answer before the join: the planner hash-joined all of a large account's passages here (~55 ms).
       ORDER BY score DESC, id LIMIT $4
     )
     SELECT c.id AS "chunkId", c.article_id AS "articleId", a.title, c.heading, c.text, c.language, a.url, f.score::float8 AS score, f.sim::float8 AS similarity
     FROM fused f JOIN kb_chunks c ON c.id = f.id JOIN kb_articles a ON a.id = c.article_id
     ORDER BY f.score DESC, c.id LIMIT $4`;
  // Named, so the server keeps it parsed and planned per connection: planned afresh each time it cost
  // PostgreSQL ~5× its execution (bench ai-stage). The text varies with model, filters and (HNSW only) the
  // account, hence the hash. Its generic plan where the adapter can (as the tenant, tenantReads): a named
  // statement's custom plans are planned again on every call, which cost more than the search itself.
  const { rows } = await queryPrepared<Passage>(tx, searchStatementName(sql), sql, params, { genericPlan: true });
  return rows;
}

/** One name per distinct search text (node-postgres refuses a name reused for another text on a connection). */
export function searchStatementName(sql: string): string {
  return `hd_kb_search_${createHash('sha256').update(sql).digest('hex').slice(0, 16)}`;
}

/** Embeds the query (no transaction open), then searches the account's passages in one transaction. */
export async function searchAccountKb(
  db: Database, accountId: string, embedder: Embedder, text: string,
  o: SearchOptions & { vector?: Float32Array; modelId?: string } = {},
): Promise<Passage[]> {
  const q = await embedQuery(db, accountId, embedder, text, o);
  return withAccount(db, accountId, (tx) => searchKb(tx, q, o));
}
