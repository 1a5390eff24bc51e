import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withAccount } from '../../storage/session.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { call, seedConversation } from '../testing/seed.js';
import { wakeDueConversations } from '../services/snooze-wake.js';

/** What an inbox row tells an agent at a glance: who, where, what they said last, how long they wait, unread. */
let t: TestHub;
let acct: TestAccount;
let other: TestAccount;

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  acct = await createTestAccount(t);
  other = await createTestAccount(t);
});
afterAll(() => t?.close());

interface Row { id: string; channelName: string; contactName: string | null; contactEmail: string | null; preview: string | null; previewDirection: string | null; waitingSince: string | null; unread: boolean }
const rowOf = async (id: string, token = acct.users.agent.token): Promise<Row> => {
  const res = await call(t, token, 'GET', '/api/v1/conversations?limit=100');
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ items: Row[] }>().items.find((c) => c.id === id)!;
};
const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();

describe('inbox rows', () => {
  it('show the last public message’s first line, the channel, and how long the customer has waited', async () => {
    const s = await seedConversation(t, acct, { thread: 'wait', text: 'My parcel never came\nOrder 1234, sent last week', sentAt: minutesAgo(30) });
    await seedConversation(t, acct, { thread: 'wait', text: 'Hello?? anyone there', sentAt: minutesAgo(10) });
    const row = await rowOf(s.conversationId);
    expect(row.preview).toBe('Hello?? anyone there');
    expect(row.previewDirection).toBe('inbound');
    expect(row.channelName).toBeTruthy();
    expect(row.contactName).toMatch(/^Customer /);
    // Waiting counts from the first unanswered message, not the latest.
    expect(Math.abs(Date.parse(row.waitingSince!) - Date.parse(minutesAgo(30)))).toBeLessThan(60_000);

    // An agent's private note is neither the preview nor an answer; a reply is both.
    expect((await call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${s.conversationId}/notes`, { text: 'checking with the courier' })).statusCode).toBe(201);
    expect((await rowOf(s.conversationId)).preview).toBe('Hello?? anyone there');
    expect((await rowOf(s.conversationId)).waitingSince).not.toBeNull();
    const reply = await call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${s.conversationId}/reply`, { text: 'Sorry about that!\nIt is on its way.' });
    expect(reply.statusCode, reply.body).toBe(202);
    const answered = await rowOf(s.conversationId);
    expect(answered.preview).toBe('Sorry about that!');
    expect(answered.previewDirection).toBe('outbound');
    expect(answered.waitingSince).toBeNull();

    await seedConversation(t, acct, { thread: 'wait', text: 'thanks, and another question', sentAt: new Date(Date.now() + 1000).toISOString() });
    expect((await rowOf(s.conversationId)).waitingSince).not.toBeNull();
  });

  it('are unread per agent until that agent reads the conversation, and again when the customer writes', async () => {
    const s = await seedConversation(t, acct, { thread: 'unread', sentAt: minutesAgo(5) });
    expect((await rowOf(s.conversationId)).unread).toBe(true);
    expect((await rowOf(s.conversationId, acct.users.admin.token)).unread).toBe(true);

    const read = await call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${s.conversationId}/read`);
    expect(read.statusCode, read.body).toBe(204);
    expect((await rowOf(s.conversationId)).unread).toBe(false);
    expect((await rowOf(s.conversationId, acct.users.admin.token)).unread).toBe(true);

    await seedConversation(t, acct, { thread: 'unread', text: 'one more thing', sentAt: new Date(Date.now() + 1000).toISOString() });
    expect((await rowOf(s.conversationId)).unread).toBe(true);
  });

  it('are unread after an agent answered until read, and an auto-reply or a note marks nothing', async () => {
    const s = await seedConversation(t, acct, { thread: 'answered', sentAt: minutesAgo(5) });
    const reply = await call(t, acct.users.admin.token, 'POST', `/api/v1/conversations/${s.conversationId}/reply`, { text: 'On it.' });
    expect(reply.statusCode, reply.body).toBe(202);
    // The answer is the last word; the customer's message before it is still unread for whoever has not read it.
    expect(await rowOf(s.conversationId)).toMatchObject({ previewDirection: 'outbound', unread: true });
    expect((await call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${s.conversationId}/read`)).statusCode).toBe(204);
    expect((await rowOf(s.conversationId)).unread).toBe(false);
    // The customer's out-of-office answer and an agent's note come later: still read.
    await withAccount(t.hub.db, acct.accountId, (tx) => tx.query(
      `INSERT INTO messages (account_id, conversation_id, channel_id, direction, author_kind, text, auto_reply, sent_at)
       SELECT account_id, id, channel_id, 'inbound', 'contact', 'I am away until Monday', true, now() + interval '1 second' FROM conversations WHERE id = $1`, [s.conversationId]));
    expect(await rowOf(s.conversationId)).toMatchObject({ preview: 'I am away until Monday', previewDirection: 'inbound', unread: false });
    expect((await call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${s.conversationId}/notes`, { text: 'customer is away' })).statusCode).toBe(201);
    expect((await rowOf(s.conversationId)).unread).toBe(false);
    expect((await rowOf(s.conversationId, acct.users.admin.token)).unread).toBe(true);
  });

  it('answer a lighter row with view=summary: what the desk shows, every page as the full list’s', async () => {
    for (let i = 0; i < 3; i++) await seedConversation(t, acct, { thread: `summary-${i}`, sentAt: minutesAgo(1) });
    const full = (await call(t, acct.users.agent.token, 'GET', '/api/v1/conversations?limit=100')).json<{ items: Record<string, unknown>[] }>().items;
    const pages: Record<string, unknown>[] = [];
    for (let cursor = ''; ;) {
      const res = await call(t, acct.users.agent.token, 'GET', `/api/v1/conversations?limit=2&view=summary${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json<{ items: Record<string, unknown>[]; nextCursor: string | null }>();
      pages.push(...page.items);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(pages.map((r) => r.id)).toEqual(full.map((r) => r.id));
    const dropped = ['threadKey', 'tags', 'snoozedUntil', 'createdAt', 'updatedAt'];
    for (const [i, row] of pages.entries()) {
      expect(Object.keys(row).sort()).toEqual(Object.keys(full[i]!).filter((k) => !dropped.includes(k)).sort());
      expect(row).toEqual(Object.fromEntries(Object.entries(full[i]!).filter(([k]) => !dropped.includes(k))));
    }
    expect(full[0]).toMatchObject({ threadKey: expect.any(String), createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), lastMessageAt: expect.stringMatching(/\.\d{3}Z$/) });
  });

  it('mark read only a conversation of the caller’s account, and only for a user', async () => {
    const theirs = await seedConversation(t, other);
    const res = await call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${theirs.conversationId}/read`);
    expect(res.statusCode).toBe(404);
    expect(await withAccount(t.hub.db, other.accountId, async (tx) => (await tx.query(`SELECT 1 FROM conversation_reads`)).rowCount)).toBe(0);
    const mine = await seedConversation(t, acct);
    const byKey = await call(t, acct.apiKeys.agent, 'POST', `/api/v1/conversations/${mine.conversationId}/read`);
    expect(byKey.statusCode).toBe(400);
    expect(byKey.json().error.code).toBe('read_needs_user');
  });
});

describe('GET /conversations/counts', () => {
  it('counts each view for the caller', async () => {
    const fresh = await createTestAccount(t);
    const a = await seedConversation(t, fresh);
    const b = await seedConversation(t, fresh);
    const c = await seedConversation(t, fresh);
    await seedConversation(t, fresh);
    const admin = fresh.users.admin.token;
    expect((await call(t, admin, 'POST', `/api/v1/conversations/${a.conversationId}/assign`, { assigneeId: fresh.users.agent.id })).statusCode).toBe(200);
    expect((await call(t, admin, 'POST', `/api/v1/conversations/${b.conversationId}/status`, { status: 'resolved' })).statusCode).toBe(200);
    expect((await call(t, admin, 'POST', `/api/v1/conversations/${c.conversationId}/status`, { status: 'snoozed', snoozedUntil: new Date(Date.now() + 3600_000).toISOString() })).statusCode).toBe(200);
    const counts = await call(t, fresh.users.agent.token, 'GET', '/api/v1/conversations/counts');
    expect(counts.statusCode, counts.body).toBe(200);
    expect(counts.json()).toEqual({ mine: 1, unassigned: 1, open: 2, snoozed: 1, resolved: 1 });
    expect((await call(t, admin, 'GET', '/api/v1/conversations/counts')).json()).toMatchObject({ mine: 0, open: 2 });
  });
});

describe('tags', () => {
  it('are set by agents, normalised, and filter the list', async () => {
    const s = await seedConversation(t, acct);
    const res = await call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${s.conversationId}/tags`, { tags: [' VIP ', 'vip', 'Refund-Later'] });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().tags).toEqual(['vip', 'refund-later']);
    const listed = await call(t, acct.users.agent.token, 'GET', '/api/v1/conversations?tag=VIP');
    expect(listed.json().items.map((c: { id: string }) => c.id)).toEqual([s.conversationId]);
    const tooMany = await call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${s.conversationId}/tags`, { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) });
    expect(tooMany.statusCode).toBe(400);
    const blank = await call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${s.conversationId}/tags`, { tags: ['   '] });
    expect(blank.statusCode).toBe(400);
    expect((await call(t, acct.users.viewer.token, 'POST', `/api/v1/conversations/${s.conversationId}/tags`, { tags: ['x'] })).statusCode).toBe(403);
  });
});

describe('snoozed conversations', () => {
  const statusOf = async (id: string) =>
    withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<{ status: string; snoozed_until: Date | null }>(`SELECT status, snoozed_until FROM conversations WHERE id = $1`, [id])).rows[0]!);

  it('open again when their time comes, once, and not if snoozed anew meanwhile', async () => {
    const due = await seedConversation(t, acct);
    const later = await seedConversation(t, acct);
    const snooze = (id: string, until: Date) => call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${id}/status`, { status: 'snoozed', snoozedUntil: until.toISOString() });
    expect((await snooze(due.conversationId, new Date(Date.now() + 60_000))).statusCode).toBe(200);
    expect((await snooze(later.conversationId, new Date(Date.now() + 3600_000))).statusCode).toBe(200);
    // Time passes for one of them.
    await withAccount(t.hub.db, acct.accountId, (tx) => tx.query(`UPDATE conversations SET snoozed_until = now() - interval '1 second' WHERE id = $1`, [due.conversationId]));
    const seen: unknown[] = [];
    const off = t.hub.bus.subscribe(acct.accountId, (e) => seen.push(e.event));
    expect(await wakeDueConversations(t.hub)).toBeGreaterThanOrEqual(1);
    off();
    expect(await statusOf(due.conversationId)).toMatchObject({ status: 'open', snoozed_until: null });
    expect((await statusOf(later.conversationId)).status).toBe('snoozed');
    expect(seen).toContainEqual(expect.objectContaining({ type: 'conversation.updated', conversationId: due.conversationId }));
    const audits = await withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query(`SELECT 1 FROM audit_log WHERE action = 'conversation.woken' AND target_id = $1`, [due.conversationId])).rowCount);
    expect(audits).toBe(1);
    expect(await wakeDueConversations(t.hub)).toBe(0);
  });

  it('open again when the customer writes', async () => {
    const s = await seedConversation(t, acct, { thread: 'snooze-write' });
    expect((await call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${s.conversationId}/status`, { status: 'snoozed', snoozedUntil: new Date(Date.now() + 3600_000).toISOString() })).statusCode).toBe(200);
    await seedConversation(t, acct, { thread: 'snooze-write', text: 'any news?' });
    expect(await statusOf(s.conversationId)).toMatchObject({ status: 'open', snoozed_until: null });
  });
});

describe('sorting by priority', () => {
  it('lists urgent first, then latest activity, each conversation once across pages', async () => {
    const fresh = await createTestAccount(t);
    const admin = fresh.users.admin.token;
    const made: { id: string; priority: string }[] = [];
    const priorities = ['low', 'urgent', 'normal', 'high', 'urgent', 'normal', 'low', 'high', 'normal', 'urgent', 'high'];
    for (const [i, priority] of priorities.entries()) {
      const s = await seedConversation(t, fresh, { sentAt: new Date(Date.now() - i * 60_000).toISOString() });
      if (priority !== 'normal') expect((await call(t, admin, 'POST', `/api/v1/conversations/${s.conversationId}/priority`, { priority })).statusCode).toBe(200);
      made.push({ id: s.conversationId, priority });
    }
    const rank: Record<string, number> = { urgent: 3, high: 2, normal: 1, low: 0 };
    const seen: { id: string; priority: string }[] = [];
    let cursor: string | null = null;
    do {
      const page: { json(): { items: { id: string; priority: string }[]; nextCursor: string | null } } = await call(t, admin, 'GET', `/api/v1/conversations?sort=priority&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      const body = page.json();
      seen.push(...body.items.map((c) => ({ id: c.id, priority: c.priority })));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen.map((c) => c.id).sort()).toEqual(made.map((c) => c.id).sort());
    for (let i = 1; i < seen.length; i++) expect(rank[seen[i - 1]!.priority]).toBeGreaterThanOrEqual(rank[seen[i]!.priority]!);
    // Within a priority, latest activity first: the order they were made (each a minute older).
    const urgent = seen.filter((c) => c.priority === 'urgent').map((c) => c.id);
    expect(urgent).toEqual(made.filter((c) => c.priority === 'urgent').map((c) => c.id));
  });

  it('refuses a cursor of another sort', async () => {
    const first = await call(t, acct.users.admin.token, 'GET', '/api/v1/conversations?limit=1');
    const cursor = first.json().nextCursor;
    const res = await call(t, acct.users.admin.token, 'GET', `/api/v1/conversations?sort=priority&cursor=${cursor}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_cursor');
  });
});
