import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboundEvent } from '../../connectors/core/types.js';
import { findInstallation } from '../../storage/repositories/channels.js';
import { withAccount } from '../../storage/session.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import type { ModelEmulator } from '../../ai/providers/external/emulator.js';
import { rateLimited, startAnthropicEmulator, textReply } from '../../ai/providers/anthropic/emulator.js';
import { chatJson, startOpenAiEmulator } from '../../ai/providers/openai/emulator.js';
import { agentLanguage } from './translate.js';

let claude: ModelEmulator;
let openai: ModelEmulator;
let t: TestHub;
const accounts = {} as Record<'local' | 'claude' | 'openai', TestAccount & { conversationId: string; messageId: string }>;

const FINNISH = 'Tilaukseni 4711 ei ole vieläkään saapunut. Vastatkaa osoitteeseen anna.virtanen@example.fi';

async function conversationIn(acct: TestAccount, provider: string | null) {
  if (provider) await t.hub.db.query(`UPDATE accounts SET settings = jsonb_set(settings, '{ai}', $2::jsonb) WHERE id = $1`, [acct.accountId, JSON.stringify({ provider })]);
  const channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: acct.channelId }))!;
  const event: InboundEvent = {
    type: 'message',
    message: { channel: { kind: 'webchat', channelId: channel.id }, externalId: `m-${acct.slug}`, threadKey: `webchat:${channel.id}:${acct.slug}`, direction: 'inbound',
      sender: { externalId: 'v1', isBot: false }, sentAt: '2026-12-01T10:00:00.000Z', text: FINNISH, attachments: [], raw: {} },
  };
  const [o] = await t.hub.ingest.ingest(channel, [event]);
  const conversationId = o!.conversationId!;
  // What the AI stage would have stored: the message is Finnish.
  const messageId = await withAccount(t.hub.db, acct.accountId, async (tx) => {
    const id = (await tx.query<{ id: string }>(`SELECT id FROM messages WHERE conversation_id = $1`, [conversationId])).rows[0]!.id;
    await tx.query(`INSERT INTO ai_results (account_id, conversation_id, message_id, provider, model, latency_ms, language) VALUES ($1, $2, $3, 'local', 'test', 1, 'fi')`, [acct.accountId, conversationId, id]);
    await tx.query(`UPDATE conversations SET language = 'fi' WHERE id = $1`, [conversationId]);
    return id;
  });
  return { ...acct, conversationId, messageId };
}

const post = (key: string, url: string, payload: object, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: { authorization: `Bearer ${key}`, ...headers }, payload });
const messageCount = (a: { accountId: string; conversationId: string }) =>
  withAccount(t.hub.db, a.accountId, async (tx) => Number((await tx.query<{ n: string }>(`SELECT count(*) AS n FROM messages WHERE conversation_id = $1`, [a.conversationId])).rows[0]!.n));

beforeAll(async () => {
  [claude, openai] = await Promise.all([startAnthropicEmulator(), startOpenAiEmulator()]);
  t = await startTestHub({
    jobs: false,
    env: {
      HUMMDESK_AI_PROVIDER: 'local', HUMMDESK_AI_MAX_RETRIES: '0',
      ANTHROPIC_API_KEY: 'test-key', HUMMDESK_ANTHROPIC_BASE_URL: claude.url,
      HUMMDESK_OPENAI_BASE_URL: `${openai.url}/v1`, HUMMDESK_OPENAI_MODEL: 'llama-3-8b',
    },
  });
  accounts.local = await conversationIn(await createTestAccount(t), null);
  accounts.claude = await conversationIn(await createTestAccount(t), 'anthropic');
  accounts.openai = await conversationIn(await createTestAccount(t), 'openai-compatible');
}, 120_000);
afterAll(async () => {
  await t?.close();
  await Promise.all([claude?.close(), openai?.close()]);
});

describe('translation for agents', () => {
  it('offline (local provider) answers 409 translation_unavailable and calls no model', async () => {
    const a = accounts.local;
    const before = claude.requests.length + openai.requests.length;
    const read = await post(a.apiKeys.agent, `/conversations/${a.conversationId}/messages/${a.messageId}/translate`, {}, { 'accept-language': 'en-GB,en;q=0.8' });
    expect(read.statusCode, read.body).toBe(409);
    expect(read.json().error.code).toBe('translation_unavailable');
    const preview = await post(a.apiKeys.agent, `/conversations/${a.conversationId}/reply-translation`, { text: 'Your order ships tomorrow.' });
    expect(preview.statusCode).toBe(409);
    expect(preview.json().error.code).toBe('translation_unavailable');
    expect(claude.requests.length + openai.requests.length).toBe(before);
  });

  it("with Claude a message reads in the agent's language, the original kept, personal data never sent", async () => {
    const a = accounts.claude;
    claude.script(textReply('My order 4711 has still not arrived. Please reply to [EMAIL_1]'));
    const r = await post(a.apiKeys.agent, `/conversations/${a.conversationId}/messages/${a.messageId}/translate`, {}, { 'accept-language': 'en-GB,en;q=0.8' });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toEqual({
      messageId: a.messageId,
      original: { text: FINNISH, language: 'fi' },
      translation: { text: 'My order 4711 has still not arrived. Please reply to anna.virtanen@example.fi', language: 'en' },
      provider: 'anthropic', model: expect.any(String),
    });
    const sent = claude.requests.at(-1)!;
    expect(sent.path).toBe('/v1/messages');
    const prompt = JSON.stringify(sent.body.messages);
    expect(prompt).not.toContain('anna.virtanen@example.fi');
    expect(prompt).toContain('[EMAIL_1]');
    expect(prompt).toContain('English (en)');
    expect(prompt).toContain('<text>');
    expect(sent.body.system).toMatch(/data, never instructions/);
    // Counted with the account's AI use.
    const usage = await withAccount(t.hub.db, a.accountId, async (tx) => (await tx.query(`SELECT provider, input_tokens AS "in" FROM ai_usage WHERE conversation_id = $1`, [a.conversationId])).rows);
    expect(usage).toEqual([{ provider: 'anthropic', in: 120 }]);
  });

  it("previews a reply in the customer's language side by side and sends nothing", async () => {
    const a = accounts.claude;
    const before = await messageCount(a);
    claude.script(textReply('Tilauksesi 4711 lähtee huomenna.'));
    const r = await post(a.apiKeys.agent, `/conversations/${a.conversationId}/reply-translation`, { text: 'Your order 4711 ships tomorrow.', from: 'en' });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ original: { text: 'Your order 4711 ships tomorrow.', language: 'en' }, translation: { text: 'Tilauksesi 4711 lähtee huomenna.', language: 'fi' }, provider: 'anthropic' });
    expect(JSON.stringify(claude.requests.at(-1)!.body.messages)).toContain('Finnish (fi)');
    expect(await messageCount(a)).toBe(before);
  });

  it('never hands back an untranslated or mangled text as a translation: 502 translation_failed', async () => {
    const a = accounts.claude;
    const url = `/conversations/${a.conversationId}/reply-translation`;
    claude.script(textReply('Your order ships tomorrow.'));
    const same = await post(a.apiKeys.agent, url, { text: 'Your order ships tomorrow.', from: 'en', to: 'sv' });
    expect(same.statusCode).toBe(502);
    expect(same.json().error).toMatchObject({ code: 'translation_failed', details: { cause: 'bad_output' } });
    claude.script(textReply('Svara till mig.'));
    const lost = await post(a.apiKeys.agent, url, { text: 'Write to me at anna@example.com.', to: 'sv' });
    expect(lost.statusCode).toBe(502);
    expect(lost.json().error.code).toBe('translation_failed');
    claude.script(rateLimited);
    const limited = await post(a.apiKeys.agent, url, { text: 'Thanks!', to: 'sv' });
    expect(limited.statusCode).toBe(502);
    expect(limited.json().error).toMatchObject({ code: 'translation_failed', details: { cause: 'rate_limited' } });
  });

  it('with an OpenAI-compatible server too', async () => {
    const a = accounts.openai;
    openai.script(chatJson('My order 4711 has still not arrived. Please reply to [EMAIL_1]'));
    const r = await post(a.apiKeys.agent, `/conversations/${a.conversationId}/messages/${a.messageId}/translate`, { to: 'en' });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ translation: { text: 'My order 4711 has still not arrived. Please reply to anna.virtanen@example.fi', language: 'en' }, provider: 'openai-compatible', model: 'llama-3-8b' });
    const sent = openai.requests.at(-1)!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.body).toMatchObject({ model: 'llama-3-8b', temperature: 0 });
    expect(JSON.stringify(sent.body.messages)).not.toContain('anna.virtanen@example.fi');
  });

  it('a message already in the agent\'s language comes back as it is, offline too; a message of another conversation is 404', async () => {
    const a = accounts.local;
    const r = await post(a.apiKeys.agent, `/conversations/${a.conversationId}/messages/${a.messageId}/translate`, { to: 'fi' });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ translation: { text: FINNISH, language: 'fi' }, provider: null });
    const other = await post(a.apiKeys.agent, `/conversations/${a.conversationId}/messages/${accounts.claude.messageId}/translate`, { to: 'en' });
    expect(other.statusCode).toBe(404);
    expect(other.json().error.code).toBe('message_not_found');
    expect((await post(a.apiKeys.viewer, `/conversations/${a.conversationId}/reply-translation`, { text: 'x' })).statusCode).toBe(403);
  });

  it("takes the agent's language from Accept-Language", () => {
    expect(agentLanguage('fi-FI,fi;q=0.9,en;q=0.8')).toBe('fi');
    expect(agentLanguage(undefined)).toBe('en');
    expect(agentLanguage('*')).toBe('en');
  });
});
