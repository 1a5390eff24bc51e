import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../../hub/testing/harness.js';
import { withAccount } from '../../storage/session.js';
import { startEmbeddingsEmulator, type EmbeddingsEmulator } from '../embed/emulator.js';
import { OpenAiEmbedder } from '../embed/openai.js';
import { EmbedderSet } from '../embed/set.js';
import { saveArticles } from './save.js';
import { readKbIndex } from './index-state.js';
import { requestReindex, runKbIndex } from './reindex.js';
import { searchAccountKb } from './search.js';
import { tenantIndexName } from './tenant-index.js';

/*
 * The reindex job's steps against two real embedding endpoints (an old 48-d model, a new 64-d one):
 * resumable after a failure or a crash, search on the old vectors until the switch, then only the new.
 */
let oldEmu: EmbeddingsEmulator;
let newEmu: EmbeddingsEmulator;
let oldModel: OpenAiEmbedder;
let models: EmbedderSet;

const ARTICLES = [
  ['Refunds', 'Refunds are paid to the original card within five days.\n\nA refund for a parcel needs the parcel number.\n\nPartial refunds are possible for bundles.'],
  ['Passwords', 'Reset your password from the login page.\n\nThe reset link is valid for one hour.\n\nA locked account opens after ten minutes.'],
  ['Invoices', 'Invoices are sent by email every month.\n\nA copy of an invoice is in the billing page.\n\nInvoices can be exported to PDF.'],
  ['Delivery', 'Delivery takes two to four days.\n\nExpress delivery arrives the next day.\n\nA lost parcel is replaced for free.'],
].map(([title, body]) => ({ title: title!, body: body!.replace(/\n\n/g, '\n\n# Part\n\n') }));

async function seeded(t: TestHub): Promise<TestAccount> {
  const acct = await createTestAccount(t);
  await saveArticles(t.hub.db, acct.accountId, ARTICLES, oldModel);
  return acct;
}

const state = (t: TestHub, acct: TestAccount) => withAccount(t.hub.db, acct.accountId, (tx) => readKbIndex(tx));
const vectorModels = (t: TestHub, acct: TestAccount) => withAccount(t.hub.db, acct.accountId, async (tx) =>
  (await tx.query<{ model: string; n: number }>(`SELECT model, count(*)::int AS n FROM kb_embeddings GROUP BY model ORDER BY model`)).rows);
const search = (t: TestHub, acct: TestAccount, q: string) => searchAccountKb(t.hub.db, acct.accountId, models, q, { limit: 3 });

beforeAll(async () => {
  oldEmu = await startEmbeddingsEmulator({ dimension: 48 });
  newEmu = await startEmbeddingsEmulator({ dimension: 64 });
  oldModel = new OpenAiEmbedder({ baseUrl: `${oldEmu.url}/v1`, model: 'old-embed', retryBaseMs: 1 });
  const newModel = new OpenAiEmbedder({ baseUrl: `${newEmu.url}/v1`, model: 'new-embed', maxRetries: 1, retryBaseMs: 1 });
  models = new EmbedderSet(newModel, newModel, (id) => (id === oldModel.modelId ? oldModel : undefined));
});
afterAll(async () => {
  await oldEmu?.close();
  await newEmu?.close();
});

describe.each([['Postgres', false], ['PGlite', true]] as const)('knowledge-base reindex on %s', (_name, embedded) => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ jobs: false, embedded });
  }, 60_000);
  afterAll(() => t?.close());

  it('resumes after a failed batch without embedding a passage twice, searching the old vectors until the switch', async () => {
    const acct = await seeded(t);
    const chunks = (await vectorModels(t, acct))[0]!.n;
    expect(await vectorModels(t, acct)).toEqual([{ model: 'openai-compatible:old-embed', n: chunks }]);
    await withAccount(t.hub.db, acct.accountId, (tx) => requestReindex(tx, acct.accountId, models.configured.modelId));
    newEmu.requests.length = 0;
    newEmu.fail({ status: 200 }, { status: 500 }, { status: 500 });
    // A scripted 200 with no data is a bad answer: it is retried by the job, not by the client.
    await expect(runKbIndex(t.hub.db, acct.accountId, models, { batchSize: 4 })).rejects.toMatchObject({ code: 'bad_response' });
    expect(await state(t, acct)).toMatchObject({ reindexState: 'failed' });
    await withAccount(t.hub.db, acct.accountId, (tx) => requestReindex(tx, acct.accountId, models.configured.modelId));
    await expect(runKbIndex(t.hub.db, acct.accountId, models, { batchSize: 4 })).rejects.toMatchObject({ code: 'unavailable' });
    expect(await state(t, acct)).toMatchObject({ reindexState: 'running', done: 0, total: chunks, error: expect.stringContaining('unavailable') });

    newEmu.requests.length = 0;
    expect(await runKbIndex(t.hub.db, acct.accountId, models, { batchSize: 4, budgetMs: 0 })).toBe('continue');
    expect(await state(t, acct)).toMatchObject({ reindexState: 'running', targetModel: 'openai-compatible:new-embed', targetDim: 64, done: 4, total: chunks, error: null });
    oldEmu.requests.length = 0;
    const during = await search(t, acct, 'lost parcel replaced');
    expect(during[0]).toMatchObject({ title: 'Delivery', similarity: expect.any(Number) });
    expect(oldEmu.requests.map((r) => r.body.input)).toEqual([['lost parcel replaced']]);

    expect(await runKbIndex(t.hub.db, acct.accountId, models, { batchSize: 4 })).toBe('switched');
    const sent = newEmu.requests.flatMap((r) => r.body.input);
    expect(sent).toHaveLength(chunks);
    expect(new Set(sent).size).toBe(chunks);
    expect(await state(t, acct)).toMatchObject({ model: 'openai-compatible:new-embed', dim: 64, reindexState: 'done', done: chunks, total: chunks, hnswModel: null });
    expect(await vectorModels(t, acct)).toEqual([{ model: 'openai-compatible:new-embed', n: chunks }]);
    newEmu.requests.length = 0;
    expect((await search(t, acct, 'lost parcel replaced'))[0]).toMatchObject({ title: 'Delivery', similarity: expect.any(Number) });
    expect(newEmu.requests.map((r) => r.body.input)).toEqual([['lost parcel replaced']]);
  });

  it('waits out a crashed run’s lease, then picks its work up, including passages written meanwhile', async () => {
    const acct = await seeded(t);
    await withAccount(t.hub.db, acct.accountId, (tx) => requestReindex(tx, acct.accountId, models.configured.modelId));
    expect(await runKbIndex(t.hub.db, acct.accountId, models, { batchSize: 4, budgetMs: 0 })).toBe('continue');
    // The process died holding the lease.
    await withAccount(t.hub.db, acct.accountId, (tx) => tx.query(`UPDATE kb_index SET lease_until = now() + interval '1 minute'`));
    expect(await runKbIndex(t.hub.db, acct.accountId, models)).toBe('busy');
    await saveArticles(t.hub.db, acct.accountId, [{ title: 'Gift cards', body: 'Gift cards never expire.' }], models);
    await withAccount(t.hub.db, acct.accountId, (tx) => tx.query(`UPDATE kb_index SET lease_until = now() - interval '1 second'`));
    expect(await runKbIndex(t.hub.db, acct.accountId, models, { batchSize: 4 })).toBe('switched');
    const n = (await withAccount(t.hub.db, acct.accountId, (tx) => tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM kb_chunks`))).rows[0]!.n;
    expect(await vectorModels(t, acct)).toEqual([{ model: 'openai-compatible:new-embed', n }]);
    expect((await search(t, acct, 'gift cards expire'))[0]).toMatchObject({ title: 'Gift cards' });
  });

  it('a run whose lease was taken over while it waited on the endpoint writes nothing and leaves the new lease alone', async () => {
    const acct = await seeded(t);
    await withAccount(t.hub.db, acct.accountId, (tx) => requestReindex(tx, acct.accountId, models.configured.modelId));
    const release = newEmu.hold();
    const parked = newEmu.parked;
    const slow = runKbIndex(t.hub.db, acct.accountId, models, { batchSize: 4 });
    try {
      await eventually(async () => newEmu.parked > parked);
      // The embedding call is outside any transaction: the account's rows stay writable meanwhile.
      await withAccount(t.hub.db, acct.accountId, (tx) => tx.query(`UPDATE kb_index SET lease_until = now() + interval '1 minute', lease_owner = '00000000-0000-4000-8000-000000000001'`));
    } finally {
      release();
    }
    expect(await slow).toBe('busy');
    expect(await vectorModels(t, acct)).toEqual([{ model: 'openai-compatible:old-embed', n: expect.any(Number) }]);
    const lease = await withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<{ owner: string; held: boolean }>(`SELECT lease_owner AS owner, lease_until > now() AS held FROM kb_index`)).rows[0]);
    expect(lease).toEqual({ owner: '00000000-0000-4000-8000-000000000001', held: true });
  });

  it('gives a large account its own HNSW index before switching, and search uses it', async () => {
    const acct = await seeded(t);
    await withAccount(t.hub.db, acct.accountId, (tx) => requestReindex(tx, acct.accountId, models.configured.modelId));
    expect(await runKbIndex(t.hub.db, acct.accountId, models, { exactMaxRows: 5 })).toBe('switched');
    expect(await state(t, acct)).toMatchObject({ model: 'openai-compatible:new-embed', hnswModel: 'openai-compatible:new-embed' });
    const name = tenantIndexName(acct.accountId, 'openai-compatible:new-embed');
    expect((await t.hub.db.query(`SELECT 1 FROM pg_indexes WHERE indexname = $1`, [name])).rowCount).toBe(1);
    expect((await search(t, acct, 'reset link valid')).map((p) => p.title)).toContain('Passwords');
  });

  it('marks the reindex failed when the endpoint refuses the key', async () => {
    const acct = await seeded(t);
    await withAccount(t.hub.db, acct.accountId, (tx) => requestReindex(tx, acct.accountId, models.configured.modelId));
    newEmu.fail({ status: 401 });
    await expect(runKbIndex(t.hub.db, acct.accountId, models)).rejects.toMatchObject({ code: 'auth' });
    expect(await state(t, acct)).toMatchObject({ reindexState: 'failed', model: 'openai-compatible:old-embed', error: expect.stringContaining('auth') });
    expect((await search(t, acct, 'invoice copy'))[0]).toMatchObject({ title: 'Invoices', similarity: expect.any(Number) });
  });
});
