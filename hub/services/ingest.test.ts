import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelInstallation, InboundEvent, NormalizedMessage } from '../../connectors/core/types.js';
import { findInstallation, insertChannel } from '../../storage/repositories/channels.js';
import { withAccount } from '../../storage/session.js';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';

let t: TestHub;
let acct: TestAccount;
let channel: ChannelInstallation;

const message = (over: Partial<NormalizedMessage> & { externalId: string }): InboundEvent => ({
  type: 'message',
  message: {
    channel: { kind: 'webchat', channelId: channel.id },
    threadKey: `webchat:${channel.id}:visitor-1`,
    direction: 'inbound',
    sender: { externalId: 'visitor-1', displayName: 'Vera Visitor', isBot: false },
    sentAt: new Date().toISOString(),
    text: 'My invoice is wrong',
    attachments: [],
    raw: {},
    ...over,
  },
});

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  acct = await createTestAccount(t);
  channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: acct.channelId }))!;
});
afterAll(() => t?.close());

const count = (sql: string, params: unknown[] = []) =>
  withAccount(t.hub.db, acct.accountId, async (tx) => Number((await tx.query<{ n: string }>(sql, params)).rows[0]!.n));

describe('ingest', () => {
  it('stores contact, conversation, message and outbox rows in one go', async () => {
    const [o] = await t.hub.ingest.ingest(channel, [message({ externalId: 'm-1' })]);
    expect(o).toMatchObject({ result: 'created', conversationCreated: true });
    expect(await count(`SELECT count(*) n FROM messages WHERE conversation_id = $1`, [o!.conversationId])).toBe(1);
    // The AI job only: with no surface (Slack, Teams) installed there is nothing to mirror.
    const topics = await withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<{ topic: string }>(`SELECT topic FROM outbox WHERE payload->>'messageId' = $1 ORDER BY id`, [o!.messageId])).rows.map((r) => r.topic));
    expect(topics).toEqual(['ai.classify']);
  });

  it('queues the surface job too once the account has a surface installed', async () => {
    const other = await createTestAccount(t);
    const web = (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: other.channelId }))!;
    await withAccount(t.hub.db, other.accountId, (tx) => insertChannel(tx, t.hub.box, { accountId: other.accountId, kind: 'slack', name: 'Acme Slack', externalKey: `T${other.accountId.slice(0, 8)}` }));
    const [o] = await t.hub.ingest.ingest(web, [message({ externalId: 'sf-1', channel: { kind: 'webchat', channelId: web.id }, threadKey: `webchat:${web.id}:v` })]);
    const topics = await withAccount(t.hub.db, other.accountId, async (tx) => (await tx.query<{ topic: string }>(`SELECT topic FROM outbox WHERE payload->>'messageId' = $1 ORDER BY id`, [o!.messageId])).rows.map((r) => r.topic));
    expect(topics).toEqual(['ai.classify', 'surface.sync']);
  });

  it('makes one message of a duplicate delivery, even when both arrive at once', async () => {
    const results = await Promise.all([1, 2, 3].map(() => t.hub.ingest.ingest(channel, [message({ externalId: 'm-dup' })])));
    const flat = results.flat().map((o) => o.result).sort();
    expect(flat).toEqual(['created', 'duplicate', 'duplicate']);
    expect(await count(`SELECT count(*) n FROM messages WHERE external_id = 'm-dup'`)).toBe(1);
  });

  it('threads messages with the same thread key into one conversation', async () => {
    const [a] = await t.hub.ingest.ingest(channel, [message({ externalId: 'th-1', threadKey: `webchat:${channel.id}:thread-x` })]);
    const [b] = await t.hub.ingest.ingest(channel, [message({ externalId: 'th-2', threadKey: `webchat:${channel.id}:thread-x` })]);
    expect(b!.conversationId).toBe(a!.conversationId);
    expect(b!.conversationCreated).toBe(false);
  });

  it('keeps each message’s real sender and announces a newcomer to a thread once, in one statement too', async () => {
    const key = `webchat:${channel.id}:shared-thread`;
    const seen: { type: string; messageId?: string; isPrivate?: boolean }[] = [];
    const stop = t.hub.bus.subscribe(acct.accountId, (e) => seen.push(e.event as (typeof seen)[number]));
    try {
      const [a] = await t.hub.ingest.ingest(channel, [message({ externalId: 'js-1', threadKey: key })]);
      const [b] = await t.hub.ingest.ingest(channel, [message({ externalId: 'js-2', threadKey: key, sender: { externalId: 'visitor-2', displayName: 'Olli Other', isBot: false } })]);
      await t.hub.ingest.ingest(channel, [message({ externalId: 'js-3', threadKey: key, sender: { externalId: 'visitor-2', displayName: 'Olli Other', isBot: false } })]);
      await t.hub.ingest.ingest(channel, [message({ externalId: 'js-4', threadKey: key })]);
      expect(b!.conversationId).toBe(a!.conversationId);
      const rows = await withAccount(t.hub.db, acct.accountId, async (tx) =>
        (await tx.query<{ external_id: string | null; author_kind: string; is_private: boolean; text: string; sender: string }>(
          `SELECT m.external_id, m.author_kind, m.is_private, m.text, ci.external_id AS sender FROM messages m JOIN contact_identities ci ON ci.id = m.sender_identity_id
           WHERE m.conversation_id = $1 ORDER BY m.created_at, m.sent_at`, [a!.conversationId])).rows);
      expect(rows.map((r) => [r.external_id, r.author_kind, r.sender])).toEqual([
        ['js-1', 'contact', 'visitor-1'], [null, 'system', 'visitor-2'], ['js-2', 'contact', 'visitor-2'], ['js-3', 'contact', 'visitor-2'], ['js-4', 'contact', 'visitor-1'],
      ]);
      expect(rows[1]).toMatchObject({ is_private: true, text: 'Olli Other joined this thread' });
      const notice = (await withAccount(t.hub.db, acct.accountId, (tx) => tx.query<{ id: string }>(`SELECT id FROM messages WHERE conversation_id = $1 AND author_kind = 'system'`, [a!.conversationId]))).rows[0]!.id;
      await eventually(async () => seen.some((e) => e.type === 'message.created' && e.messageId === notice && e.isPrivate));
    } finally {
      stop();
    }
  });

  it('does not ingest an echo of our own send as a new inbound message', async () => {
    const before = await count(`SELECT count(*) n FROM messages`);
    const [o] = await t.hub.ingest.ingest(channel, [message({ externalId: 'never-sent', direction: 'outbound' })]);
    expect(o!.result).toBe('echo');
    expect(await count(`SELECT count(*) n FROM messages`)).toBe(before);
  });

  it('fails only the bad call in a batch and keeps the others', async () => {
    const good = t.hub.ingest.ingest(channel, [message({ externalId: 'batch-good' })]);
    // An unparseable time passes the shape checks and fails inside the batch's transaction.
    const bad = t.hub.ingest.ingest(channel, [message({ externalId: 'batch-bad', sentAt: 'not a date' })]);
    await expect(bad).rejects.toThrow();
    await expect(good).resolves.toHaveLength(1);
    expect(await count(`SELECT count(*) n FROM messages WHERE external_id LIKE 'batch-%'`)).toBe(1);
  });

  it('refuses an event that names another channel', async () => {
    const e = message({ externalId: 'x' });
    (e as { message: NormalizedMessage }).message.channel.channelId = '00000000-0000-0000-0000-000000000000';
    await expect(t.hub.ingest.ingest(channel, [e])).rejects.toMatchObject({ code: 'event_channel_mismatch' });
  });

  it('applies delivery receipts without moving a status backwards', async () => {
    const conv = await t.hub.ingest.ingest(channel, [message({ externalId: 'r-in' })]);
    const sent = await t.hub.conversations.reply({ accountId: acct.accountId, kind: 'user', id: acct.users.agent.id }, conv[0]!.conversationId!, { text: 'Hello' });
    await withAccount(t.hub.db, acct.accountId, (tx) => tx.query(`UPDATE messages SET external_id = 'out-1', delivery_status = 'sent' WHERE id = $1`, [sent.id]));
    await t.hub.ingest.ingest(channel, [{ type: 'status', channelId: channel.id, externalId: 'out-1', status: 'read' }]);
    await t.hub.ingest.ingest(channel, [{ type: 'status', channelId: channel.id, externalId: 'out-1', status: 'delivered' }]);
    const status = await withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<{ s: string }>(`SELECT delivery_status s FROM messages WHERE id = $1`, [sent.id])).rows[0]!.s);
    expect(status).toBe('read');
  });

  it('reopens a resolved conversation when the customer writes again, but not for an auto-reply', async () => {
    const [first] = await t.hub.ingest.ingest(channel, [message({ externalId: 'ro-1', threadKey: `webchat:${channel.id}:reopen` })]);
    const actor = { accountId: acct.accountId, kind: 'user' as const, id: acct.users.agent.id };
    await t.hub.conversations.setStatus(actor, first!.conversationId!, 'resolved');
    await t.hub.ingest.ingest(channel, [message({ externalId: 'ro-2', threadKey: `webchat:${channel.id}:reopen`, autoReply: true })]);
    const status = () => withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<{ s: string }>(`SELECT status s FROM conversations WHERE id = $1`, [first!.conversationId])).rows[0]!.s);
    expect(await status()).toBe('resolved');
    await t.hub.ingest.ingest(channel, [message({ externalId: 'ro-3', threadKey: `webchat:${channel.id}:reopen` })]);
    expect(await status()).toBe('open');
  });

  it("opens a pending conversation (after an agent's reply) when the customer writes again, but not for an auto-reply", async () => {
    const thread = `webchat:${channel.id}:pending-again`;
    const [first] = await t.hub.ingest.ingest(channel, [message({ externalId: 'pa-1', threadKey: thread })]);
    const conversationId = first!.conversationId!;
    const status = () => withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<{ s: string }>(`SELECT status s FROM conversations WHERE id = $1`, [conversationId])).rows[0]!.s);
    const actor = { accountId: acct.accountId, kind: 'user' as const, id: acct.users.agent.id };
    await t.hub.conversations.reply(actor, conversationId, { text: 'We are on it.' });
    expect(await status()).toBe('pending');
    await t.hub.ingest.ingest(channel, [message({ externalId: 'pa-2', threadKey: thread, autoReply: true })]);
    expect(await status()).toBe('pending');
    await t.hub.ingest.ingest(channel, [message({ externalId: 'pa-3', threadKey: thread, text: 'Any news?' })]);
    expect(await status()).toBe('open');
    // Beside a status event the batch takes the transaction path instead of the one-statement one.
    await t.hub.conversations.reply(actor, conversationId, { text: 'Still on it.' });
    expect(await status()).toBe('pending');
    await t.hub.ingest.ingest(channel, [message({ externalId: 'pa-4', threadKey: thread }), { type: 'status', channelId: channel.id, externalId: 'no-such-reply', status: 'read' }]);
    expect(await status()).toBe('open');
  });
});
