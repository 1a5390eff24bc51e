import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { call, seedConversation } from '../testing/seed.js';

/** GET /conversations?sort=waiting: the customer waiting longest first, keyset pages correct through ties. */
let t: TestHub;

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
});
afterAll(() => t?.close());

interface Row { id: string; waitingSince: string | null; lastMessageAt: string }
const at = (minutesAgo: number) => new Date(Date.UTC(2026, 0, 1, 12) - minutesAgo * 60_000).toISOString();

async function walk(acct: TestAccount, query: string, limit: number): Promise<Row[]> {
  const seen: Row[] = [];
  let cursor: string | null = null;
  do {
    const res = await call(t, acct.users.admin.token, 'GET', `/api/v1/conversations?sort=waiting&limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ items: Row[]; nextCursor: string | null }>();
    seen.push(...body.items);
    cursor = body.nextCursor;
  } while (cursor);
  return seen;
}

describe('sorting by waiting time', () => {
  it('lists the longest wait first, then nothing-waiting by latest activity, each conversation once across pages with ties', async () => {
    const acct = await createTestAccount(t);
    // Five customers began waiting at the same instant (a tie wider than a page), others before and after.
    const tied = await Promise.all([0, 1, 2, 3, 4].map(() => seedConversation(t, acct, { sentAt: at(30) })));
    const oldest = await seedConversation(t, acct, { sentAt: at(90) });
    const newest = await seedConversation(t, acct, { sentAt: at(5) });
    // Waiting counts from the first unanswered message: writing again does not move it.
    const again = await seedConversation(t, acct, { thread: 'again', sentAt: at(60) });
    await seedConversation(t, acct, { thread: 'again', sentAt: at(1) });
    // Answered: nothing waits; the answer is the latest activity, so these two come last, latest first.
    const answered = await seedConversation(t, acct, { thread: 'answered', sentAt: at(120) });
    expect((await call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${answered.conversationId}/reply`, { text: 'Sorted!' })).statusCode).toBe(202);
    const answered2 = await seedConversation(t, acct, { thread: 'answered2', sentAt: at(100) });
    expect((await call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${answered2.conversationId}/reply`, { text: 'Done.' })).statusCode).toBe(202);
    // A private note is no answer.
    const noted = await seedConversation(t, acct, { sentAt: at(45) });
    expect((await call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${noted.conversationId}/notes`, { text: 'asking the courier' })).statusCode).toBe(201);

    for (const limit of [1, 2, 3, 100]) {
      const seen = await walk(acct, '', limit);
      const ids = seen.map((r) => r.id);
      expect(new Set(ids).size, `limit ${limit}`).toBe(ids.length);
      expect(ids.length, `limit ${limit}`).toBe(11);
      expect(ids[0]).toBe(oldest.conversationId);
      expect(ids[1]).toBe(again.conversationId);
      expect(ids[2]).toBe(noted.conversationId);
      expect(new Set(ids.slice(3, 8))).toEqual(new Set(tied.map((s) => s.conversationId)));
      expect(ids[8]).toBe(newest.conversationId);
      expect(ids.slice(9)).toEqual([answered2.conversationId, answered.conversationId]);
      // The order is the one the rows show: waitingSince ascending, then none.
      const waits = seen.map((r) => r.waitingSince);
      expect(waits.slice(0, 9).every((w) => w !== null)).toBe(true);
      for (let i = 1; i < 9; i++) expect(Date.parse(waits[i]!)).toBeGreaterThanOrEqual(Date.parse(waits[i - 1]!));
      expect(waits.slice(9)).toEqual([null, null]);
    }
    expect((await walk(acct, '', 100))[1]!.waitingSince).toBe(at(60));
  });

  it('keeps filters: a view sorted by waiting time holds only its conversations', async () => {
    const acct = await createTestAccount(t);
    const mine = await seedConversation(t, acct, { sentAt: at(10) });
    const theirs = await seedConversation(t, acct, { sentAt: at(20) });
    expect((await call(t, acct.users.admin.token, 'POST', `/api/v1/conversations/${mine.conversationId}/assign`, { assigneeId: acct.users.admin.id })).statusCode).toBe(200);
    const seen = await walk(acct, '&assignee=me&status=open', 1);
    expect(seen.map((r) => r.id)).toEqual([mine.conversationId]);
    expect((await walk(acct, '&assignee=none', 1)).map((r) => r.id)).toEqual([theirs.conversationId]);
  });

  it("a customer writing after the answer starts a new wait from that message", async () => {
    const acct = await createTestAccount(t);
    const s = await seedConversation(t, acct, { thread: 'w', sentAt: at(50) });
    expect((await call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${s.conversationId}/reply`, { text: 'On it' })).statusCode).toBe(202);
    const later = new Date(Date.now() + 1000).toISOString();
    await seedConversation(t, acct, { thread: 'w', sentAt: later });
    const [row] = await walk(acct, '', 10);
    expect(row!.waitingSince).toBe(later);
  });

  it('refuses a cursor of another sort', async () => {
    const acct = await createTestAccount(t);
    await seedConversation(t, acct);
    await seedConversation(t, acct);
    const recent = (await call(t, acct.users.admin.token, 'GET', '/api/v1/conversations?limit=1')).json<{ nextCursor: string }>().nextCursor;
    const res = await call(t, acct.users.admin.token, 'GET', `/api/v1/conversations?sort=waiting&cursor=${recent}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_cursor');
  });
});
