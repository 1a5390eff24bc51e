import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelInstallation, InboundEvent } from '../../connectors/core/types.js';
import { findInstallation } from '../../storage/repositories/channels.js';
import { withAccount } from '../../storage/session.js';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../../hub/testing/harness.js';
import { settle, saysSolved } from './conversation.js';

describe('conversation-level classification (settle)', () => {
  const urgent = { category: 'complaint', priority: 'urgent' as const, sentiment: 'negative' as const };
  const previous = { ...urgent, settled: { category: { value: 'complaint', messageId: 'm1', reason: 'first message' }, priority: { value: 'urgent' as const, messageId: 'm1', reason: 'first message' } } };

  // Seen in issue #15: a polite follow-up turned an urgent complaint into general / low / positive.
  it('keeps an urgent complaint urgent, negative and a complaint through a polite follow-up', () => {
    const s = settle(previous, { category: 'general', priority: 'low', sentiment: 'positive', confidence: 0.9 }, 'm2', 'Thank you, I look forward to hearing from you soon!');
    expect(s.priority).toMatchObject({ value: 'urgent', messageId: 'm1', message: 'low' });
    expect(s.category).toMatchObject({ value: 'complaint', messageId: 'm1', message: 'general' });
    expect(s.sentiment).toMatchObject({ value: 'negative', message: 'positive' });
  });

  it('lowers priority and lifts the mood only when the customer says it is solved', () => {
    const s = settle(previous, { category: 'general', priority: 'low', sentiment: 'positive', confidence: 0.9 }, 'm3', 'It works now, thanks a lot!');
    expect(s.priority).toMatchObject({ value: 'low', messageId: 'm3' });
    expect(s.sentiment.value).toBe('positive');
    for (const t of ['Kiitos, nyt toimii taas!', 'Tack, det är löst nu.', 'Danke, hat sich erledigt.']) expect(saysSolved(t)).toBe(true);
    for (const t of ['Any update on this?', 'Onko asiassa edistytty?', 'Har ni hunnit titta på det?']) expect(saysSolved(t)).toBe(false);
  });

  it('raises priority at once and changes category only on a clear new topic', () => {
    const calm = { category: 'billing', priority: 'normal' as const, sentiment: 'neutral' as const, settled: { category: { value: 'billing', messageId: 'm1', reason: 'first message' } } };
    expect(settle(calm, { category: 'billing', priority: 'urgent', sentiment: 'negative', confidence: 0.8 }, 'm2', 'URGENT').priority).toMatchObject({ value: 'urgent', messageId: 'm2' });
    expect(settle(calm, { category: 'technical', priority: 'normal', sentiment: 'neutral', confidence: 0.45 }, 'm2', 'ok?').category).toMatchObject({ value: 'billing', messageId: 'm1' });
    expect(settle(calm, { category: 'unknown', priority: 'normal', sentiment: 'neutral', confidence: 0.3 }, 'm2', 'hello?').category.value).toBe('billing');
    expect(settle(calm, { category: 'account', priority: 'normal', sentiment: 'neutral', confidence: 0.85 }, 'm2', 'Also, how do I change my password?').category).toMatchObject({ value: 'account', messageId: 'm2', reason: 'new topic' });
  });
});

describe('conversation-level classification in the AI stage', () => {
  let t: TestHub;
  let acct: TestAccount;
  let channel: ChannelInstallation;
  const inbound = (externalId: string, text: string): InboundEvent => ({
    type: 'message',
    message: {
      channel: { kind: 'webchat', channelId: channel.id }, externalId, threadKey: `webchat:${channel.id}:visitor-conv`, direction: 'inbound',
      sender: { externalId: 'visitor-conv', displayName: 'Vera', isBot: false }, sentAt: new Date().toISOString(), text, attachments: [], raw: {},
    },
  });
  beforeAll(async () => {
    t = await startTestHub({ ai: true });
    acct = await createTestAccount(t);
    channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: acct.channelId }))!;
  }, 120_000);
  afterAll(() => t?.close());

  const view = async (id: string) => (await t.app.inject({ method: 'GET', url: `/api/v1/conversations/${id}`, headers: { 'x-api-key': acct.apiKeys.viewer } })).json() as {
    conversation: { priority: string; category: string; sentiment: string };
    ai: { evidence: { conversation: { priority: { value: string; messageId: string } } } } | null;
  };

  it('keeps priority and shows the message that set it after a polite follow-up', async () => {
    const [first] = await t.hub.ingest.ingest(channel, [inbound('conv-1', 'URGENT: you charged my card twice and the whole shop is down, this is unacceptable, fix it immediately!')]);
    await eventually(() => messageAnalysed(first!.messageId!), 150_000);
    const before = await view(first!.conversationId!);
    expect(['urgent', 'high']).toContain(before.conversation.priority);
    const [second] = await t.hub.ingest.ingest(channel, [inbound('conv-2', 'Thank you so much, I appreciate your help!')]);
    expect(second!.conversationId).toBe(first!.conversationId);
    const after = await eventually(async () => {
      const v = await view(first!.conversationId!);
      return (await messageAnalysed(second!.messageId!)) ? v : undefined;
    }, 150_000);
    expect(after.conversation.priority).toBe(before.conversation.priority);
    expect(after.conversation.category).toBe(before.conversation.category);
    expect(after.conversation.sentiment).toBe('negative');
    expect(after.ai!.evidence.conversation.priority.messageId).toBe(first!.messageId);
  }, 330_000);

  const messageAnalysed = async (messageId: string) =>
    withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ai_results WHERE message_id = $1`, [messageId])).rows[0]!.n > 0);
});
