import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { withAccount } from '../../storage/session.js';
import { startEmbeddingsEmulator, type EmbeddingsEmulator } from '../../ai/embed/emulator.js';
import { localEmbedder } from '../../ai/embed/local.js';
import { saveArticles } from '../../ai/kb/save.js';
import { scheduleKbReindexes } from '../install-ai.js';

/*
 * A hub configured for an OpenAI-compatible embeddings endpoint (the emulator) over a knowledge base
 * indexed with the local model: the reindex runs as a job with its progress in the API, search keeps
 * answering from the local vectors until the switch, and customer text reaches the endpoint redacted.
 */
let emu: EmbeddingsEmulator;
let t: TestHub;
let acct: TestAccount;
let chunks: number;
const MODEL = 'openai-compatible:emu-embed';

const api = (method: 'GET' | 'POST', url: string, key = acct.apiKeys.admin) =>
  t.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${key}` } });
const status = async () => (await api('GET', '/kb/reindex')).json();
const search = async (q: string) => (await api('GET', `/kb/search?q=${encodeURIComponent(q)}&limit=3`)).json().items as { title: string; similarity: number | null }[];

beforeAll(async () => {
  emu = await startEmbeddingsEmulator({ dimension: 64 });
  t = await startTestHub({
    env: {
      HUMMDESK_EMBEDDINGS_PROVIDER: 'openai-compatible', HUMMDESK_OPENAI_BASE_URL: `${emu.url}/v1`, HUMMDESK_OPENAI_API_KEY: 'sk-emu',
      HUMMDESK_EMBEDDINGS_MODEL: 'emu-embed', HUMMDESK_EMBEDDINGS_BATCH: '4',
    },
  });
  acct = await createTestAccount(t);
  const articles = [
    { title: 'Refunds', body: 'Refunds are paid to the original card within five days.\n\n# Parcels\n\nA refund for a parcel needs the parcel number.' },
    { title: 'Passwords', body: 'Reset your password from the login page.\n\n# Links\n\nThe reset link is valid for one hour.' },
    { title: 'Invoices', body: 'Invoices are sent by email every month.\n\n# Copies\n\nA copy of an invoice is on the billing page.' },
    { title: 'Delivery', body: 'Delivery takes two to four days.\n\n# Lost parcels\n\nA lost parcel is replaced for free.' },
    { title: 'Gift cards', body: 'Gift cards never expire.\n\n# Balance\n\nThe balance of a gift card is shown at checkout.' },
  ];
  // Indexed before the endpoint was configured: with the local model.
  await saveArticles(t.hub.db, acct.accountId, articles, localEmbedder());
  chunks = articles.length * 2;
}, 120_000);
afterAll(async () => {
  await t?.close();
  await emu?.close();
});

describe('knowledge-base reindex API', () => {
  it('shows the local index and searches it without calling the endpoint', async () => {
    expect(await status()).toEqual({ state: 'idle', model: 'use-lite-512', dimension: 512, done: 0, total: 0, startedAt: null, finishedAt: null, error: null });
    expect((await search('how do I reset my password'))[0]).toMatchObject({ title: 'Passwords', similarity: expect.any(Number) });
    expect(emu.requests).toHaveLength(0);
  });

  it('reindexes in the background with progress, searching the old vectors until it switches', async () => {
    const release = emu.hold();
    const started = await api('POST', '/kb/reindex');
    expect(started.statusCode).toBe(202);
    expect(started.json()).toMatchObject({ state: 'running', model: MODEL, done: 0, total: chunks, startedAt: expect.any(String), finishedAt: null });
    await eventually(async () => emu.parked === 1);
    const next = emu.hold();
    release();
    await eventually(async () => (await status()).done === 4 && emu.parked === 1);
    expect(await status()).toMatchObject({ state: 'running', model: MODEL, dimension: 64, done: 4, total: chunks });
    expect((await search('how do I reset my password'))[0]).toMatchObject({ title: 'Passwords', similarity: expect.any(Number) });
    expect(emu.requests.map((r) => r.body.input.length)).toEqual([4, 4]);
    next();
    const done = await eventually(async () => { const s = await status(); return s.state === 'done' && s; });
    expect(done).toMatchObject({ model: MODEL, dimension: 64, done: chunks, total: chunks, finishedAt: expect.any(String), error: null });
    const models = await withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query(`SELECT DISTINCT model FROM kb_embeddings`)).rows);
    expect(models).toEqual([{ model: MODEL }]);
    expect(new Set(emu.requests.flatMap((r) => r.body.input)).size).toBe(chunks);
  });

  it('embeds a customer’s query through the endpoint with personal data redacted', async () => {
    emu.requests.length = 0;
    const hits = await search('lost parcel replaced? matti.meikalainen@example.fi, +358 40 123 4567, 4111 1111 1111 1111');
    expect(hits[0]).toMatchObject({ title: 'Delivery', similarity: expect.any(Number) });
    expect(emu.requests).toHaveLength(1);
    expect(emu.requests[0]!.headers.authorization).toBe('Bearer sk-emu');
    expect(emu.requests[0]!.body.input).toEqual(['lost parcel replaced? [EMAIL_1], [PHONE_1], [CARD_1]']);
  });

  it('new articles are embedded with the new model; start-up finds nothing left to reindex', async () => {
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/kb/articles', headers: { authorization: `Bearer ${acct.apiKeys.admin}` }, payload: { title: 'Warranty', body: 'The warranty lasts two years.' } });
    expect(created.statusCode).toBe(201);
    expect((await search('warranty years'))[0]).toMatchObject({ title: 'Warranty', similarity: expect.any(Number) });
    expect(await scheduleKbReindexes(t.hub)).toBe(0);
  });

  it('start-up reindexes an account left on another model', async () => {
    const other = await createTestAccount(t);
    await saveArticles(t.hub.db, other.accountId, [{ title: 'Returns', body: 'Returns are free within thirty days.' }], localEmbedder());
    expect(await scheduleKbReindexes(t.hub)).toBe(1);
    const done = await eventually(async () => { const s = (await api('GET', '/kb/reindex', other.apiKeys.viewer)).json(); return s.state === 'done' && s; });
    expect(done).toMatchObject({ model: MODEL, done: 1, total: 1 });
  });

  it('answers 503 with a stable code when the endpoint is down for an article write', async () => {
    emu.fail({ status: 500 }, { status: 500 }, { status: 500 });
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/kb/articles', headers: { authorization: `Bearer ${acct.apiKeys.admin}` }, payload: { title: 'Outage', body: 'Nothing here.' } });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('embeddings_unavailable');
  });

  it('lets only admins start a reindex', async () => {
    expect((await api('POST', '/kb/reindex', acct.apiKeys.agent)).statusCode).toBe(403);
    expect((await api('GET', '/kb/reindex', acct.apiKeys.viewer)).statusCode).toBe(200);
  });
});
