import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { startEmbeddingsEmulator, type EmbeddingsEmulator } from '../../ai/embed/emulator.js';
import { runImport } from '../../ai/kb/import.js';
import { AiThreadPool } from '../../ai/workers/pool.js';
import { LocalModels } from '../../ai/workers/models.js';
import { EmbedderSet } from '../../ai/embed/set.js';

/*
 * A knowledge-base import is a `kb.import` job: the request answers 202 at once, and GET shows the job's
 * progress. The embedding endpoint emulator holds its answers, so progress is seen mid-way for certain.
 */
let emu: EmbeddingsEmulator;
let t: TestHub;
let acct: TestAccount;
let other: TestAccount;

const api = (key: string, method: 'GET' | 'POST', url: string, payload?: object) =>
  t.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${key}` }, ...(payload ? { payload } : {}) });
const articles = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ title: `${tag} article ${i}`, body: `How to do thing ${i} of ${tag}. Step one, step two.`, externalId: `${tag}-${i}` }));

beforeAll(async () => {
  emu = await startEmbeddingsEmulator({ dimension: 64 });
  t = await startTestHub({
    embedded: true,
    env: { HUMMDESK_EMBEDDINGS_PROVIDER: 'openai-compatible', HUMMDESK_OPENAI_BASE_URL: `${emu.url}/v1`, HUMMDESK_EMBEDDINGS_MODEL: 'emu-embed' },
  });
  acct = await createTestAccount(t);
  other = await createTestAccount(t);
}, 120_000);
afterAll(async () => {
  await t?.close();
  await emu?.close();
});

describe('knowledge-base import as a job', () => {
  it('answers 202 at once and GET shows the progress slice by slice', async () => {
    const first = emu.hold();
    const r = await api(acct.apiKeys.admin, 'POST', '/kb/import', { articles: articles(45, 'progress') });
    expect(r.statusCode, r.body).toBe(202);
    const id = r.json().id;
    expect(r.headers.location).toBe(`/api/v1/kb/imports/${id}`);
    expect(r.json()).toMatchObject({ state: 'queued', total: 45, done: 0, error: null });
    const status = async () => (await api(acct.apiKeys.viewer, 'GET', `/kb/imports/${id}`)).json();
    // The first slice is being embedded: nothing written yet.
    await eventually(async () => emu.parked > 0);
    expect(await status()).toMatchObject({ state: 'running', total: 45, done: 0 });
    // Let the first slice through, hold the second.
    const second = emu.hold();
    first();
    // On the embedded store a slice is 4 articles: its one connection is held only that long per transaction.
    await eventually(async () => (await status()).done === 4 && emu.parked > 0);
    expect(await status()).toMatchObject({ state: 'running', done: 4, created: 4 });
    second();
    const done = await eventually(async () => ((await status()).state === 'done' ? status() : undefined));
    expect(done).toMatchObject({ state: 'done', total: 45, done: 45, created: 45, updated: 0, error: null, finishedAt: expect.any(String) });
    expect(done.chunks).toBeGreaterThanOrEqual(45);
    // Imported again: the same external ids are updated, not duplicated.
    const again = await api(acct.apiKeys.admin, 'POST', '/kb/import', { articles: articles(45, 'progress') });
    const redone = await eventually(async () => {
      const s = (await api(acct.apiKeys.viewer, 'GET', `/kb/imports/${again.json().id}`)).json();
      return s.state === 'done' ? s : undefined;
    });
    expect(redone).toMatchObject({ created: 0, updated: 45 });
  });

  it("an import is its account's own: another tenant gets 404, as does an unknown id", async () => {
    const r = await api(acct.apiKeys.admin, 'POST', '/kb/import', { articles: articles(1, 'mine') });
    const id = r.json().id;
    expect((await api(other.apiKeys.admin, 'GET', `/kb/imports/${id}`)).json()).toMatchObject({ error: { code: 'import_not_found' } });
    expect((await api(acct.apiKeys.admin, 'GET', '/kb/imports/00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    await eventually(async () => (await api(acct.apiKeys.viewer, 'GET', `/kb/imports/${id}`)).json().state === 'done');
  });

  it('a refused embedding fails the import with a code GET shows', async () => {
    emu.fail({ status: 401 }, { status: 401 }, { status: 401 });
    const r = await api(acct.apiKeys.admin, 'POST', '/kb/import', { articles: articles(2, 'refused') });
    const failed = await eventually(async () => {
      const s = (await api(acct.apiKeys.viewer, 'GET', `/kb/imports/${r.json().id}`)).json();
      return s.state === 'failed' ? s : undefined;
    });
    expect(failed).toMatchObject({ state: 'failed', done: 0, error: { code: 'embeddings_unavailable' } });
  });
});

describe('an import on the embedded store', () => {
  it('embeds a slice of 4 articles in one call and writes each article in its own transaction', { timeout: 300_000 }, async () => {
    // An emulator of its own: failures scripted for another test never reach this one.
    const own = await startEmbeddingsEmulator({ dimension: 64 });
    const h = await startTestHub({
      embedded: true, jobs: false,
      env: { HUMMDESK_EMBEDDINGS_PROVIDER: 'openai-compatible', HUMMDESK_OPENAI_BASE_URL: `${own.url}/v1`, HUMMDESK_EMBEDDINGS_MODEL: 'emu-embed' },
    });
    try {
      const a = await createTestAccount(h);
      const posted = await h.app.inject({ method: 'POST', url: '/api/v1/kb/import', headers: { authorization: `Bearer ${a.apiKeys.admin}` }, payload: { articles: articles(10, 'one-by-one') } });
      expect(posted.statusCode, posted.body).toBe(202);
      const before = own.requests.length;
      // `then` runs once in every transaction that writes articles (and their progress).
      let transactions = 0;
      expect(await runImport(h.hub.db, a.accountId, posted.json().id, h.hub.embedders, { then: async () => void transactions++ })).toBe('done');
      // Its one connection is held for one article at a time (was 3 transactions of up to 4), while
      // the passages are embedded as before: 4 articles per call.
      expect(transactions).toBe(10);
      expect(own.requests.slice(before).map((r) => r.body.input.length)).toEqual([4, 4, 2]);
      const status = (await h.app.inject({ method: 'GET', url: `/api/v1/kb/imports/${posted.json().id}`, headers: { authorization: `Bearer ${a.apiKeys.viewer}` } })).json();
      expect(status).toMatchObject({ state: 'done', total: 10, done: 10, created: 10, chunks: 10 });
    } finally {
      await h.close();
      await own.close();
    }
  });
});

describe('the local model in AI threads (jobs run by hand)', () => {
  it('an AI thread that dies mid-import fails it with ai_worker_crashed; the pool serves the next import', { timeout: 300_000 }, async () => {
    const h = await startTestHub({ embedded: true, jobs: false });
    const pool = new AiThreadPool({ size: 1, entry: fileURLToPath(new URL('../../ai/workers/testing/crashing-thread.ts', import.meta.url)) });
    const crashing = new LocalModels(pool).embedder;
    try {
      const a = await createTestAccount(h);
      const post = (body: string) => h.app.inject({ method: 'POST', url: '/api/v1/kb/import', headers: { authorization: `Bearer ${a.apiKeys.admin}` }, payload: { articles: [{ title: 'Threads', body }] } });
      const status = async (id: string) => (await h.app.inject({ method: 'GET', url: `/api/v1/kb/imports/${id}`, headers: { authorization: `Bearer ${a.apiKeys.viewer}` } })).json();
      const doomed = (await post('crash this thread')).json().id;
      expect(await runImport(h.hub.db, a.accountId, doomed, new EmbedderSet(crashing, crashing), { lastAttempt: true })).toBe('gone');
      expect(await status(doomed)).toMatchObject({ state: 'failed', done: 0, error: { code: 'ai_worker_crashed' } });
      const fine = (await post('Threads come back after a crash.')).json().id;
      expect(await runImport(h.hub.db, a.accountId, fine, new EmbedderSet(crashing, crashing))).toBe('done');
      expect(await status(fine)).toMatchObject({ state: 'done', done: 1, created: 1, error: null });
      expect(pool.alive).toBe(1);
    } finally {
      await pool.close();
      await h.close();
    }
  });

  it('closing the hub terminates its AI threads', { timeout: 300_000 }, async () => {
    const h = await startTestHub({ embedded: true, jobs: false });
    const pool = h.hub.ai.models.compute as AiThreadPool;
    // The threads start with the first work, not with the hub.
    expect(pool.alive).toBe(0);
    expect(await h.hub.embedders.embed(['start a thread'])).toHaveLength(1);
    expect(pool.alive).toBeGreaterThan(0);
    await h.close();
    expect(pool.alive).toBe(0);
  });
});
