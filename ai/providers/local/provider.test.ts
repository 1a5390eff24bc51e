import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelInstallation, InboundEvent } from '../../../connectors/core/types.js';
import { findInstallation } from '../../../storage/repositories/channels.js';
import { withAccount } from '../../../storage/session.js';
import { createTestAccount, eventually, importKb, startTestHub, type TestAccount, type TestHub } from '../../../hub/testing/harness.js';
import { localAi } from '../../../hub/install-ai.js';

let t: TestHub;
let acct: TestAccount;
let other: TestAccount;
let channel: ChannelInstallation;

const inbound = (externalId: string, text: string, visitor = externalId): InboundEvent => ({
  type: 'message',
  message: {
    channel: { kind: 'webchat', channelId: channel.id },
    externalId,
    threadKey: `webchat:${channel.id}:${visitor}`,
    direction: 'inbound',
    sender: { externalId: visitor, displayName: 'Vera Visitor', isBot: false },
    sentAt: new Date().toISOString(),
    text,
    attachments: [],
    raw: {},
  },
});

const api = (key: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
  t.app.inject({ method, url, headers: { 'x-api-key': key }, payload: payload as Record<string, unknown> | undefined });

beforeAll(async () => {
  t = await startTestHub({ ai: true });
  acct = await createTestAccount(t);
  other = await createTestAccount(t);
  channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: acct.channelId }))!;
  const articles = [
    { title: 'Refunds and double charges', body: '# Refunds\n\nIf you were charged twice, the duplicate payment is refunded automatically within 5 business days. You can see refunds under Billing > Invoices.', tags: ['billing'], externalId: 'kb-refunds' },
    { title: 'Resetting your password', body: 'Open the login page and choose "Forgot password". We email you a reset link that is valid for one hour.', tags: ['account'], externalId: 'kb-password' },
    { title: 'Palautukset', language: 'fi', body: 'Jos sinulta on veloitettu kahdesti, ylimääräinen maksu palautetaan automaattisesti viiden arkipäivän kuluessa.', externalId: 'kb-refunds-fi' },
  ];
  const r = await importKb(t, acct.apiKeys.admin, articles);
  expect(r.status.state, JSON.stringify(r.status)).toBe('done');
  // Another tenant's article about the same thing must never be cited or found.
  await api(other.apiKeys.admin, 'POST', '/api/v1/kb/articles', { title: 'Secret refund policy of another tenant', body: 'Charged twice? Other tenant refunds double payments immediately.' });
}, 120_000);
afterAll(() => t?.close());

describe('local AI stage', () => {
  // The first analysis loads the models in the AI thread: tens of seconds on a loaded machine.
  it('classifies, routes and drafts an ingested message from the knowledge base', { timeout: 180_000 }, async () => {
    const [o] = await t.hub.ingest.ingest(channel, [inbound('ai-1', 'Hi, I was charged twice for my subscription this month. Can I get a refund?')]);
    const row = await eventually(() =>
      withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<Record<string, unknown>>(`SELECT provider, model, confidence, category, evidence FROM ai_results WHERE message_id = $1`, [o!.messageId])).rows[0]),
      60_000,
    );
    expect(row.provider).toBe('local');
    expect(Number(row.confidence)).toBeGreaterThan(0);
    expect(row.category).toBe('billing');
    const conv = await withAccount(t.hub.db, acct.accountId, async (tx) =>
      (await tx.query<Record<string, string>>(`SELECT category, priority, sentiment, language FROM conversations WHERE id = $1`, [o!.conversationId])).rows[0]!);
    expect(conv).toMatchObject({ category: 'billing', language: 'en' });
    expect(['low', 'normal', 'high', 'urgent']).toContain(conv.priority);
    expect(['negative', 'neutral', 'positive']).toContain(conv.sentiment);
    const draft = await eventually(() => withAccount(t.hub.db, acct.accountId, async (tx) =>
      (await tx.query<{ text: string; extractive: boolean; citations: { id: string; title: string }[] }>(`SELECT text, extractive, citations FROM drafts WHERE conversation_id = $1`, [o!.conversationId])).rows[0]));
    expect(draft.extractive).toBe(true);
    expect(draft.citations[0]?.title).toBe('Refunds and double charges');
    expect(draft.text).toContain('refunded automatically');
    expect(draft.text).not.toContain('Other tenant');
  });

  it('writes no surface.sync job for an account without a Slack or Teams installation', { timeout: 180_000 }, async () => {
    const [o] = await t.hub.ingest.ingest(channel, [inbound('ai-nosurface', 'Where is my parcel? It has not moved for a week.')]);
    await eventually(() => withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query(`SELECT 1 FROM ai_results WHERE message_id = $1`, [o!.messageId])).rows[0]), 60_000);
    const jobs = await withAccount(t.hub.db, acct.accountId, async (tx) =>
      (await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE topic = 'surface.sync' AND payload->>'conversationId' = $1`, [o!.conversationId])).rows[0]!.n);
    expect(jobs).toBe(0);
  });

  it('answers a Finnish customer from the Finnish article with the Finnish template', async () => {
    const [o] = await t.hub.ingest.ingest(channel, [inbound('ai-fi', 'Minulta on veloitettu kahdesti tästä kuusta, haluan palautuksen')]);
    const draft = await eventually(() => withAccount(t.hub.db, acct.accountId, async (tx) =>
      (await tx.query<{ text: string; citations: { title: string }[] }>(`SELECT text, citations FROM drafts WHERE conversation_id = $1`, [o!.conversationId])).rows[0]), 60_000);
    expect(draft.text).toMatch(/^Hei/);
    expect(draft.citations[0]?.title).toBe('Palautukset');
    const conv = await withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<{ language: string }>(`SELECT language FROM conversations WHERE id = $1`, [o!.conversationId])).rows[0]!);
    expect(conv.language).toBe('fi');
  });

  it('searches the knowledge base by meaning and words, within one tenant', async () => {
    const r = await api(acct.apiKeys.viewer, 'GET', '/api/v1/kb/search?q=forgot%20my%20password');
    expect(r.statusCode, r.body).toBe(200);
    const items = r.json().items as { title: string }[];
    expect(items[0]?.title).toBe('Resetting your password');
    const theirs = await api(other.apiKeys.viewer, 'GET', '/api/v1/kb/search?q=refund%20charged%20twice');
    expect((theirs.json().items as { title: string }[]).map((i) => i.title)).toEqual(['Secret refund policy of another tenant']);
  });

  it('keeps draft articles out of search until published', async () => {
    const created = await api(acct.apiKeys.admin, 'POST', '/api/v1/kb/articles', { title: 'Shipping to the moon', body: 'Lunar shipping is not yet available.', status: 'draft' });
    expect(created.statusCode, created.body).toBe(201);
    const search = async () => (await api(acct.apiKeys.viewer, 'GET', '/api/v1/kb/search?q=lunar%20shipping')).json().items as { title: string }[];
    expect((await search()).map((i) => i.title)).not.toContain('Shipping to the moon');
    const patched = await api(acct.apiKeys.admin, 'PATCH', `/api/v1/kb/articles/${created.json().id}`, { status: 'published' });
    expect(patched.statusCode, patched.body).toBe(200);
    expect((await search())[0]?.title).toBe('Shipping to the moon');
  });

  it('learns a new category from agent corrections in the background', { timeout: 180_000 }, async () => {
    const texts = ['Where is my parcel?', 'My package has not arrived yet', 'Tracking number shows no movement for a week', 'The courier lost my delivery'];
    const ids: string[] = [];
    for (const [i, text] of texts.entries()) {
      const [o] = await t.hub.ingest.ingest(channel, [inbound(`ship-${i}`, text)]);
      ids.push(o!.conversationId!);
    }
    for (const id of ids) expect((await api(acct.apiKeys.agent, 'POST', `/api/v1/ai/conversations/${id}/category`, { category: 'shipping' })).statusCode).toBe(202);
    await localAi(t.hub).categories.idle(acct.accountId);
    const model = await api(acct.apiKeys.viewer, 'GET', '/api/v1/ai/model');
    expect(model.json().categories).toContain('shipping');
    const r = await localAi(t.hub).categories.forAccount(acct.accountId).then((m) => m.classify('my parcel never arrived, where is the package?'));
    expect(r.best).toBe('shipping');
    // The other tenant still has the default categories.
    expect((await localAi(t.hub).categories.forAccount(other.accountId)).categories).not.toContain('shipping');
  });

  it('reports draft acceptance and edit distance', async () => {
    const r = await api(acct.apiKeys.viewer, 'GET', '/api/v1/ai/stats');
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ days: 30, decided: 0, acceptanceRate: null });
    expect(r.json().drafts).toBeGreaterThan(0);
  });
});
