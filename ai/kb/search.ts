import type { Queryable } from '../../storage/database.js';
import type { Embedder } from '../embed/embedder.js';
import { words } from '../text/features.js';
import { toVectorLiteral } from './articles.js';

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
 * Up to this many of the account's vectors (of one model), the nearest are found by exact search over
 * the account's own rows (account index, then sort): cheap at this size and exact. Above it the HNSW
 * index is used. HNSW is shared by every tenant and row-level security drops the other tenants' rows
 * only after the index scan, so a small tenant's true neighbours lie deep in the graph and even an
 * iterative scan misses many of them (recall@10 0.64 for a tenant with 1% of 100,000 rows).
 */
export const EXACT_SEARCH_MAX_ROWS = 20_000;

export type VectorStrategy = 'exact' | 'hnsw';

export interface NearestOptions {
  dimension: number;
  modelId: string;
  /** How many nearest passages to return. */
  limit: number;
  language?: string;
  /** Forces a strategy (benchmarks); by default chosen by the account's row count. */
  strategy?: VectorStrategy;
  exactMaxRows?: number;
}

/** Which vector search suits the current account: exact while it has few rows of this model. */
export async function chooseStrategy(tx: Queryable, o: Pick<NearestOptions, 'dimension' | 'modelId' | 'exactMaxRows'>): Promise<VectorStrategy> {
  const max = o.exactMaxRows ?? EXACT_SEARCH_MAX_ROWS;
  // Counting stops at max + 1 rows, so a large tenant pays for a bounded index-only scan.
  const { rows } = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM kb_chunks WHERE embedding_dim = $1 AND embedding_model = $2 AND published LIMIT $3) mine`,
    [o.dimension, o.modelId, max + 1],
  );
  return (rows[0]?.n ?? 0) > max ? 'hnsw' : 'exact';
}

/**
 * The SQL of the vector half of a search: rows (id, r, sim) of the nearest passages, nearest first.
 * $1 is the query vector, $2 the model id, $3 the limit; `extra` is more WHERE conditions.
 */
function nearestSql(strategy: VectorStrategy, dim: number, extra: string): string {
  const distance = `embedding::vector(${dim}) <=> $1::vector(${dim})`;
  const where = `embedding_dim = ${dim} AND embedding_model = $2 AND published ${extra}`;
  // OFFSET 0 keeps the distance in a subquery the planner cannot turn into an HNSW index scan.
  const inner = strategy === 'exact'
    ? `SELECT id, d FROM (SELECT id, ${distance} AS d FROM kb_chunks WHERE ${where} OFFSET 0) mine ORDER BY d LIMIT $3`
    : `SELECT id, ${distance} AS d FROM kb_chunks WHERE ${where} ORDER BY ${distance} LIMIT $3`;
  return `SELECT id, row_number() OVER (ORDER BY d) AS r, 1 - d AS sim FROM (${inner}) nearest`;
}

/** Sets the HNSW scan up for a search that row-level security filters after the index scan. */
async function prepareHnsw(tx: Queryable, limit: number): Promise<void> {
  iterativeScan ??= ((await tx.query(`SELECT 1 FROM pg_settings WHERE name = 'hnsw.iterative_scan'`)).rowCount > 0);
  // Measured at a 1% tenant share: ef_search 100 gave recall 0.62; ef 200 with a 10× over-fetch only 0.29.
  const ef = String(Math.min(1000, Math.max(100, limit)));
  // The planner cannot know this tenant is large (its estimate is one generic share per account), so
  // it would rather read the account index and sort; without a sort it has to take the HNSW order.
  await tx.query(`SELECT set_config('enable_sort', 'off', true)`);
  if (iterativeScan) {
    await tx.query(`SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', $1, true)`, [ef]);
  } else await tx.query(`SELECT set_config('hnsw.ef_search', $1, true)`, [ef]);
}

/** The account's passages nearest to a vector: (id, similarity), nearest first. */
export async function nearestChunks(tx: Queryable, vector: ArrayLike<number>, o: NearestOptions): Promise<{ id: string; similarity: number }[]> {
  return (await runNearest(tx, vector, o, '')).rows as { id: string; similarity: number }[];
}

/** The query plan nearestChunks would run (benchmarks and tests check which index it uses). */
export async function nearestPlan(tx: Queryable, vector: ArrayLike<number>, o: NearestOptions): Promise<string> {
  return (await runNearest(tx, vector, o, 'EXPLAIN ')).rows.map((r) => String(Object.values(r)[0])).join('\n');
}

async function runNearest(tx: Queryable, vector: ArrayLike<number>, o: NearestOptions, prefix: string) {
  const strategy = o.strategy ?? (await chooseStrategy(tx, o));
  if (strategy === 'hnsw') await prepareHnsw(tx, o.limit);
  const params: unknown[] = [toVectorLiteral(vector), o.modelId, o.limit];
  const lang = o.language ? `AND language = $${params.push(o.language)}` : '';
  return tx.query<Record<string, unknown>>(`${prefix}SELECT id, sim::float8 AS similarity FROM (${nearestSql(strategy, o.dimension, lang)}) v ORDER BY r`, params);
}

/**
 * Hybrid search over the current account's published passages: vector search (exact for a small
 * account, HNSW otherwise, see EXACT_SEARCH_MAX_ROWS) and full-text search, fused by reciprocal rank.
 */
export async function searchKb(
  tx: Queryable, embedder: Embedder, query: string,
  o: { limit?: number; language?: string; vector?: Float32Array; strategy?: VectorStrategy; modelId?: string } = {},
): Promise<Passage[]> {
  const limit = o.limit ?? 5;
  const candidates = Math.max(40, limit * 4);
  const vector = o.vector ?? (await embedder.embed([query]))[0]!;
  const dim = embedder.dimension;
  const modelId = o.modelId ?? embedder.modelId;
  const strategy = o.strategy ?? (await chooseStrategy(tx, { dimension: dim, modelId }));
  if (strategy === 'hnsw') await prepareHnsw(tx, candidates);
  const params: unknown[] = [toVectorLiteral(vector), modelId, candidates, orQuery(query) ?? null, limit];
  const lang = o.language ? `AND language = $${params.push(o.language)}` : '';
  const { rows } = await tx.query<Passage>(
    `WITH v AS (${nearestSql(strategy, dim, lang)}
     ), t AS (
       SELECT id, row_number() OVER (ORDER BY rank DESC) AS r FROM (
         SELECT id, ts_rank_cd(search, q) AS rank FROM kb_chunks, to_tsquery('simple', $4) q
         WHERE $4 IS NOT NULL AND search @@ q AND published ${lang} ORDER BY rank DESC LIMIT $3) matched
     ), fused AS (
       SELECT id, sum(1.0 / (${RRF_K} + r)) AS score, max(sim) AS sim
       FROM (SELECT id, r, sim FROM v UNION ALL SELECT id, r, NULL FROM t) u GROUP BY id
     )
     SELECT c.id AS "chunkId", c.article_id AS "articleId", a.title, c.heading, c.text, c.language, a.url, f.score::float8 AS score, f.sim::float8 AS similarity
     FROM fused f JOIN kb_chunks c ON c.id = f.id JOIN kb_articles a ON a.id = c.article_id
     ORDER BY f.score DESC, c.id LIMIT $5`,
    params,
  );
  return rows;
}
