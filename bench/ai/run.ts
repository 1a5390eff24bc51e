/**
 * AI benchmark: local classification + embedding throughput (batched), and knowledge-base search over
 * synthetic 512-d chunks spread over many accounts on real Postgres under row-level security, with
 * recall@10 against exact search (a sequential scan) of the search as shipped (exact over a small
 * account's own rows) and of a shared HNSW index with iterative scan; the largest run adds one large
 * account (--large chunks, above the exact-search limit) searched exactly, through the shared index,
 * and through its own partial HNSW index (the shipped path): `recall_large_tenant`. `words_*` is the
 * full-text half alone (the search without a query vector).
 * Usage: npm run bench -- ai [--sizes 10000,100000] [--large 30000] [--accounts 100] [--queries 200] [--messages 1000] [--batch 32]
 *        npm run bench -- ai --quick   (KB search at 100,000 chunks only, 100 queries, no classification)
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createDatabase, machine } from '../support.js';
import { openDatabase } from '../../storage/open.js';
import { migrate } from '../../storage/migrate.js';
import { withAccount } from '../../storage/session.js';
import type { Database } from '../../storage/database.js';
import { localEmbedder } from '../../ai/embed/local.js';
import { CategoryModel } from '../../ai/classify/model.js';
import { defaultExamples } from '../../ai/classify/store.js';
import { nearestChunks, nearestPlan, searchAccountKb, searchKb, type VectorStrategy } from '../../ai/kb/search.js';
import { toVectorLiteral } from '../../ai/kb/articles.js';
import { runKbIndex } from '../../ai/kb/reindex.js';
import { tenantIndexName } from '../../ai/kb/tenant-index.js';
import type { Embedder } from '../../ai/embed/embedder.js';
import { EmbedderSet } from '../../ai/embed/set.js';

const { values } = parseArgs({ options: {
  sizes: { type: 'string', default: '10000,100000' }, accounts: { type: 'string', default: '100' }, queries: { type: 'string', default: '200' },
  messages: { type: 'string', default: '1000' }, batch: { type: 'string', default: '32' }, quick: { type: 'boolean', default: false },
  large: { type: 'string', default: '30000' },
} });
if (values.quick) {
  if (!process.argv.includes('--sizes')) values.sizes = '100000';
  if (!process.argv.includes('--queries')) values.queries = '100';
}
const baseUrl = process.env.DATABASE_URL;
if (!baseUrl) throw new Error('DATABASE_URL is required (npm run bench -- ai starts Postgres)');
const DIM = 512;
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0; };
const r2 = (n: number) => Math.round(n * 100) / 100;
const log = (s: string) => process.stderr.write(`${s}\n`);

// Deterministic PRNG so runs are comparable.
let seed = 42;
const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
function unit(v: Float32Array): Float32Array { let n = 0; for (const x of v) n += x * x; n = Math.sqrt(n); return v.map((x) => x / n); }
function near(c: Float32Array, noise: number): Float32Array { return unit(c.map((x) => x + gauss() * noise)); }

async function classification() {
  const file = '../shared/data/classification/clinc150/data_full.json';
  const texts = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { test: [string, string][] }).test.map(([t]) => t) : Array.from({ length: 1000 }, (_, i) => `I was charged twice for order ${i}, please refund`);
  const n = Math.min(Number(values.messages), texts.length);
  const batch = Number(values.batch);
  const embedder = localEmbedder();
  const model = await CategoryModel.train(defaultExamples(), { embedder });
  await embedder.embed(['warm up']);
  const perBatch: number[] = [];
  const perMessage: number[] = [];
  const started = performance.now();
  for (let i = 0; i < n; i += batch) {
    const slice = texts.slice(i, i + batch);
    const t0 = performance.now();
    const vectors = await embedder.embed(slice);
    for (const [j, text] of slice.entries()) await model.classify(text, vectors[j]);
    const ms = performance.now() - t0;
    perBatch.push(ms);
    for (const _ of slice) perMessage.push(ms / slice.length);
  }
  const seconds = (performance.now() - started) / 1000;
  return { messages: n, batch, messages_per_s: r2(n / seconds), batch_p95_ms: r2(pct(perBatch, 95)), message_p50_ms: r2(pct(perMessage, 50)), message_p95_ms: r2(pct(perMessage, 95)) };
}

const MODEL = 'synthetic-512';
const syntheticEmbedder: Embedder = { modelId: MODEL, dimension: DIM, embed: async () => { throw new Error('vectors are given'); } };
const WORDS = 'refund invoice password login delivery parcel charge account billing error crash upgrade plan cancel subscription export report language mobile email notification'.split(' ');
const SHARED_INDEX = 'bench_shared_hnsw_512';
type Sample = { account: number; vector: Float32Array; text: string };

/** Loads `size` chunks round-robin over the small accounts, plus `large.n` for one large account. */
async function load(admin: pg.Client, size: number, accounts: string[], large?: { account: string; n: number }) {
  await admin.query(`TRUNCATE kb_chunks, kb_articles, kb_embeddings, kb_index`);
  await admin.query(`DROP INDEX IF EXISTS ${SHARED_INDEX}`);
  const all = large ? [...accounts, large.account] : accounts;
  const centroids = Array.from({ length: 400 }, () => unit(Float32Array.from({ length: DIM }, gauss)));
  const articles: string[] = [];
  for (const a of all) {
    articles.push((await admin.query<{ id: string }>(`INSERT INTO kb_articles (account_id, title, body) VALUES ($1, 'bench', 'bench') RETURNING id`, [a])).rows[0]!.id);
    await admin.query(`INSERT INTO kb_index (account_id, model, dim) VALUES ($1, '${MODEL}', ${DIM})`, [a]);
  }
  const sample: Sample[] = [];
  const largeSample: Sample[] = [];
  const total = size + (large?.n ?? 0);
  for (let i = 0; i < total; i += 1000) {
    const acc: string[] = [], art: string[] = [], ord: number[] = [], txt: string[] = [], vec: string[] = [];
    for (let j = i; j < Math.min(total, i + 1000); j++) {
      const k = j < size ? j % accounts.length : accounts.length;
      const v = near(centroids[Math.floor(rand() * centroids.length)]!, 0.08);
      const text = Array.from({ length: 12 }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ');
      acc.push(all[k]!); art.push(articles[k]!); ord.push(j); txt.push(text); vec.push(toVectorLiteral(v));
      if (rand() < (j < size ? 0.01 : 0.02)) (j < size ? sample : largeSample).push({ account: k, vector: v, text });
    }
    await admin.query(
      `WITH c AS (INSERT INTO kb_chunks (account_id, article_id, ordinal, text, language)
         SELECT a, r, o, t, 'en' FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[]) AS x(a, r, o, t) RETURNING id, account_id, ordinal)
       INSERT INTO kb_embeddings (chunk_id, account_id, model, dim, published, language, embedding)
       SELECT c.id, c.account_id, '${MODEL}', ${DIM}, true, 'en', v.v::vector FROM c JOIN unnest($3::int[], $5::text[]) AS v(o, v) ON v.o = c.ordinal`,
      [acc, art, ord, txt, vec]);
  }
  await admin.query(`ANALYZE kb_chunks`);
  await admin.query(`ANALYZE kb_embeddings`);
  return { sample, largeSample, all };
}

/** A shared HNSW index over every tenant, as the alternative to per-account indexes. */
async function buildShared(admin: pg.Client): Promise<number> {
  const t = performance.now();
  await admin.query(`SET maintenance_work_mem = '1GB'`);
  await admin.query(`CREATE INDEX ${SHARED_INDEX} ON kb_embeddings USING hnsw ((embedding::vector(512)) vector_cosine_ops) WHERE dim = 512`);
  return (performance.now() - t) / 1000;
}

const knn = `SELECT chunk_id AS id FROM kb_embeddings WHERE model = '${MODEL}' AND dim = 512 AND published ORDER BY embedding::vector(512) <=> $1::vector(512) LIMIT 10`;
const overlap = (got: string[], exact: string[]) => (exact.length ? got.filter((id) => exact.includes(id)).length / exact.length : 1);
/** The full-text half alone: the search with no query vector. */
const wordsOnly = async (db: Database, accountId: string, text: string) => {
  const t = performance.now();
  await withAccount(db, accountId, (tx) => searchKb(tx, { text }, { limit: 10 }));
  return performance.now() - t;
};
const mean = (xs: number[]) => r2(xs.reduce((a, b) => a + b, 0) / xs.length);

/** Exact neighbours by a sequential scan: the ground truth recall is measured against. */
const truth = (db: Database, accountId: string, lit: string) => withAccount(db, accountId, async (tx) => {
  await tx.query(`SELECT set_config('enable_indexscan', 'off', true), set_config('enable_bitmapscan', 'off', true)`);
  return (await tx.query<{ id: string }>(knn, [lit])).rows.map((r) => r.id);
});

/** The shared index with pgvector 0.8's iterative scan, as the former HNSW path ran it. */
const sharedHnsw = (db: Database, accountId: string, lit: string, ef: number) => withAccount(db, accountId, async (tx) => {
  await tx.query(`SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', $1, true), set_config('enable_sort', 'off', true)`, [String(ef)]);
  const t = performance.now();
  const ids = (await tx.query<{ id: string }>(knn, [lit])).rows.map((r) => r.id);
  return { ids, ms: performance.now() - t };
});

const nearest = (db: Database, accountId: string, query: Float32Array, strategy?: VectorStrategy) => withAccount(db, accountId, async (tx) => {
  const t = performance.now();
  const rows = await nearestChunks(tx, query, { limit: 10, strategy });
  return { ids: rows.map((r) => r.id), ms: performance.now() - t };
});

async function kbSearch(db: Database, admin: pg.Client, size: number, accounts: string[], large?: { account: string; n: number }) {
  log(`kb: loading ${size} chunks over ${accounts.length} accounts${large ? ` and ${large.n} for one large account` : ''}…`);
  const t0 = performance.now();
  const { sample, largeSample, all } = await load(admin, size, accounts, large);
  const loadS = (performance.now() - t0) / 1000;
  const sharedS = await buildShared(admin);
  log(`kb: loaded in ${r2(loadS)} s, shared HNSW built in ${r2(sharedS)} s; querying…`);
  const queries = Number(values.queries);
  const hybrid: number[] = [], words: number[] = [], shippedMs: number[] = [], sharedMs: number[] = [];
  const recall = { shipped: [] as number[], shared: [] as number[] };
  const plan = await withAccount(db, accounts[0]!, (tx) => nearestPlan(tx, sample[0]!.vector, { limit: 10 }));
  if (plan.includes('hnsw')) throw new Error(`a small account's search uses an HNSW index:\n${plan}`);
  for (let q = 0; q < queries; q++) {
    const s = sample[q % sample.length]!;
    const query = near(s.vector, 0.05);
    const accountId = all[s.account]!;
    const lit = toVectorLiteral(query);
    const exact = await truth(db, accountId, lit);
    const shared = await sharedHnsw(db, accountId, lit, 100);
    const shipped = await nearest(db, accountId, query);
    recall.shared.push(overlap(shared.ids, exact)); sharedMs.push(shared.ms);
    recall.shipped.push(overlap(shipped.ids, exact)); shippedMs.push(shipped.ms);
    const t = performance.now();
    await searchAccountKb(db, accountId, syntheticEmbedder, s.text.split(' ').slice(0, 4).join(' '), { limit: 10, vector: query });
    hybrid.push(performance.now() - t);
    words.push(await wordsOnly(db, accountId, s.text.split(' ').slice(0, 4).join(' ')));
  }
  const result = {
    chunks: size, accounts: accounts.length, queries, load_s: r2(loadS), chunks_per_account: Math.round(size / accounts.length),
    recall_at_10: mean(recall.shipped), vector_p50_ms: r2(pct(shippedMs, 50)), vector_p95_ms: r2(pct(shippedMs, 95)),
    shared_hnsw_recall_at_10: mean(recall.shared), shared_hnsw_p50_ms: r2(pct(sharedMs, 50)), shared_hnsw_p95_ms: r2(pct(sharedMs, 95)),
    hybrid_p50_ms: r2(pct(hybrid, 50)), hybrid_p95_ms: r2(pct(hybrid, 95)), hybrid_p99_ms: r2(pct(hybrid, 99)),
    words_p50_ms: r2(pct(words, 50)), words_p95_ms: r2(pct(words, 95)),
  };
  return large ? { ...result, large_tenant: await largeTenant(db, large, largeSample, queries, all.length) } : result;
}

/** The account above the exact-search limit: exact, the shared index, and its own index (the shipped path). */
async function largeTenant(db: Database, large: { account: string; n: number }, sample: Sample[], queries: number, accounts: number) {
  log(`kb: large account (${large.n} chunks): shared index first…`);
  const lits: { query: Float32Array; lit: string; exact: string[] }[] = [];
  for (let q = 0; q < queries; q++) {
    const query = near(sample[q % sample.length]!.vector, 0.05);
    const lit = toVectorLiteral(query);
    lits.push({ query, lit, exact: await truth(db, large.account, lit) });
  }
  const shared: Record<string, { recall: number[]; ms: number[] }> = {};
  for (const ef of [100, 400]) {
    shared[ef] = { recall: [], ms: [] };
    for (const { lit, exact } of lits) { const r = await sharedHnsw(db, large.account, lit, ef); shared[ef]!.recall.push(overlap(r.ids, exact)); shared[ef]!.ms.push(r.ms); }
  }
  const exactMs: number[] = [];
  for (const { query } of lits) exactMs.push((await nearest(db, large.account, query, 'exact')).ms);
  await db.query(`DROP INDEX IF EXISTS ${SHARED_INDEX}`);
  log('kb: large account: its own index…');
  const t = performance.now();
  const result = await runKbIndex(db, large.account, EmbedderSet.from(syntheticEmbedder));
  const buildS = (performance.now() - t) / 1000;
  if (result !== 'indexed') throw new Error(`the large account got no index of its own (${result})`);
  const plan = await withAccount(db, large.account, (tx) => nearestPlan(tx, lits[0]!.query, { limit: 10 }));
  if (!plan.includes(tenantIndexName(large.account, MODEL))) throw new Error(`the large account's search does not use its index:\n${plan}`);
  const recall: number[] = [], ms: number[] = [], hybrid: number[] = [], words: number[] = [];
  for (const [q, { query, exact }] of lits.entries()) {
    const r = await nearest(db, large.account, query);
    recall.push(overlap(r.ids, exact)); ms.push(r.ms);
    const t1 = performance.now();
    await searchAccountKb(db, large.account, syntheticEmbedder, sample[q % sample.length]!.text.split(' ').slice(0, 4).join(' '), { limit: 10, vector: query });
    hybrid.push(performance.now() - t1);
    words.push(await wordsOnly(db, large.account, sample[q % sample.length]!.text.split(' ').slice(0, 4).join(' ')));
  }
  return {
    chunks: large.n, total_chunks: null as number | null, accounts, index_build_s: r2(buildS),
    recall_at_10: mean(recall), p50_ms: r2(pct(ms, 50)), p95_ms: r2(pct(ms, 95)),
    hybrid_p50_ms: r2(pct(hybrid, 50)), hybrid_p95_ms: r2(pct(hybrid, 95)), hybrid_p99_ms: r2(pct(hybrid, 99)),
    words_p50_ms: r2(pct(words, 50)), words_p95_ms: r2(pct(words, 95)),
    exact_p50_ms: r2(pct(exactMs, 50)), exact_p95_ms: r2(pct(exactMs, 95)),
    ...Object.fromEntries(Object.entries(shared).flatMap(([ef, s]) => [[`shared_ef${ef}_recall_at_10`, mean(s.recall)], [`shared_ef${ef}_p50_ms`, r2(pct(s.ms, 50))], [`shared_ef${ef}_p95_ms`, r2(pct(s.ms, 95))]])),
  };
}

const database = await createDatabase(baseUrl);
const db = await openDatabase({ databaseUrl: database.url, dataDir: '', poolSize: 4 });
const admin = new pg.Client({ connectionString: database.url });
try {
  log(`machine: ${machine()}`);
  log('classification + embedding…');
  const cls = values.quick ? null : await classification();
  log(JSON.stringify(cls));
  await migrate(db);
  await admin.connect();
  const accounts: string[] = [];
  for (let i = 0; i < Number(values.accounts); i++) accounts.push((await admin.query<{ id: string }>(`INSERT INTO accounts (name, slug) VALUES ($1, $1) RETURNING id`, [`bench-${i}`])).rows[0]!.id);
  const big = Number(values.large) > 0 ? { account: (await admin.query<{ id: string }>(`INSERT INTO accounts (name, slug) VALUES ('bench-large', 'bench-large') RETURNING id`)).rows[0]!.id, n: Number(values.large) } : undefined;
  const kb: Awaited<ReturnType<typeof kbSearch>>[] = [];
  const sizes = values.sizes!.split(',').map(Number);
  // The largest run also holds the large account: its chunks among every other tenant's.
  for (const [i, size] of sizes.entries()) {
    const r = await kbSearch(db, admin, size, accounts, i === sizes.length - 1 ? big : undefined);
    log(JSON.stringify(r));
    kb.push(r);
  }
  const largest = kb.at(-1);
  const large = largest && 'large_tenant' in largest ? { ...largest.large_tenant, total_chunks: largest.chunks + largest.large_tenant.chunks } : null;
  process.stdout.write(`${JSON.stringify({
    bench: 'ai',
    p50_ms: largest?.hybrid_p50_ms ?? null, p95_ms: largest?.hybrid_p95_ms ?? null, p99_ms: largest?.hybrid_p99_ms ?? null,
    recall_large_tenant: large?.recall_at_10 ?? null, large_tenant_p50_ms: large?.p50_ms ?? null, large_tenant_p95_ms: large?.p95_ms ?? null,
    large_tenant_hybrid_p50_ms: large?.hybrid_p50_ms ?? null, large_tenant_hybrid_p95_ms: large?.hybrid_p95_ms ?? null,
    classify: cls,
    kb: Object.fromEntries(kb.map((k) => [String(k.chunks), { ...k, large_tenant: undefined }])),
    large_tenant: large,
  })}\n`);
} finally {
  await admin.end().catch(() => undefined);
  await db.close();
  await database.drop();
}
