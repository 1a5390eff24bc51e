import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelInstallation, InboundEvent } from '../../connectors/core/types.js';
import { findInstallation } from '../../storage/repositories/channels.js';
import { withAccount } from '../../storage/session.js';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub, importKb } from '../../hub/testing/harness.js';
import { localAi } from '../../hub/install-ai.js';
import { languageDetector } from '../providers/local/language.js';
import { seedDemoKnowledge } from '../../hub/services/demo-knowledge.js';

let t: TestHub;
let acct: TestAccount;
let channel: ChannelInstallation;
let seq = 0;

const api = (key: string, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) =>
  t.app.inject({ method, url: `/api/v1${url}`, headers: { 'x-api-key': key }, payload: payload as Record<string, unknown> | undefined });

const inbound = (visitor: string, text: string): InboundEvent => ({
  type: 'message',
  message: {
    channel: { kind: 'webchat', channelId: channel.id }, externalId: `m-${++seq}`, threadKey: `webchat:${channel.id}:${visitor}`, direction: 'inbound',
    sender: { externalId: visitor, isBot: false }, sentAt: new Date(Date.now() + seq).toISOString(), text, attachments: [], raw: {},
  },
});

type Draft = { id: string; status: string; text: string; citations: { id: string; title: string }[] };
const drafts = async (conversationId: string) => (await api(acct.apiKeys.agent, 'GET', `/conversations/${conversationId}`)).json() as { drafts: Draft[]; ai: { id: string; evidence: { draft: Record<string, unknown> } } | null };
const open = async (conversationId: string) => (await drafts(conversationId)).drafts.filter((d) => d.status === 'proposed');

/** Ingests a message and waits for its analysis; returns the conversation and what the agent sees. */
async function ask(visitor: string, text: string) {
  const [o] = await t.hub.ingest.ingest(channel, [inbound(visitor, text)]);
  const ai = await eventually(() => withAccount(t.hub.db, acct.accountId, async (tx) =>
    (await tx.query<{ evidence: { draft: Record<string, unknown> } }>(`SELECT evidence FROM ai_results WHERE message_id = $1`, [o!.messageId])).rows[0]), 60_000);
  return { conversationId: o!.conversationId!, note: ai.evidence.draft, open: await open(o!.conversationId!) };
}

let fiShipping: string;
let enPassword: string;

beforeAll(async () => {
  t = await startTestHub({ ai: true });
  // Models load here, not inside the first test's time.
  await Promise.all([localAi(t.hub).warm(), languageDetector()]);
  acct = await createTestAccount(t);
  channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: acct.channelId }))!;
  // The demo help centre when the failures were seen: the Finnish shipping article beside English ones.
  const r = await importKb(t, acct.apiKeys.admin, [
    { title: 'Resetting your password', language: 'en', externalId: 'pw', body: 'Use "Forgot password" on the sign-in page. The reset link is valid for one hour. If the email does not arrive, check the spam folder.' },
    { title: 'Where is my order?', language: 'en', externalId: 'ship', body: 'Orders ship within 2 business days. You get a tracking link by email as soon as the parcel leaves our warehouse. If the tracking has not moved for 5 days, reply with your order number and we will open an investigation with the carrier.' },
    { title: 'Refunds and returns', language: 'en', externalId: 'refunds', body: 'You can return any item within 30 days. Refunds go back to the original payment method within 5 to 7 business days after we receive the return.' },
    { title: 'Missä tilaukseni on?', language: 'fi', externalId: 'ship-fi', body: 'Tilaukset lähtevät kahden arkipäivän kuluessa. Saat seurantalinkin sähköpostiisi, kun paketti lähtee varastostamme. Jos seuranta ei ole liikkunut viiteen päivään, lähetä tilausnumerosi, niin selvitämme asian kuljetusyhtiön kanssa.' },
  ]);
  expect(r.status.state, JSON.stringify(r.status)).toBe('done');
  const list = (await api(acct.apiKeys.viewer, 'GET', '/kb/articles?limit=10')).json().items as { id: string; externalId: string }[];
  fiShipping = list.find((a) => a.externalId === 'ship-fi')!.id;
  enPassword = list.find((a) => a.externalId === 'pw')!.id;
}, 300_000);
afterAll(() => t?.close());

describe('drafts in the customer language, on topic', () => {
  it('gives a Swedish password question no Finnish shipping text, and tells the agent the English article fits', async () => {
    const { note, open: d } = await ask('sv1', 'Hej, jag har glömt mitt lösenord och kan inte logga in');
    expect(d).toHaveLength(1);
    expect(d[0]!.citations).toEqual([]);
    expect(d[0]!.text).toMatch(/^Hej,/);
    expect(d[0]!.text).not.toMatch(/Tilaukset|seuranta|Forgot password/);
    expect(note).toMatchObject({ reason: 'article_in_other_language', language: 'sv', suggestion: { articleId: enPassword, language: 'en' } });
  });

  it('keeps a language variant its own id and language, one per language, and a draft cites the variant in the customer language', async () => {
    const created = await api(acct.apiKeys.admin, 'POST', `/kb/articles/${enPassword}/variants`, {
      title: 'Återställa ditt lösenord', language: 'sv',
      body: 'Välj "Glömt lösenord" på inloggningssidan. Länken för att återställa lösenordet gäller i en timme. Om mejlet inte kommer fram, titta i skräpposten.',
    });
    expect(created.statusCode, created.body).toBe(201);
    const sv = created.json() as { id: string; language: string; variantGroup: string };
    expect(sv.id).not.toBe(enPassword);
    expect(sv).toMatchObject({ language: 'sv', variantGroup: enPassword });
    const again = await api(acct.apiKeys.admin, 'POST', `/kb/articles/${enPassword}/variants`, { title: 'Again', language: 'sv', body: 'x' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('variant_exists');
    const moved = await api(acct.apiKeys.admin, 'PATCH', `/kb/articles/${sv.id}`, { language: 'en' });
    expect(moved.statusCode).toBe(409);
    expect((await api(acct.apiKeys.admin, 'POST', `/kb/articles/00000000-0000-4000-8000-000000000000/variants`, { title: 'x', language: 'de', body: 'x' })).statusCode).toBe(404);
    const variants = (await api(acct.apiKeys.viewer, 'GET', `/kb/articles/${sv.id}/variants`)).json().items as { id: string; language: string }[];
    expect(variants.map((v) => [v.id, v.language])).toEqual([[enPassword, 'en'], [sv.id, 'sv']]);

    const { open: d, note } = await ask('sv2', 'Hej, jag har glömt mitt lösenord och kan inte logga in');
    expect(note.reason).toBe('answered');
    expect(d[0]!.citations.map((c) => c.id)).toEqual([sv.id]);
    expect(d[0]!.text).toContain('Glömt lösenord');
  });

  it('answers a Finnish password question and a Finnish thank-you without shipping or refund text', async () => {
    const q = await ask('fi1', 'Unohdin salasanani enkä pääse kirjautumaan');
    expect(q.open[0]!.citations.map((c) => c.id)).not.toContain(fiShipping);
    expect(q.open[0]!.text).toMatch(/^Hei,/);
    expect(q.open[0]!.text).not.toMatch(/Tilaukset|seuranta|Refunds|Forgot/);
    const thanks = await ask('fi2', 'Kiitos paljon, nyt toimii!');
    expect(thanks.note.reason).toBe('thanks');
    expect(thanks.open).toHaveLength(1);
    expect(thanks.open[0]!.citations).toEqual([]);
    expect(thanks.open[0]!.text).toMatch(/^Hei,\n\nkiitos/);
  });

  it('apologises to a furious customer and never talks about billing on a delivery complaint', async () => {
    const { open: d } = await ask('en1', 'This is unacceptable!! My parcel never arrived and the tracking has not moved for a week. Order 48213.');
    expect(d[0]!.text.split('\n\n')[1]).toMatch(/sorry/i);
    expect(d[0]!.text).not.toMatch(/should help|billing/i);
    expect(d[0]!.text).toContain('48213');
    expect(d[0]!.text).not.toMatch(/reply with your order number/i);
  });

  it('writes no draft in a language the templates do not cover, and the API says why', async () => {
    const { open: d, note } = await ask('fr1', 'Bonjour, je ne trouve pas ma commande, pouvez-vous m’aider ?');
    expect(d).toEqual([]);
    expect(note).toMatchObject({ reason: 'language_not_supported', language: 'fr' });
  });
});

describe('the demo help centre', () => {
  it('links the Finnish and Swedish articles as variants and answers a Swedish password question from its own, also when seeded twice', async () => {
    const demo = await createTestAccount(t);
    await seedDemoKnowledge(t.hub.db, demo.accountId, t.hub.embedders);
    await seedDemoKnowledge(t.hub.db, demo.accountId, t.hub.embedders);
    const list = (await t.app.inject({ method: 'GET', url: '/api/v1/kb/articles?limit=50', headers: { 'x-api-key': demo.apiKeys.viewer } })).json().items as { title: string; language: string; variantGroup: string; externalId: string }[];
    expect(list).toHaveLength(9);
    const group = (id: string) => list.find((a) => a.externalId === id)!.variantGroup;
    expect(group('demo-toimitus')).toBe(group('demo-shipping'));
    expect(group('demo-password-sv')).toBe(group('demo-password'));
    const demoChannel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: demo.channelId }))!;
    const [o] = await t.hub.ingest.ingest(demoChannel, [{ ...inbound('demo-sv', 'Hej, jag har glömt mitt lösenord och kan inte logga in'), message: { ...(inbound('demo-sv', 'Hej, jag har glömt mitt lösenord och kan inte logga in') as { message: object }).message, channel: { kind: 'webchat', channelId: demoChannel.id }, threadKey: `webchat:${demoChannel.id}:demo-sv` } } as InboundEvent]);
    const draft = await eventually(() => withAccount(t.hub.db, demo.accountId, async (tx) =>
      (await tx.query<{ citations: { title: string }[] }>(`SELECT citations FROM drafts WHERE conversation_id = $1 AND status = 'proposed'`, [o!.conversationId])).rows[0]), 60_000);
    expect(draft.citations.map((c) => c.title)).toEqual(['Återställa ditt lösenord']);
  });
});

describe('drafts are retired', () => {
  it('when the agent replies by hand, when the conversation is resolved, and when a new analysis has nothing to propose', async () => {
    const first = await ask('r1', 'Where is my order? The tracking has not moved for days');
    expect(first.open.length).toBeGreaterThan(0);
    const reply = await api(acct.apiKeys.agent, 'POST', `/conversations/${first.conversationId}/reply`, { text: 'Checking with the carrier now.' });
    expect(reply.statusCode, reply.body).toBeLessThan(300);
    expect(await open(first.conversationId)).toEqual([]);

    const second = await ask('r2', 'I forgot my password and cannot log in');
    expect(second.open.length).toBeGreaterThan(0);
    expect((await api(acct.apiKeys.agent, 'POST', `/conversations/${second.conversationId}/status`, { status: 'resolved' })).statusCode).toBeLessThan(300);
    expect(await open(second.conversationId)).toEqual([]);

    // The customer writes again, in a language with no template: the old English draft is not left beside nothing.
    const third = await ask('r3', 'I forgot my password and cannot log in');
    const old = third.open.map((d) => d.id);
    expect(old.length).toBeGreaterThan(0);
    const again = await ask('r3', 'Hola, ¿alguien puede ayudarme con la contraseña?');
    expect(again.note.reason).toBe('language_not_supported');
    expect(again.open).toEqual([]);
    // And a newer analysis with drafts replaces the old ones: only one analysis's proposals are open.
    const fourth = await ask('r3', 'Where is my order? The tracking has not moved for days');
    expect(fourth.open.length).toBeGreaterThan(0);
    expect(fourth.open.some((d) => old.includes(d.id))).toBe(false);
  });
});
