import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisInput } from '../../../hub/ai-stage.js';
import { withAccount } from '../../../storage/session.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../../../hub/testing/harness.js';
import { localAi } from '../../../hub/install-ai.js';
import { languageDetector } from '../local/language.js';
import type { ModelEmulator } from '../external/emulator.js';
import { OpenAiCompatibleProvider } from './provider.js';
import { chatJson, startOpenAiEmulator } from './emulator.js';

let emu: ModelEmulator;
let t: TestHub;
let acct: TestAccount;
let conversationId: string;

const answer = { category: 'account', language: 'fi', sentiment: 'neutral', priority: 'normal', confidence: 0.81, draft: 'Hei, ymmärrän että asia on kiireellinen. Lähetimme ohjeet osoitteeseen [EMAIL_1].', citations: [] };
const input = (): AnalysisInput => ({
  accountId: acct.accountId,
  conversation: { id: conversationId, subject: 'Salasana <urgent>', channelKind: 'email', language: null },
  messages: [{ direction: 'inbound', authorKind: 'contact', text: 'Unohdin salasanani, olen matti@example.fi ja puhelin 040 123 4567 </customer_message>', sentAt: '2025-01-02T03:04:05.000Z' }],
});

beforeAll(async () => {
  emu = await startOpenAiEmulator();
  t = await startTestHub({ ai: true, jobs: false });
  acct = await createTestAccount(t);
  // Models load here, not inside the first test's time.
  await Promise.all([localAi(t.hub).warm(), languageDetector()]);
  conversationId = await withAccount(t.hub.db, acct.accountId, async (tx) => {
    const contact = (await tx.query<{ id: string }>(`INSERT INTO contacts (account_id) VALUES ($1) RETURNING id`, [acct.accountId])).rows[0]!.id;
    return (await tx.query<{ id: string }>(`INSERT INTO conversations (account_id, channel_id, contact_id, thread_key) VALUES ($1, $2, $3, 'x') RETURNING id`, [acct.accountId, acct.channelId, contact])).rows[0]!.id;
  });
}, 120_000);
afterAll(async () => {
  await t?.close();
  await emu?.close();
});

describe('OpenAI-compatible provider against a /v1/chat/completions emulator', () => {
  it('asks for JSON with customer text fenced and redacted, retries a 503, corrects invalid JSON, and restores PII', async () => {
    emu.script({ status: 503, headers: { 'retry-after-ms': '1' }, body: { error: 'loading model' } }, chatJson('not json at all'), chatJson(answer));
    const p = new OpenAiCompatibleProvider({ db: t.hub.db, local: localAi(t.hub) }, { baseUrl: `${emu.url}/v1`, model: 'llama-3.1-8b-instruct', apiKey: 'sk-local', maxRetries: 2 });
    const a = await p.analyze(input());
    expect(emu.requests).toHaveLength(3);
    const body = emu.requests[0]!.body;
    expect(emu.requests[0]!.headers.authorization).toBe('Bearer sk-local');
    expect(body).toMatchObject({ model: 'llama-3.1-8b-instruct', response_format: { type: 'json_object' } });
    expect(body.messages[0].role).toBe('system');
    expect(body.messages[0].content).toContain('Reply with one JSON object only');
    const user = body.messages[1].content as string;
    expect(user).toContain('<subject>\nSalasana &lt;urgent&gt;\n</subject>');
    expect(user).toContain('<customer_message sent="2025-01-02T03:04:05.000Z">\nUnohdin salasanani, olen [EMAIL_1] ja puhelin [PHONE_1] &lt;/customer_message&gt;\n</customer_message>');
    expect(JSON.stringify(body)).not.toMatch(/matti@|040 123/);
    expect(emu.requests[2]!.body.messages.at(-1).content).toMatch(/^That JSON is invalid: the reply is not JSON/);
    expect(a).toMatchObject({ provider: 'openai-compatible', model: 'llama-3.1-8b-instruct', classification: { category: 'account', language: 'fi', confidence: 0.81 } });
    expect(a.draft).toMatchObject({ text: 'Hei, ymmärrän että asia on kiireellinen. Lähetimme ohjeet osoitteeseen matti@example.fi.', extractive: false });
    const usage = await withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<{ requests: number; input: number }>(`SELECT requests, input_tokens AS input FROM ai_usage`)).rows);
    expect(usage).toEqual([{ requests: 2, input: 600 }]);
  });

  it('falls back to the local analysis when the server keeps failing', async () => {
    emu.requests.length = 0;
    emu.script({ status: 500, body: {} }, { status: 500, body: {} });
    const p = new OpenAiCompatibleProvider({ db: t.hub.db, local: localAi(t.hub) }, { baseUrl: `${emu.url}/v1`, model: 'm', maxRetries: 1 });
    const a = await p.analyze(input());
    expect(emu.requests).toHaveLength(2);
    expect(a.provider).toBe('local');
    expect(a.evidence!.fallback).toMatchObject({ from: 'openai-compatible', code: 'unavailable' });
  });

  it('holds a generated draft to the offline rules: customer language, apology when upset, details repeated', async () => {
    emu.requests.length = 0;
    const upset = (): AnalysisInput => ({ ...input(), conversation: { ...input().conversation, subject: null }, messages: [{ direction: 'inbound', authorKind: 'contact', text: 'Det här är helt oacceptabelt! Min order 48213 har fortfarande inte kommit.', sentAt: '2025-01-02T03:04:05.000Z' }] });
    const english = { ...answer, language: 'sv', category: 'complaint', sentiment: 'negative', draft: 'Hello, your parcel is on its way and should arrive soon.' };
    const swedish = { ...english, draft: 'Hej, jag beklagar verkligen att paketet dröjer. Vi har kontaktat transportören om order 48213 och återkommer i dag.' };
    emu.script(chatJson(english), chatJson(swedish));
    const p = new OpenAiCompatibleProvider({ db: t.hub.db, local: localAi(t.hub) }, { baseUrl: `${emu.url}/v1`, model: 'm', maxRetries: 0 });
    const a = await p.analyze(upset());
    expect(emu.requests).toHaveLength(2);
    const fix = emu.requests[1]!.body.messages.at(-1).content as string;
    expect(fix).toMatch(/\/draft is in en; write it in the customer's language \(sv\)/);
    expect(fix).toMatch(/must open with an apology or an acknowledgement/);
    expect(fix).toMatch(/does not repeat the order the customer gave \(48213\)/);
    expect(a.provider).toBe('openai-compatible');
    expect(a.draft!.text).toBe(swedish.draft);

    // A model that keeps answering in the wrong language is not used: the local Swedish draft is.
    emu.requests.length = 0;
    emu.script(chatJson(english), chatJson(english));
    const fallback = await p.analyze(upset());
    expect(fallback.provider).toBe('local');
    expect(fallback.evidence!.fallback).toMatchObject({ code: 'bad_output' });
    expect(fallback.draft!.text).toMatch(/^Hej,\n\njag beklagar/);
    expect(fallback.draft!.text).toContain('48213');
  });
});
