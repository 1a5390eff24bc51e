/**
 * AI benchmark: local classification + embedding throughput (batched), and knowledge-base search over
 * synthetic 512-d chunks spread over many accounts on real Postgres under row-level security, with
 * recall@10 against exact search (a sequential scan) of: the search as shipped (exact over the account's
 * own rows while it has few, HNSW otherwise), the HNSW path forced, and the former HNSW settings
 * (relaxed_order, ef_search 100) as the baseline.
 * Usage: npm run bench -- ai [--sizes 10000,100000] [--accounts 100] [--queries 200] [--messages 1000] [--batch 32]
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
import { chooseStrategy, nearestChunks, nearestPlan, searchKb, type VectorStrategy } from '../../ai/kb/search.js';
import { toVectorLiteral } from '../../ai/kb/articles.js';
import type { Embedder } from '../../ai/embed/embedder.js';

const { values } = parseArgs({ options: {
  sizes: { type: 'string', default: '10000,100000' }, accounts: { type: 'string', default: '100' }, queries: { type: 'string', default: '200' },
  messages: { type: 'string', default: '1000' }, batch: { type: 'string', default: '32' }, quick: { type: 'boolean', default: false },
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

const chooseStrategyFor = (tx: Parameters<typeof chooseStrategy>[0]) => chooseStrategy(tx, { dimension: DIM, modelId: 'synthetic-512' });
const syntheticEmbedder: Embedder = { modelId: 'synthetic-512', dimension: DIM, embed: async () => { throw new Error('vectors are given'); } };
const WORDS = 'refund invoice password login delivery parcel charge account billing error crash upgrade plan cancel subscription export report language mobile email notification'.split(' ');

async function kbSearch(db: Database, admin: pg.Client, size: number, accounts: string[]) {
  log(`kb: loading ${size} chunks over ${accounts.length} accounts…`);
  await admin.query(`TRUNCATE kb_chunks, kb_articles`);
  await admin.query(`DROP INDEX IF EXISTS kb_chunks_embedding_512_idx`);
  const centroids = Array.from({ length: 400 }, () => unit(Float32Array.from({ length: DIM }, gauss)));
  const articles: string[] = [];
  for (const a of accounts) articles.push((await admin.query<{ id: string }>(`INSERT INTO kb_articles (account_id, title, body) VALUES ($1, 'bench', 'bench') RETURNING id`, [a])).rows[0]!.id);
  const sample: { account: number; vector: Float32Array; text: string }[] = [];
  const t0 = performance.now();
  for (let i = 0; i < size; i += 1000) {
    const acc: string[] = [], art: string[] = [], ord: number[] = [], txt: string[] = [], vec: string[] = [];
    for (let j = i; j < Math.min(size, i + 1000); j++) {
      const k = j % accounts.length;
      const v = near(centroids[Math.floor(rand() * centroids.length)]!, 0.08);
      const text = Array.from({ length: 12 }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ');
      acc.push(accounts[k]!); art.push(articles[k]!); ord.push(j); txt.push(text); vec.push(toVectorLiteral(v));
      if (rand() < 0.01) sample.push({ account: k, vector: v, text });
    }
    await admin.query(
      `INSERT INTO kb_chunks (account_id, article_id, ordinal, text, language, embedding, embedding_model, embedding_dim)
       SELECT a, r, o, t, 'en', v::vector, 'synthetic-512', 512 FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::text[]) AS x(a, r, o, t, v)`,
      [acc, art, ord, txt, vec]);
  }
  const loadS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  await admin.query(`SET maintenance_work_mem = '1GB'`);
  await admin.query(`CREATE INDEX kb_chunks_embedding_512_idx ON kb_chunks USING hnsw ((embedding::vector(512)) vector_cosine_ops) WHERE embedding_dim = 512`);
  await admin.query(`ANALYZE kb_chunks`);
  const indexS = (performance.now() - t1) / 1000;
  log(`kb: loaded in ${r2(loadS)} s, HNSW built in ${r2(indexS)} s; querying…`);
  const queries = Number(values.queries);
  const hybrid: number[] = [], shippedMs: number[] = [], hnswMs: number[] = [], baselineMs: number[] = [];
  const recall = { shipped: [] as number[], hnsw: [] as number[], baseline: [] as number[] };
  const strategies: Record<string, number> = {};
  const knn = `SELECT id FROM kb_chunks WHERE embedding_dim = 512 AND embedding_model = 'synthetic-512' AND published ORDER BY embedding::vector(512) <=> $1::vector(512) LIMIT 10`;
  const overlap = (got: string[], exact: string[]) => (exact.length ? got.filter((id) => exact.includes(id)).length / exact.length : 1);
  const nearest = (accountId: string, query: Float32Array, strategy?: VectorStrategy) => withAccount(db, accountId, async (tx) => {
    const t = performance.now();
    const rows = await nearestChunks(tx, query, { dimension: DIM, modelId: 'synthetic-512', limit: 10, strategy });
    return { ids: rows.map((r) => r.id), ms: performance.now() - t };
  });
  const plan = (strategy: VectorStrategy) => withAccount(db, accounts[0]!, (tx) => nearestPlan(tx, sample[0]!.vector, { dimension: DIM, modelId: 'synthetic-512', limit: 10, strategy }));
  // The forced paths must really be what they claim: an HNSW index scan, and none for exact.
  if (!(await plan('hnsw')).includes('kb_chunks_embedding_512_idx')) throw new Error(`the hnsw path does not use the HNSW index:\n${await plan('hnsw')}`);
  if ((await plan('exact')).includes('kb_chunks_embedding_512_idx')) throw new Error(`the exact path uses the HNSW index:\n${await plan('exact')}`);
  for (let q = 0; q < queries; q++) {
    const s = sample[q % sample.length]!;
    const query = near(s.vector, 0.05);
    const accountId = accounts[s.account]!;
    const lit = toVectorLiteral(query);
    const exact = await withAccount(db, accountId, async (tx) => {
      await tx.query(`SELECT set_config('enable_indexscan', 'off', true), set_config('enable_bitmapscan', 'off', true)`);
      return (await tx.query<{ id: string }>(knn, [lit])).rows.map((r) => r.id);
    });
    const baseline = await withAccount(db, accountId, async (tx) => {
      // enable_sort off: the HNSW scan, as before the account index (migration 014) existed.
      await tx.query(`SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', '100', true), set_config('enable_sort', 'off', true)`);
      const t = performance.now();
      const rows = (await tx.query<{ id: string }>(knn, [lit])).rows;
      return { ids: rows.map((r) => r.id), ms: performance.now() - t };
    });
    const strategy = await withAccount(db, accountId, (tx) => chooseStrategyFor(tx));
    strategies[strategy] = (strategies[strategy] ?? 0) + 1;
    const shipped = await nearest(accountId, query);
    const hnsw = await nearest(accountId, query, 'hnsw');
    recall.baseline.push(overlap(baseline.ids, exact)); baselineMs.push(baseline.ms);
    recall.shipped.push(overlap(shipped.ids, exact)); shippedMs.push(shipped.ms);
    recall.hnsw.push(overlap(hnsw.ids, exact)); hnswMs.push(hnsw.ms);
    const t = performance.now();
    await withAccount(db, accountId, (tx) => searchKb(tx, syntheticEmbedder, s.text.split(' ').slice(0, 4).join(' '), { limit: 10, vector: query }));
    hybrid.push(performance.now() - t);
  }
  const mean = (xs: number[]) => r2(xs.reduce((a, b) => a + b, 0) / xs.length);
  return {
    chunks: size, accounts: accounts.length, queries, load_s: r2(loadS), index_build_s: r2(indexS),
    chunks_per_account: Math.round(size / accounts.length), strategy: strategies,
    recall_at_10: mean(recall.shipped), vector_p50_ms: r2(pct(shippedMs, 50)), vector_p95_ms: r2(pct(shippedMs, 95)),
    hnsw_recall_at_10: mean(recall.hnsw), hnsw_p50_ms: r2(pct(hnswMs, 50)), hnsw_p95_ms: r2(pct(hnswMs, 95)),
    baseline_recall_at_10: mean(recall.baseline), baseline_p50_ms: r2(pct(baselineMs, 50)), baseline_p95_ms: r2(pct(baselineMs, 95)),
    hybrid_p50_ms: r2(pct(hybrid, 50)), hybrid_p95_ms: r2(pct(hybrid, 95)), hybrid_p99_ms: r2(pct(hybrid, 99)),
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
  const kb: Awaited<ReturnType<typeof kbSearch>>[] = [];
  for (const size of values.sizes!.split(',').map(Number)) {
    const r = await kbSearch(db, admin, size, accounts);
    log(JSON.stringify(r));
    kb.push(r);
  }
  const largest = kb.at(-1);
  process.stdout.write(`${JSON.stringify({
    bench: 'ai',
    p50_ms: largest?.hybrid_p50_ms ?? null, p95_ms: largest?.hybrid_p95_ms ?? null, p99_ms: largest?.hybrid_p99_ms ?? null,
    classify: cls,
    kb: Object.fromEntries(kb.map((k) => [String(k.chunks), k])),
  })}\n`);
} finally {
  await admin.end().catch(() => undefined);
  await db.close();
  await database.drop();
}
