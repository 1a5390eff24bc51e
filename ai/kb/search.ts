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
 * Hybrid search over the current account's published passages: HNSW cosine search and full-text
 * search, fused by reciprocal rank. Row-level security filters other tenants' rows after the index
 * scan, so the scan is iterative (pgvector ≥ 0.8) to keep returning rows until the limit is met.
 */
export async function searchKb(tx: Queryable, embedder: Embedder, query: string, o: { limit?: number; language?: string; vector?: Float32Array } = {}): Promise<Passage[]> {
  const limit = o.limit ?? 5;
  const candidates = Math.max(40, limit * 4);
  const vector = o.vector ?? (await embedder.embed([query]))[0]!;
  iterativeScan ??= ((await tx.query(`SELECT 1 FROM pg_settings WHERE name = 'hnsw.iterative_scan'`)).rowCount > 0);
  if (iterativeScan) await tx.query(`SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', '100', true)`);
  const dim = embedder.dimension;
  const params: unknown[] = [toVectorLiteral(vector), embedder.modelId, candidates, orQuery(query) ?? null, limit];
  const lang = o.language ? `AND language = $${params.push(o.language)}` : '';
  const { rows } = await tx.query<Passage>(
    `WITH v AS (
       SELECT id, row_number() OVER (ORDER BY d) AS r, 1 - d AS sim FROM (
         SELECT id, embedding::vector(${dim}) <=> $1::vector(${dim}) AS d FROM kb_chunks
         WHERE embedding_dim = ${dim} AND embedding_model = $2 AND published ${lang}
         ORDER BY embedding::vector(${dim}) <=> $1::vector(${dim}) LIMIT $3) nearest
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
