import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../../hub/testing/harness.js';
import { withAccount } from '../../storage/session.js';
import type { Embedder } from '../embed/embedder.js';
import { toVectorLiteral } from './articles.js';
import { activeVectors, nearestChunks, nearestPlan, searchAccountKb, searchKb, type VectorStrategy } from './search.js';
import { buildTenantIndex, tenantIndexName } from './tenant-index.js';

/*
 * Vector search under row-level security: a small account is searched exactly over its own rows, a
 * large one through its own partial HNSW index; either way only the account's own passages come back.
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
    await tx.query(`INSERT INTO kb_index (account_id, model, dim) VALUES ($1, $2, ${DIM})`, [acct.accountId, MODEL]);
    const article = (await tx.query<{ id: string }>(`INSERT INTO kb_articles (account_id, title, body) VALUES ($1, 'Synthetic', 'x') RETURNING id`, [acct.accountId])).rows[0]!.id;
    for (let i = 0; i < n; i++) {
      // The other tenant's rows sit right next to the query, so a filter after the scan would bite.
      const v = around ? unit(around.map((x) => x + (rand() - 0.5) * 0.01)) : randomVector();
      const id = (await tx.query<{ id: string }>(
        `INSERT INTO kb_chunks (account_id, article_id, ordinal, text, language) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [acct.accountId, article, i, `passage ${i} about refunds`, i % 2 ? 'fi' : 'en'],
      )).rows[0]!.id;
      await tx.query(`INSERT INTO kb_embeddings (chunk_id, account_id, model, dim, published, language, embedding) VALUES ($1, $2, $3, ${DIM}, true, $4, $5::vector)`,
        [id, acct.accountId, MODEL, i % 2 ? 'fi' : 'en', toVectorLiteral(v)]);
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

const expected = (language?: string) => [...vectors.entries()].slice(0, 60).filter((_, i) => !language || (i % 2 ? 'fi' : 'en') === language)
  .map(([id, v]) => ({ id, sim: cosine(v, query) })).sort((a, b) => b.sim - a.sim).slice(0, 10).map((r) => r.id);

describe('KB vector search under row-level security', () => {
  it('uses exact search until the account has its own HNSW index', async () => {
    expect(await withAccount(t.hub.db, mine.accountId, (tx) => activeVectors(tx))).toMatchObject({ model: MODEL, dim: DIM, hnsw: false });
    await buildTenantIndex(t.hub.db, mine.accountId, MODEL, DIM);
    await withAccount(t.hub.db, mine.accountId, (tx) => tx.query(`UPDATE kb_index SET hnsw_model = model`));
    expect(await withAccount(t.hub.db, mine.accountId, (tx) => activeVectors(tx))).toMatchObject({ hnsw: true });
    expect(await withAccount(t.hub.db, theirs.accountId, (tx) => activeVectors(tx))).toMatchObject({ hnsw: false });
  });

  it.each(['exact', 'hnsw'] as VectorStrategy[])('%s: returns only the account’s own nearest passages, nearest first', async (strategy) => {
    const rows = await withAccount(t.hub.db, mine.accountId, (tx) => nearestChunks(tx, query, { limit: 10, strategy }));
    expect(rows.map((r) => r.id)).toEqual(expected());
    for (const r of rows) expect(r.similarity).toBeCloseTo(cosine(vectors.get(r.id)!, query), 4);
    const fi = await withAccount(t.hub.db, mine.accountId, (tx) => nearestChunks(tx, query, { limit: 10, strategy, language: 'fi' }));
    expect(fi.map((r) => r.id)).toEqual(expected('fi'));
  });

  it('the exact path reads no HNSW index; the HNSW path reads the account’s own one', async () => {
    const plans = await withAccount(t.hub.db, mine.accountId, async (tx) => ({
      exact: await nearestPlan(tx, query, { limit: 10, strategy: 'exact' }),
      hnsw: await nearestPlan(tx, query, { limit: 10 }),
    }));
    expect(plans.exact).not.toContain('kb_hnsw_');
    expect(plans.hnsw).toContain(tenantIndexName(mine.accountId, MODEL));
  });

  it('hybrid search fuses vector and word matches from the account only', async () => {
    for (const strategy of ['exact', 'hnsw'] as VectorStrategy[]) {
      const hits = await withAccount(t.hub.db, mine.accountId, (tx) => searchKb(tx, { text: 'refunds', model: MODEL, vector: query }, { limit: 10, strategy }));
      expect(hits).toHaveLength(10);
      expect(hits[0]!.chunkId).toBe(expected()[0]);
      const own = new Set([...vectors.keys()].slice(0, 60));
      for (const h of hits) expect(own.has(h.chunkId)).toBe(true);
    }
  });

  it('exact search is one prepared statement for every account (a connection keeps one plan per filter, not one per account)', async () => {
    const names = async (acct: TestAccount) => withAccount(t.hub.db, acct.accountId, async (tx) => {
      const seen: string[] = [];
      const recording = { query: tx.query.bind(tx), prepared: <R>(name: string, sql: string, params: unknown[]) => (name.startsWith('hd_kb_search_') && seen.push(name), tx.prepared!<R>(name, sql, params)) };
      const q = { text: 'refunds', model: MODEL, vector: query };
      const hits = [...await searchKb(recording, q, { limit: 5, strategy: 'exact' }), ...await searchKb(recording, q, { limit: 5, strategy: 'exact', language: 'fi' })];
      return { seen, hits };
    });
    const a = await names(mine);
    const b = await names(theirs);
    expect(a.seen).toHaveLength(2);
    expect(b.seen).toEqual(a.seen);
    // Still each account's own passages only.
    const own = new Set([...vectors.keys()].slice(0, 60));
    expect(a.hits.every((h) => own.has(h.chunkId))).toBe(true);
    expect(b.hits.some((h) => own.has(h.chunkId))).toBe(false);
  });

  it('searches by words alone when the query cannot be embedded with the account’s model', async () => {
    const other: Embedder = { modelId: 'another-model', dimension: 3, embed: async () => [Float32Array.of(1, 0, 0)] };
    const hits = await searchAccountKb(t.hub.db, mine.accountId, other, 'refunds', { limit: 5 });
    expect(hits).toHaveLength(5);
    for (const h of hits) expect(h.similarity).toBeNull();
  });
});

describe('KB word search', () => {
  it('ranks passages with every word of the query first, then those with some of them', async () => {
    const acct = await createTestAccount(t);
    const ids = await withAccount(t.hub.db, acct.accountId, async (tx) => {
      const article = (await tx.query<{ id: string }>(`INSERT INTO kb_articles (account_id, title, body) VALUES ($1, 'Words', 'x') RETURNING id`, [acct.accountId])).rows[0]!.id;
      const texts = ['refund refund refund: every refund policy', 'a refund for a lost parcel', 'parcel tracking', 'invoices by email'];
      const out: string[] = [];
      for (const [i, text] of texts.entries()) out.push((await tx.query<{ id: string }>(`INSERT INTO kb_chunks (account_id, article_id, ordinal, text, language) VALUES ($1, $2, $3, $4, 'en') RETURNING id`, [acct.accountId, article, i, text])).rows[0]!.id);
      return out;
    });
    const hits = await withAccount(t.hub.db, acct.accountId, (tx) => searchKb(tx, { text: 'Refund for my parcel?' }, { limit: 5 }));
    expect(hits[0]!.chunkId).toBe(ids[1]);
    expect(hits.map((h) => h.chunkId).sort()).toEqual(ids.slice(0, 3).sort());
    expect(hits.every((h) => h.similarity === null)).toBe(true);
  });
});
