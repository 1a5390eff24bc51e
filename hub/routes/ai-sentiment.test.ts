import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubEvent } from '../realtime/events.js';
import type { Sentiment } from '../../ai/providers/local/sentiment.js';
import { withAccount } from '../../storage/session.js';
import { localAi } from '../install-ai.js';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { call, seedConversation } from '../testing/seed.js';

/*
 * An agent corrects a conversation's sentiment: the conversation changes at once, the correction is
 * audited and stored, and after the background retrain the account's next such message gets the
 * corrected label while every other account keeps the shipped model's.
 */

let t: TestHub;
let A: TestAccount;
let B: TestAccount;
// Plain words the shipped model reads as neutral, and an agent as a complaint (the other label otherwise).
const IDIOM = 'Still waiting on ticket 4411';
let shipped: Sentiment;
let corrected: Sentiment;

beforeAll(async () => {
  t = await startTestHub({ ai: true });
  A = await createTestAccount(t);
  B = await createTestAccount(t);
  shipped = localAi(t.hub).sentiment().classify(IDIOM).sentiment;
  corrected = shipped === 'negative' ? 'positive' : 'negative';
}, 120_000);
afterAll(() => t?.close());

const correct = (acct: TestAccount, conversationId: string, body: Record<string, unknown>) =>
  call(t, acct.users.agent.token, 'POST', `/api/v1/ai/conversations/${conversationId}/sentiment`, body);

const sentimentOf = (acct: TestAccount, conversationId: string) =>
  withAccount(t.hub.db, acct.accountId, async (tx) =>
    (await tx.query<{ sentiment: Sentiment | null }>(`SELECT sentiment FROM conversations WHERE id = $1`, [conversationId])).rows[0]!.sentiment);

/** A new conversation with this customer text, once the AI stage has classified it. */
async function analyzed(acct: TestAccount, text: string): Promise<{ conversationId: string; messageId: string; sentiment: Sentiment }> {
  const s = await seedConversation(t, acct, { text });
  const sentiment = await eventually(() => withAccount(t.hub.db, acct.accountId, async (tx) =>
    (await tx.query<{ sentiment: Sentiment }>(
      `SELECT c.sentiment FROM conversations c WHERE c.id = $1 AND EXISTS (SELECT 1 FROM ai_results r WHERE r.conversation_id = c.id)`, [s.conversationId],
    )).rows[0]?.sentiment), 60_000);
  return { ...s, sentiment };
}

const modelOf = async (acct: TestAccount) => (await call(t, acct.users.viewer.token, 'GET', '/api/v1/ai/model')).json().sentiment as { model: string; corrections: number; trainedAt: string | null };

describe('POST /ai/conversations/:id/sentiment', () => {
  it("changes the conversation's sentiment, audits it, stores the example and tells connected agents", async () => {
    const c = await analyzed(A, IDIOM);
    expect(c.sentiment).toBe(shipped);
    const events: HubEvent[] = [];
    const off = t.hub.bus.subscribe(A.accountId, (e) => events.push(e.event));
    const res = await correct(A, c.conversationId, { sentiment: corrected });
    off();
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({ retraining: true });
    expect(await sentimentOf(A, c.conversationId)).toBe(corrected);
    expect(events).toContainEqual({ type: 'conversation.updated', conversationId: c.conversationId, changes: { sentiment: corrected } });

    const audit = (await call(t, A.users.admin.token, 'GET', `/api/v1/audit?targetId=${c.conversationId}`)).json().items;
    expect(audit).toContainEqual(expect.objectContaining({
      action: 'conversation.sentiment_corrected', actorKind: 'user', actorId: A.users.agent.id,
      data: { sentiment: { from: shipped, to: corrected }, messageId: c.messageId },
    }));
    const example = await withAccount(t.hub.db, A.accountId, async (tx) =>
      (await tx.query(`SELECT id, conversation_id AS "conversationId", message_id AS "messageId", text, label, created_by AS "createdBy" FROM ai_sentiment_examples WHERE id = $1`, [res.json().exampleId])).rows[0]);
    expect(example).toEqual({ id: res.json().exampleId, conversationId: c.conversationId, messageId: c.messageId, text: IDIOM, label: corrected, createdBy: A.users.agent.id });
  }, 90_000);

  it("after the retrain the account's next such message gets the corrected label; another account keeps the shipped one", async () => {
    await localAi(t.hub).sentiments.idle(A.accountId);
    const model = await modelOf(A);
    expect(model.corrections).toBeGreaterThanOrEqual(1);
    expect(model.trainedAt).not.toBeNull();

    expect((await analyzed(A, IDIOM)).sentiment).toBe(corrected);
    // Case, spacing and digits do not make it another message.
    expect((await analyzed(A, 'still WAITING on ticket  98')).sentiment).toBe(corrected);
    expect((await analyzed(B, IDIOM)).sentiment).toBe(shipped);
    expect(await modelOf(B)).toEqual({ model: model.model, corrections: 0, trainedAt: null });
  }, 120_000);

  it("refuses another account's conversation and message, and leaves both accounts' models as they were", async () => {
    const a = await analyzed(A, 'Where can I download my invoice?');
    const b = await analyzed(B, 'How do I change my plan?');
    const before = await sentimentOf(A, a.conversationId);
    const wrongConversation = await correct(B, a.conversationId, { sentiment: before === 'negative' ? 'positive' : 'negative' });
    expect(wrongConversation.statusCode).toBe(404);
    expect(wrongConversation.json().error.code).toBe('conversation_not_found');
    const wrongMessage = await correct(B, b.conversationId, { sentiment: 'negative', messageId: a.messageId });
    expect(wrongMessage.statusCode).toBe(404);
    expect(wrongMessage.json().error.code).toBe('message_not_found');
    expect(await sentimentOf(A, a.conversationId)).toBe(before);
    await localAi(t.hub).sentiments.idle(B.accountId);
    expect(await modelOf(B)).toMatchObject({ corrections: 0, trainedAt: null });
    const bRows = await withAccount(t.hub.db, B.accountId, async (tx) => (await tx.query(`SELECT 1 FROM ai_sentiment_models UNION ALL SELECT 1 FROM ai_sentiment_examples`)).rowCount);
    expect(bRows).toBe(0);
  }, 120_000);

  it('learns from the message named, only a customer one, and checks the label', async () => {
    const first = await seedConversation(t, A, { text: 'The courier left it in the rain', thread: 'named-message' });
    await seedConversation(t, A, { text: 'Anyway, thanks for the quick answer!', thread: 'named-message' });
    const named = await correct(A, first.conversationId, { sentiment: 'negative', messageId: first.messageId });
    expect(named.statusCode, named.body).toBe(202);
    const text = await withAccount(t.hub.db, A.accountId, async (tx) => (await tx.query<{ text: string }>(`SELECT text FROM ai_sentiment_examples WHERE id = $1`, [named.json().exampleId])).rows[0]!.text);
    expect(text).toBe('The courier left it in the rain');

    const note = await call(t, A.users.agent.token, 'POST', `/api/v1/conversations/${first.conversationId}/notes`, { text: 'customer sounds upset' });
    expect(note.statusCode, note.body).toBe(201);
    const notCustomer = await correct(A, first.conversationId, { sentiment: 'negative', messageId: note.json().id });
    expect(notCustomer.statusCode).toBe(400);
    expect(notCustomer.json().error.code).toBe('not_customer_message');
    // A thread's first message is classified with its subject, and is learned the same way.
    const mailed = await seedConversation(t, A, { text: 'See the attached photo', subject: 'Broken lamp', thread: 'with-subject' });
    const bySubject = await correct(A, mailed.conversationId, { sentiment: 'negative' });
    const learned = await withAccount(t.hub.db, A.accountId, async (tx) => (await tx.query<{ text: string }>(`SELECT text FROM ai_sentiment_examples WHERE id = $1`, [bySubject.json().exampleId])).rows[0]!.text);
    expect(learned).toBe('Broken lamp\nSee the attached photo');

    const badLabel = await correct(A, first.conversationId, { sentiment: 'furious' });
    expect(badLabel.statusCode).toBe(400);
    expect(badLabel.json().error.code).toBe('validation_failed');
    await localAi(t.hub).sentiments.idle(A.accountId);
  }, 60_000);
});
