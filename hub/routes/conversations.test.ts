import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertDraft } from '../../storage/repositories/ai.js';
import { findInstallation } from '../../storage/repositories/channels.js';
import { withAccount } from '../../storage/session.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { call, seedConversation } from '../testing/seed.js';

let t: TestHub;
let acct: TestAccount;
let other: TestAccount;

beforeAll(async () => {
  // No job workers: outbox rows stay where the request left them, for the assertions below.
  t = await startTestHub({ jobs: false });
  acct = await createTestAccount(t);
  other = await createTestAccount(t);
});
afterAll(() => t?.close());

const list = async (query: string, token = acct.users.agent.token) => {
  const res = await call(t, token, 'GET', `/api/v1/conversations?${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ items: { id: string }[]; nextCursor: string | null }>();
};
const ids = (page: { items: { id: string }[] }) => page.items.map((c) => c.id).sort();
const outboxFor = (messageId: string) =>
  withAccount(t.hub.db, acct.accountId, async (tx) =>
    (await tx.query<{ topic: string }>(`SELECT topic FROM outbox WHERE payload->>'messageId' = $1 ORDER BY id`, [messageId])).rows.map((r) => r.topic),
  );

describe('GET /conversations filters', () => {
  let a: string, b: string, c: string, d: string, teamId: string, secondChannelId: string;

  beforeAll(async () => {
    a = (await seedConversation(t, acct)).conversationId;
    b = (await seedConversation(t, acct)).conversationId;
    c = (await seedConversation(t, acct)).conversationId;
    const team = await call(t, acct.users.admin.token, 'POST', '/api/v1/teams', { name: 'Billing' });
    teamId = team.json<{ id: string }>().id;
    const admin = acct.users.admin.token;
    expect((await call(t, admin, 'POST', `/api/v1/conversations/${a}/assign`, { assigneeId: acct.users.agent.id, teamId })).statusCode).toBe(200);
    expect((await call(t, admin, 'POST', `/api/v1/conversations/${b}/status`, { status: 'resolved' })).statusCode).toBe(200);
    expect((await call(t, admin, 'POST', `/api/v1/conversations/${c}/priority`, { priority: 'urgent' })).statusCode).toBe(200);
    // Category comes from the AI stage; set it the way that stage does, in the store.
    await withAccount(t.hub.db, acct.accountId, (tx) => tx.query(`UPDATE conversations SET category = 'refund' WHERE id = $1`, [c]));
    const ch = await call(t, admin, 'POST', '/api/v1/channels', { kind: 'webchat', name: 'second widget' });
    expect(ch.statusCode, ch.body).toBe(201);
    secondChannelId = ch.json<{ id: string }>().id;
    const second = (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: secondChannelId }))!;
    const [o] = await t.hub.ingest.ingest(second, [{
      type: 'message',
      message: {
        channel: { kind: 'webchat', channelId: second.id }, externalId: 'second-1', threadKey: `webchat:${second.id}:v`, direction: 'inbound',
        sender: { externalId: 'v', isBot: false }, sentAt: new Date().toISOString(), text: 'from the second widget', attachments: [], raw: {},
      },
    }]);
    d = o!.conversationId!;
  });

  it('filters by status', async () => {
    expect(ids(await list('status=resolved&limit=100'))).toEqual([b]);
    expect(ids(await list('status=open&limit=100'))).not.toContain(b);
  });

  it('filters by team', async () => {
    expect(ids(await list(`team=${teamId}`))).toEqual([a]);
  });

  it('filters by assignee: an id, me and none', async () => {
    expect(ids(await list(`assignee=${acct.users.agent.id}`))).toEqual([a]);
    expect(ids(await list('assignee=me', acct.users.agent.token))).toEqual([a]);
    expect(ids(await list('assignee=me', acct.users.admin.token))).toEqual([]);
    const apiKey = await call(t, acct.apiKeys.agent, 'GET', '/api/v1/conversations?assignee=me');
    expect(apiKey.statusCode).toBe(400);
    expect(apiKey.json().error.code).toBe('assignee_me_needs_user');
    const unassigned = ids(await list('assignee=none&limit=100'));
    expect(unassigned).toEqual(expect.arrayContaining([b, c, d]));
    expect(unassigned).not.toContain(a);
  });

  it('filters by channel, category and priority', async () => {
    expect(ids(await list(`channel=${secondChannelId}`))).toEqual([d]);
    expect(ids(await list('category=refund'))).toEqual([c]);
    expect(ids(await list('priority=urgent'))).toEqual([c]);
  });

  it('rejects a filter value of the wrong shape', async () => {
    const res = await call(t, acct.users.agent.token, 'GET', '/api/v1/conversations?status=closed');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('validation_failed');
  });
});

describe('GET /conversations search and pagination', () => {
  it('finds conversations by words in their messages', async () => {
    const hit = await seedConversation(t, acct, { text: 'The zeppelin tracking number never arrived' });
    await seedConversation(t, acct, { text: 'Something entirely different' });
    expect(ids(await list('q=zeppelin'))).toEqual([hit.conversationId]);
    expect(ids(await list(`q=${encodeURIComponent('zeppelin tracking')}`))).toEqual([hit.conversationId]);
    expect(ids(await list('q=xylophone'))).toEqual([]);
  });

  it('returns every conversation exactly once across pages, even with equal timestamps', async () => {
    const p = await createTestAccount(t);
    const sentAt = '2025-01-02T03:04:05.000Z';
    const seeded: string[] = [];
    for (let i = 0; i < 7; i++) seeded.push((await seedConversation(t, p, { sentAt: i < 4 ? sentAt : undefined })).conversationId);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await list(`limit=2${cursor ? `&cursor=${cursor}` : ''}`, p.users.viewer.token);
      seen.push(...page.items.map((c) => c.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    expect(pages).toBe(4);
    expect(seen).toHaveLength(7);
    expect([...seen].sort()).toEqual([...seeded].sort());
  });

  it('does not skip conversations whose times differ by microseconds', async () => {
    const p = await createTestAccount(t);
    const seeded: string[] = [];
    for (let i = 0; i < 4; i++) seeded.push((await seedConversation(t, p)).conversationId);
    // An agent reply stamps now(), which has microseconds; four of them within one millisecond.
    await withAccount(t.hub.db, p.accountId, (tx) =>
      tx.query(`UPDATE conversations SET last_message_at = '2025-03-04T05:06:07.123000Z'::timestamptz + (array_position($1::uuid[], id) * interval '100 microseconds')`, [seeded]),
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(`limit=1${cursor ? `&cursor=${cursor}` : ''}`, p.users.viewer.token);
      seen.push(...page.items.map((c) => c.id));
      cursor = page.nextCursor;
    } while (cursor && seen.length < 10);
    expect(seen).toEqual([...seeded].reverse());
  });

  it('refuses a forged cursor', async () => {
    const res = await call(t, acct.users.agent.token, 'GET', '/api/v1/conversations?cursor=bm90LWpzb24');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_cursor');
  });
});

describe('one conversation', () => {
  it('gets the conversation and its messages', async () => {
    const s = await seedConversation(t, acct, { text: 'Where is my parcel?' });
    const res = await call(t, acct.users.viewer.token, 'GET', `/api/v1/conversations/${s.conversationId}`);
    expect(res.statusCode).toBe(200);
    expect(res.json().conversation).toMatchObject({ id: s.conversationId, status: 'open', contactId: s.contactId, channelKind: 'webchat' });
    const messages = await call(t, acct.users.viewer.token, 'GET', `/api/v1/conversations/${s.conversationId}/messages`);
    expect(messages.json().items.map((m: { text: string }) => m.text)).toEqual(['Where is my parcel?']);
  });

  it('returns 404 for an unknown conversation', async () => {
    const res = await call(t, acct.users.viewer.token, 'GET', '/api/v1/conversations/00000000-0000-4000-8000-000000000000');
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('conversation_not_found');
  });

  it('will not assign to a user or team of another account', async () => {
    const s = await seedConversation(t, acct);
    const toUser = await call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${s.conversationId}/assign`, { assigneeId: other.users.agent.id });
    expect(toUser.statusCode).toBe(404);
    expect(toUser.json().error.code).toBe('user_not_found');
    const team = await call(t, other.users.admin.token, 'POST', '/api/v1/teams', { name: 'Theirs' });
    const toTeam = await call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${s.conversationId}/assign`, { teamId: team.json().id });
    expect(toTeam.statusCode).toBe(404);
    expect(toTeam.json().error.code).toBe('team_not_found');
    const after = await call(t, acct.users.agent.token, 'GET', `/api/v1/conversations/${s.conversationId}`);
    expect(after.json().conversation).toMatchObject({ assigneeId: null, teamId: null });
  });

  it('snoozes with an until time, and refuses a snooze without one', async () => {
    const s = await seedConversation(t, acct);
    const url = `/api/v1/conversations/${s.conversationId}/status`;
    const bad = await call(t, acct.users.agent.token, 'POST', url, { status: 'snoozed' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('snooze_until_required');
    const until = '2030-06-01T08:00:00.000Z';
    const ok = await call(t, acct.users.agent.token, 'POST', url, { status: 'snoozed', snoozedUntil: until });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'snoozed' });
    expect(new Date(ok.json().snoozedUntil).toISOString()).toBe(until);
    const reopened = await call(t, acct.users.agent.token, 'POST', url, { status: 'open' });
    expect(reopened.json()).toMatchObject({ status: 'open', snoozedUntil: null });
  });

  it('queues a reply for delivery to the customer', async () => {
    const s = await seedConversation(t, acct);
    const res = await call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${s.conversationId}/reply`, { text: 'We are on it' });
    expect(res.statusCode, res.body).toBe(202);
    const message = res.json();
    expect(message).toMatchObject({ direction: 'outbound', isPrivate: false, deliveryStatus: 'queued', authorUserId: acct.users.agent.id, text: 'We are on it' });
    expect(await outboxFor(message.id)).toContain('deliver');
  });

  it('keeps a note private and never queues it for delivery', async () => {
    const s = await seedConversation(t, acct);
    const res = await call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${s.conversationId}/notes`, { text: 'VIP, be gentle' });
    expect(res.statusCode, res.body).toBe(201);
    const note = res.json();
    expect(note).toMatchObject({ isPrivate: true, deliveryStatus: null });
    expect(await outboxFor(note.id)).not.toContain('deliver');
  });

  it('rejects an AI draft once, and only the conversation’s own draft', async () => {
    const s = await seedConversation(t, acct);
    const elsewhere = await seedConversation(t, acct);
    const draftId = await withAccount(t.hub.db, acct.accountId, (tx) =>
      insertDraft(tx, { accountId: acct.accountId, conversationId: s.conversationId, messageId: s.messageId, aiResultId: null, text: 'Try restarting', extractive: true, citations: [] }),
    );
    const wrong = await call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${elsewhere.conversationId}/drafts/${draftId}/reject`);
    expect(wrong.statusCode).toBe(404);
    const url = `/api/v1/conversations/${s.conversationId}/drafts/${draftId}/reject`;
    expect((await call(t, acct.users.agent.token, 'POST', url)).statusCode).toBe(204);
    const again = await call(t, acct.users.agent.token, 'POST', url);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('draft_already_decided');
    const got = await call(t, acct.users.agent.token, 'GET', `/api/v1/conversations/${s.conversationId}`);
    expect(got.json().drafts[0]).toMatchObject({ id: draftId, status: 'rejected', decidedBy: acct.users.agent.id });
  });
});
