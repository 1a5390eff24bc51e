import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../../hub/testing/harness.js';
import { withAccount } from '../../storage/session.js';
import type { Embedder } from '../embed/embedder.js';
import { toVectorLiteral } from './articles.js';
import { chooseStrategy, nearestChunks, nearestPlan, searchKb, type VectorStrategy } from './search.js';

/*
 * Vector search under row-level security: a small account is searched exactly over its own rows, a
 * large one through HNSW; either way only the account's own passages come back, nearest first.
 */
const DIM = 512;
const MODEL = 'test-512';
let t: TestHub;
let mine: TestAccount;
let theirs: TestAccount;
const vectors = new Map<string, Float32Array>();

let seed = 7;
const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
const unit = (v: Float32Array) => { const n = Math.hypot(...v); return v.map((x) => x / n); };
const randomVector = () => unit(Float32Array.from({ length: DIM }, () => rand() - 0.5));
const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
const syntheticEmbedder: Embedder = { modelId: MODEL, dimension: DIM, embed: async () => { throw new Error('vectors are given'); } };

async function load(acct: TestAccount, n: number, around?: Float32Array) {
  await withAccount(t.hub.db, acct.accountId, async (tx) => {
    const article = (await tx.query<{ id: string }>(`INSERT INTO kb_articles (account_id, title, body) VALUES ($1, 'Synthetic', 'x') RETURNING id`, [acct.accountId])).rows[0]!.id;
    for (let i = 0; i < n; i++) {
      // The other tenant's rows sit right next to the query, so a filter after the scan would bite.
      const v = around ? unit(around.map((x) => x + (rand() - 0.5) * 0.01)) : randomVector();
      const id = (await tx.query<{ id: string }>(
        `INSERT INTO kb_chunks (account_id, article_id, ordinal, text, language, embedding, embedding_model, embedding_dim) VALUES ($1, $2, $3, $4, 'en', $5::vector, $6, ${DIM}) RETURNING id`,
        [acct.accountId, article, i, `passage ${i} about refunds`, toVectorLiteral(v), MODEL],
      )).rows[0]!.id;
      vectors.set(id, v);
    }
  });
}

const query = randomVector();

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  mine = await createTestAccount(t);
  theirs = await createTestAccount(t);
  await load(mine, 60);
  await load(theirs, 60, query);
}, 60_000);
afterAll(() => t?.close());

const expected = () => [...vectors.entries()].slice(0, 60).map(([id, v]) => ({ id, sim: cosine(v, query) })).sort((a, b) => b.sim - a.sim).slice(0, 10).map((r) => r.id);

describe('KB vector search under row-level security', () => {
  it('chooses exact search up to the account row limit and HNSW above it', async () => {
    await withAccount(t.hub.db, mine.accountId, async (tx) => {
      expect(await chooseStrategy(tx, { dimension: DIM, modelId: MODEL })).toBe('exact');
      expect(await chooseStrategy(tx, { dimension: DIM, modelId: MODEL, exactMaxRows: 60 })).toBe('exact');
      expect(await chooseStrategy(tx, { dimension: DIM, modelId: MODEL, exactMaxRows: 59 })).toBe('hnsw');
      expect(await chooseStrategy(tx, { dimension: DIM, modelId: 'another-model', exactMaxRows: 0 })).toBe('exact');
    });
  });

  it.each(['exact', 'hnsw'] as VectorStrategy[])('%s: returns only the account’s own nearest passages, nearest first', async (strategy) => {
    const rows = await withAccount(t.hub.db, mine.accountId, (tx) => nearestChunks(tx, query, { dimension: DIM, modelId: MODEL, limit: 10, strategy }));
    expect(rows.map((r) => r.id)).toEqual(expected());
    for (const r of rows) expect(r.similarity).toBeCloseTo(cosine(vectors.get(r.id)!, query), 4);
  });

  it('the exact path never scans the shared HNSW index, the HNSW path does', async () => {
    const plans = await withAccount(t.hub.db, mine.accountId, async (tx) => ({
      exact: await nearestPlan(tx, query, { dimension: DIM, modelId: MODEL, limit: 10, strategy: 'exact' }),
      hnsw: await nearestPlan(tx, query, { dimension: DIM, modelId: MODEL, limit: 10, strategy: 'hnsw' }),
    }));
    expect(plans.exact).not.toContain('kb_chunks_embedding_512_idx');
    expect(plans.hnsw).toContain('kb_chunks_embedding_512_idx');
  });

  it('hybrid search fuses vector and word matches from the account only', async () => {
    for (const strategy of ['exact', 'hnsw'] as VectorStrategy[]) {
      const hits = await withAccount(t.hub.db, mine.accountId, (tx) => searchKb(tx, syntheticEmbedder, 'refunds', { limit: 10, vector: query, strategy }));
      expect(hits).toHaveLength(10);
      expect(hits[0]!.chunkId).toBe(expected()[0]);
      const own = new Set([...vectors.keys()].slice(0, 60));
      for (const h of hits) expect(own.has(h.chunkId)).toBe(true);
    }
  });
});
