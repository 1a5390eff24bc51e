import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, eventually, importKb, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { withAccount } from '../../storage/session.js';
import { startEmbeddingsEmulator, type EmbeddingsEmulator } from '../../ai/embed/emulator.js';
import { localAi } from '../install-ai.js';

/*
 * On PGlite (one connection) a transaction that waits on the embedding endpoint stops the whole hub.
 * With the endpoint holding its answer, each knowledge-base operation below is parked in its embedding
 * call, and another tenant's database work must still go through meanwhile.
 */
let emu: EmbeddingsEmulator;
let t: TestHub;
let acct: TestAccount;
let other: TestAccount;

const api = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
  t.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${acct.apiKeys.admin}` }, ...(payload ? { payload } : {}) });

/** Another tenant's transaction, or a timeout if the connection is held. */
const unrelatedWork = () => Promise.race([
  withAccount(t.hub.db, other.accountId, async (tx) => (await tx.query(`SELECT count(*)::int AS n FROM kb_articles`)).rows[0]),
  new Promise<'blocked'>((r) => setTimeout(() => r('blocked'), 1_500)),
]);

/** Runs `work` with the endpoint holding every answer; once it is parked there, the database must be free. */
async function whileEmbedding<T>(work: () => Promise<T>): Promise<{ during: unknown; result: T }> {
  const release = emu.hold();
  const parkedBefore = emu.parked;
  const pending = work();
  try {
    await eventually(async () => emu.parked > parkedBefore, 60_000);
    return { during: await unrelatedWork(), result: await (release(), pending) };
  } finally {
    release();
  }
}

beforeAll(async () => {
  emu = await startEmbeddingsEmulator({ dimension: 64 });
  t = await startTestHub({
    embedded: true,
    env: { HUMMDESK_EMBEDDINGS_PROVIDER: 'openai-compatible', HUMMDESK_OPENAI_BASE_URL: `${emu.url}/v1`, HUMMDESK_EMBEDDINGS_MODEL: 'emu-embed' },
  });
  acct = await createTestAccount(t);
  other = await createTestAccount(t);
  expect((await api('POST', '/kb/articles', { title: 'Refunds', body: 'Refunds are paid to the original card within five days.' })).statusCode).toBe(201);
}, 120_000);
afterAll(async () => {
  await t?.close();
  await emu?.close();
});

describe('knowledge-base embedding calls hold no transaction (PGlite)', () => {
  it('the check is sensitive: a transaction waiting on the endpoint does block other work', async () => {
    const { during } = await whileEmbedding(() => withAccount(t.hub.db, acct.accountId, () => t.hub.embedders.configured.embed(['held'])));
    expect(during).toBe('blocked');
  });

  it('search embeds the query before its transaction', async () => {
    const { during, result } = await whileEmbedding(() => api('GET', `/kb/search?q=${encodeURIComponent('refund to my card')}`));
    expect(during).toEqual({ n: 0 });
    expect(result.json().items[0]).toMatchObject({ title: 'Refunds', similarity: expect.any(Number) });
  });

  it('creating, importing and editing articles embed before their transaction', async () => {
    const created = await whileEmbedding(() => api('POST', '/kb/articles', { title: 'Passwords', body: 'Reset your password from the login page.' }));
    expect(created.during).toEqual({ n: 0 });
    expect(created.result.statusCode).toBe(201);
    // The import's job embeds: the request has long been answered, and the database stays free meanwhile.
    const imported = await whileEmbedding(() => importKb(t, acct.apiKeys.admin, [{ title: 'Invoices', body: 'Invoices are sent every month.', externalId: 'inv' }]));
    expect(imported.during).toEqual({ n: 0 });
    expect(imported.result.status).toMatchObject({ state: 'done', total: 1, done: 1, created: 1, updated: 0, chunks: 1, error: null });
    const edited = await whileEmbedding(() => api('PATCH', `/kb/articles/${created.result.json().id}`, { body: 'A reset link is valid for one hour.' }));
    expect(edited.during).toEqual({ n: 0 });
    expect(edited.result.statusCode).toBe(200);
    const hits = (await api('GET', `/kb/search?q=${encodeURIComponent('reset link valid one hour')}`)).json().items;
    expect(hits[0]).toMatchObject({ title: 'Passwords', text: 'A reset link is valid for one hour.' });
  });

  it('the draft pipeline’s search embeds with the account’s model before its transaction', { timeout: 90_000 }, async () => {
    const { during, result } = await whileEmbedding(() => localAi(t.hub).search(acct.accountId, 'are refunds paid to the original card'));
    expect(during).toEqual({ n: 0 });
    expect(result[0]).toMatchObject({ title: 'Refunds' });
  });
});
