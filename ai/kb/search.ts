import type { Queryable } from '../../storage/database.js';
import { EmbeddingError, type Embedder } from '../embed/embedder.js';
import { EmbedderSet } from '../embed/set.js';
import { Redactor } from '../safety/redact.js';
import { words } from '../text/features.js';
import { toVectorLiteral } from './articles.js';
import { readKbIndex } from './index-state.js';
import { tenantPredicate } from './tenant-index.js';

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
const STOPWORDS = new Set('the and for you your are was with this that have has not but can how what why when where from into our out any all get got ja on ei se että mitä kun ole och att det som för med har inte kan hur var der die das und ist nicht ich wie los las que por con una'.split(' '));

/** Words of the query OR-ed together: a customer's whole message rarely matches every word. */
export function orQuery(text: string): string | undefined {
  const ws = [...new Set(words(text).filter((w) => /^[\p{L}\p{N}]{3,}$/u.test(w) && !STOPWORDS.has(w)))].slice(0, 32);
  return ws.length ? ws.join(' | ') : undefined;
}

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
 * and model literally: that is what lets the planner use the account's partial index.
 */
function nearestSql(set: VectorSet, strategy: VectorStrategy, extra: string): string {
  const where = tenantPredicate(set.accountId, set.model, set.dim);
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
  return tx.query<Record<string, unknown>>(`${prefix}SELECT id, sim::float8 AS similarity FROM (${nearestSql(set, strategy, lang)}) v ORDER BY r`, params);
}

/**
 * The query as a vector of the account's active model: the one given when it is of that model, else
 * embedded by that model's embedder (customer text redacted first when it leaves the building). None
 * when this hub cannot compute that model or its endpoint is down: search then goes by words alone.
 */
async function queryVector(embedder: Embedder, set: VectorSet, query: string, o: { vector?: Float32Array; modelId?: string }): Promise<Float32Array | undefined> {
  if (o.vector && (o.modelId ?? embedder.modelId) === set.model) return o.vector.length === set.dim ? o.vector : undefined;
  const model = EmbedderSet.from(embedder).forModel(set.model);
  if (!model) return undefined;
  try {
    const [v] = await model.embed([model.external ? new Redactor().redact(query) : query]);
    return v && v.length === set.dim ? v : undefined;
  } catch (err) {
    if (err instanceof EmbeddingError) return undefined;
    throw err;
  }
}

/**
 * Hybrid search over the current account's published passages: vector search (exact for a small
 * account, its own HNSW index otherwise, see EXACT_SEARCH_MAX_ROWS) and full-text search, fused by
 * reciprocal rank. `vector` is the query already embedded by `embedder` (or by `modelId`).
 */
export async function searchKb(
  tx: Queryable, embedder: Embedder, query: string,
  o: { limit?: number; language?: string; vector?: Float32Array; strategy?: VectorStrategy; modelId?: string } = {},
): Promise<Passage[]> {
  const limit = o.limit ?? 5;
  const candidates = Math.max(40, limit * 4);
  const set = await activeVectors(tx);
  const vector = set && (await queryVector(embedder, set, query, o));
  const strategy = o.strategy ?? (set?.hnsw ? 'hnsw' : 'exact');
  const params: unknown[] = [vector ? toVectorLiteral(vector) : null, candidates, orQuery(query) ?? null, limit];
  const lang = o.language ? `AND language = $${params.push(o.language)}` : '';
  if (set && vector && strategy === 'hnsw') await prepareHnsw(tx, candidates);
  const v = set && vector ? nearestSql(set, strategy, lang) : `SELECT NULL::uuid AS id, 0::bigint AS r, NULL::float8 AS sim WHERE $1::text IS NULL AND false`;
  const { rows } = await tx.query<Passage>(
    `WITH v AS (${v}
     ), t AS (
       SELECT id, row_number() OVER (ORDER BY rank DESC) AS r FROM (
         SELECT id, ts_rank_cd(search, q) AS rank FROM kb_chunks, to_tsquery('simple', $3) q
         WHERE $3 IS NOT NULL AND search @@ q AND published ${lang} ORDER BY rank DESC LIMIT $2) matched
     ), fused AS (
       SELECT id, sum(1.0 / (${RRF_K} + r)) AS score, max(sim) AS sim
       FROM (SELECT id, r, sim FROM v UNION ALL SELECT id, r, NULL FROM t) u GROUP BY id
     )
     SELECT c.id AS "chunkId", c.article_id AS "articleId", a.title, c.heading, c.text, c.language, a.url, f.score::float8 AS score, f.sim::float8 AS similarity
     FROM fused f JOIN kb_chunks c ON c.id = f.id JOIN kb_articles a ON a.id = c.article_id
     ORDER BY f.score DESC, c.id LIMIT $4`,
    params,
  );
  return rows;
}
