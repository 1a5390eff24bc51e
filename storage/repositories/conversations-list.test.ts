import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../database.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../../hub/testing/harness.js';
import { seedConversation } from '../../hub/testing/seed.js';
import { withAccount } from '../session.js';
import { inboxCounts, listConversations, listInbox, type ConversationFilter } from './conversations.js';

/*
 * The inbox list and search on a large account: each view is read from an index in the list's order,
 * and search takes a word's few matching conversations from the text index (through hd_search_conversation_hits,
 * which runs as the tables' owner) or, for a common word, walks the list. Neither may ever show another tenant's row.
 */

let t: TestHub;
let A: TestAccount;
let B: TestAccount;

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  A = await createTestAccount(t);
  B = await createTestAccount(t);
});
afterAll(() => t?.close());
/** The Postgres hub the other suites share. */
const t0 = () => t;

const list = (acct: TestAccount, f: Omit<ConversationFilter, 'limit'> & { limit?: number }) =>
  withAccount(t.hub.db, acct.accountId, (tx) => listConversations(tx, { limit: 50, ...f }));
const ids = (rows: { id: string }[]) => rows.map((r) => r.id);

describe('conversation search across tenants', () => {
  let ours: string[];
  let theirs: string[];
  beforeAll(async () => {
    ours = [];
    theirs = [];
    for (let i = 0; i < 3; i++) ours.push((await seedConversation(t, A, { text: `The quetzal parcel ${i} is late` })).conversationId);
    for (let i = 0; i < 4; i++) theirs.push((await seedConversation(t, B, { text: `A quetzal and an okapi, number ${i}` })).conversationId);
    await seedConversation(t, B, { text: 'Only the okapi knows' });
  });

  it('never returns another tenant’s conversation, through the text index or walking the list', async () => {
    for (const searchIndexMax of [5_000, 1, 0]) {
      expect(ids(await list(A, { q: 'quetzal', searchIndexMax })).sort()).toEqual([...ours].sort());
      expect(ids(await list(B, { q: 'quetzal', searchIndexMax })).sort()).toEqual([...theirs].sort());
      // A word only the other tenant wrote finds nothing, whichever way it is looked for.
      expect(await list(A, { q: 'okapi', searchIndexMax })).toEqual([]);
    }
  });

  it('answers only the calling tenant’s matches from hd_search_conversation_hits, and nothing without a tenant', async () => {
    const hits = (cap: number) => async (tx: Queryable) =>
      (await tx.query<{ ids: string[] | null }>(`SELECT ids FROM hd_search_conversation_hits('quetzal', $1, 100, NULL, NULL)`, [cap])).rows[0]!.ids;
    expect([...(await withAccount(t.hub.db, A.accountId, hits(100)))!].sort()).toEqual([...ours].sort());
    expect([...(await withAccount(t.hub.db, B.accountId, hits(100)))!].sort()).toEqual([...theirs].sort());
    // No tenant set (hd_account() is NULL): no account's conversations.
    expect(await hits(100)(t.hub.db)).toEqual([]);
    // More matches than the cap: NULL, the caller walks the list instead.
    expect(await withAccount(t.hub.db, B.accountId, hits(2))).toBeNull();
  });

  it('pages a search in list order the same way through the index and by walking', async () => {
    const C = await createTestAccount(t);
    const seeded: string[] = [];
    for (let i = 0; i < 6; i++) seeded.push((await seedConversation(t, C, { text: `walrus ${i}`, sentAt: new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString() })).conversationId);
    await seedConversation(t, C, { text: 'no such animal here' });
    for (const searchIndexMax of [5_000, 2]) {
      const seen: string[] = [];
      let after: ConversationFilter['after'];
      for (let page = 0; page < 5; page++) {
        const rows = await list(C, { q: 'walrus', limit: 4, searchIndexMax, after });
        seen.push(...ids(rows.slice(0, 3)));
        if (rows.length <= 3) break;
        after = { lastMessageAt: rows[2]!.cursorAt, id: rows[2]!.id };
      }
      expect(seen).toEqual([...seeded].reverse());
    }
  });
});

describe('inbox view plans as the tenant', () => {
  /** Records each statement's plan, then runs it. */
  function planned(tx: Queryable, plans: string[], explain = 'EXPLAIN'): Queryable {
    return {
      async query<R>(sql: string, params?: unknown[]) {
        const { rows } = await tx.query<{ 'QUERY PLAN': string }>(`${explain} ${sql}`, params);
        plans.push(rows.map((r) => r['QUERY PLAN']).join('\n'));
        return tx.query<R>(sql, params);
      },
    };
  }
  /** The list statement's plan with sorting and sequential scans priced out, so only a matching index avoids them; or, given an EXPLAIN with options, as the planner chooses it and run. */
  const planOf = (f: Omit<ConversationFilter, 'limit'>, explain?: string) => withAccount(t.hub.db, A.accountId, async (tx) => {
    if (!explain) await tx.query(`SELECT set_config('enable_seqscan', 'off', true), set_config('enable_sort', 'off', true), set_config('enable_incremental_sort', 'off', true)`);
    const plans: string[] = [];
    await listConversations(planned(tx, plans, explain), { ...f, limit: 26 });
    return plans.at(-1)!;
  });

  it('reads every status view in list order from an index that holds its filter', async () => {
    const team = (await t.hub.db.query<{ id: string }>(`INSERT INTO teams (account_id, name) VALUES ($1, 'Plans') RETURNING id`, [A.accountId])).rows[0]!.id;
    // On a test's few rows the planner may take the status columns from the index and check the rest
    // row by row; what must hold is that the rows come in list order from an index, never sorted.
    const views: Omit<ConversationFilter, 'limit'>[] = [
      { status: 'open', assigneeId: A.users.agent.id },
      { status: 'open', assigneeId: null },
      { status: 'open' },
      { status: 'snoozed' },
      { status: 'resolved', teamId: team },
    ];
    for (const filter of views) {
      const plan = await planOf(filter);
      expect(plan, JSON.stringify(filter)).not.toMatch(/Sort/);
      expect(plan, JSON.stringify(filter)).toMatch(new RegExp(`Index Scan using conversations_status\\w*_list_idx on conversations c[^\\n]*\\n\\s+Index Cond: .*status = '${filter.status}'`));
    }
  });

  it('takes a rare word’s conversations from the text index in the page’s own statement, without reading the tenant’s messages', async () => {
    await seedConversation(t, A, { text: 'a narwhal was seen' });
    const plan = await planOf({ q: 'narwhal' }, 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)');
    expect(plan).toMatch(/Function Scan on hd_search_conversation_hits h/);
    // On a test's few rows the planner may walk the account's index and pick the ids out; on a large one, by primary key.
    expect(plan).toMatch(/id = ANY \(h\.ids\)/);
    // The messages' check (for AND and phrases) and the walk of the list sit behind gates the index's answer keeps shut.
    const lines = plan.split('\n');
    const ran = (pattern: RegExp) => lines.filter((l) => pattern.test(l) && !/never executed/.test(l));
    expect(plan).toMatch(/on messages m/);
    expect(ran(/on messages m/)).toEqual([]);
    expect(ran(/on conversation_search s/)).toEqual([]);
    expect(plan).toMatch(/One-Time Filter: \(h\.ids IS NULL\)/);
  });
});

describe.each([
  { store: 'Postgres', embedded: false },
  { store: 'PGlite', embedded: true },
])('inbox view counts kept by trigger (migration 285, $store)', ({ embedded }) => {
  let t: TestHub;
  let A: TestAccount;
  beforeAll(async () => {
    t = embedded ? await startTestHub({ embedded, jobs: false }) : t0();
    A = await createTestAccount(t);
  }, 180_000);
  afterAll(() => (embedded ? t?.close() : undefined));
  /** The counts as counting every conversation gives them (what the counters must always equal). */
  const counted = (acct: TestAccount, userId: string) => withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query(
    `SELECT count(*) FILTER (WHERE status IN ('open', 'pending') AND assignee_id = $1)::int AS mine,
            count(*) FILTER (WHERE status IN ('open', 'pending') AND assignee_id IS NULL)::int AS unassigned,
            count(*) FILTER (WHERE status IN ('open', 'pending'))::int AS open,
            count(*) FILTER (WHERE status = 'snoozed')::int AS snoozed,
            count(*) FILTER (WHERE status = 'resolved')::int AS resolved
       FROM conversations`, [userId])).rows[0]);
  const counts = (acct: TestAccount, compactAt?: number) => withAccount(t.hub.db, acct.accountId, (tx) => inboxCounts(tx, acct.users.agent.id, compactAt));
  const counterRows = (acct: TestAccount) => withAccount(t.hub.db, acct.accountId, async (tx) =>
    Number((await tx.query<{ n: string }>(`SELECT count(*) AS n FROM conversation_counts`)).rows[0]!.n));

  it('stay exact through creation, assignment, status changes and deletion, per tenant, and when compacted', async () => {
    const C = await createTestAccount(t);
    const D = await createTestAccount(t);
    const c: string[] = [];
    for (let i = 0; i < 5; i++) c.push((await seedConversation(t, C, { text: `counted ${i}` })).conversationId);
    for (let i = 0; i < 2; i++) await seedConversation(t, D, { text: `theirs ${i}` });
    const change = (sql: string, params: unknown[]) => withAccount(t.hub.db, C.accountId, (tx) => tx.query(sql, params));
    await change(`UPDATE conversations SET assignee_id = $2 WHERE id = ANY($1::uuid[])`, [c.slice(0, 3), C.users.agent.id]);
    await change(`UPDATE conversations SET status = 'resolved' WHERE id = $1`, [c[0]]);
    await change(`UPDATE conversations SET status = 'snoozed', snoozed_until = now() + interval '1 hour' WHERE id = $1`, [c[3]]);
    await change(`UPDATE conversations SET status = 'pending', priority = 'high' WHERE id = $1`, [c[1]]);
    await change(`DELETE FROM conversations WHERE id = $1`, [c[4]]);
    // A change on the hub's own connection (no tenant, as waking snoozed conversations runs) counts too.
    await t.hub.db.query(`UPDATE conversations SET status = 'open', snoozed_until = NULL WHERE id = $1`, [c[3]]);

    const expected = { mine: 2, unassigned: 1, open: 3, snoozed: 0, resolved: 1 };
    expect(await counted(C, C.users.agent.id)).toEqual(expected);
    expect(await counts(C)).toEqual(expected);
    expect(await counts(D)).toEqual({ mine: 0, unassigned: 2, open: 2, snoozed: 0, resolved: 0 });

    // Compacting folds C's rows to one per group; the counts and the other tenant's rows stay as they were.
    const theirs = await counterRows(D);
    expect(await counterRows(C)).toBeGreaterThan(4);
    expect(await counts(C, 0)).toEqual(expected);
    // open, pending and resolved with the agent, open with nobody.
    expect(await counterRows(C)).toBe(4);
    expect(await counts(C)).toEqual(expected);
    expect(await counterRows(D)).toBe(theirs);
  });

  it('are neither readable nor writable across tenants, and not writable by a tenant at all', async () => {
    const E = await createTestAccount(t);
    await seedConversation(t, E);
    await expect(withAccount(t.hub.db, A.accountId, (tx) =>
      tx.query(`INSERT INTO conversation_counts (account_id, status, assignee_id, n) VALUES ($1, 'open', NULL, 100)`, [A.accountId]))).rejects.toThrow(/permission denied/);
    const seen = await withAccount(t.hub.db, A.accountId, async (tx) =>
      (await tx.query<{ n: string }>(`SELECT count(*) AS n FROM conversation_counts WHERE account_id = $1`, [E.accountId])).rows[0]!.n);
    expect(Number(seen)).toBe(0);
    // Without a tenant the compaction touches nothing.
    await t.hub.db.query(`SELECT hd_compact_conversation_counts()`);
    expect(await counts(E)).toMatchObject({ open: 1, unassigned: 1 });
  });
});

describe('inbox page in one statement', () => {
  it('matches the list row for row and summarises only the calling tenant’s rows', async () => {
    const F = await createTestAccount(t);
    for (let i = 0; i < 4; i++) await seedConversation(t, F, { text: `line one ${i}\nline two`, sentAt: new Date(Date.UTC(2025, 1, 1, 0, i)).toISOString() });
    const page = await withAccount(t.hub.db, F.accountId, (tx) => listInbox(tx, { status: 'open', limit: 3 }, F.users.agent.id));
    const plain = await list(F, { status: 'open', limit: 3 });
    expect(ids(page)).toEqual(ids(plain));
    expect(page.map((r) => r.preview)).toEqual(['line one 3', 'line one 2', 'line one 1']);
    expect(page.every((r) => r.unread && r.waitingSince && r.previewDirection === 'inbound' && r.accountId === F.accountId)).toBe(true);
    // A search's page: the tenant's matches only.
    expect(await withAccount(t.hub.db, A.accountId, (tx) => listInbox(tx, { q: 'line', limit: 10 }, A.users.agent.id))).toEqual([]);
  });

  it('keeps each row’s preview and unread mark through late, edited and deleted messages (migration 330)', async () => {
    const G = await createTestAccount(t);
    const at = (minute: number) => new Date(Date.UTC(2025, 2, 1, 0, minute)).toISOString();
    const s = await seedConversation(t, G, { thread: 'kept', text: 'first question', sentAt: at(1) });
    await seedConversation(t, G, { thread: 'kept', text: 'second question\nmore', sentAt: at(3) });
    const row = async () => (await withAccount(t.hub.db, G.accountId, (tx) => listInbox(tx, { limit: 5 }, G.users.agent.id))).find((r) => r.id === s.conversationId)!;
    const sql = (text: string, params: unknown[] = []) => withAccount(t.hub.db, G.accountId, (tx) => tx.query<{ id: string }>(text, params));
    const insert = (direction: string, author: string, text: string, minute: number, more = '') => sql(
      `INSERT INTO messages (account_id, conversation_id, channel_id, direction, author_kind, text, sent_at${more ? ', is_private' : ''})
       SELECT account_id, id, channel_id, $2, $3, $4, $5${more ? ', true' : ''} FROM conversations WHERE id = $1 RETURNING id`, [s.conversationId, direction, author, text, at(minute)]);
    expect(await row()).toMatchObject({ preview: 'second question', previewDirection: 'inbound', unread: true });
    // A message that arrives late (sent before the latest) is not the preview.
    await insert('outbound', 'agent', 'an old answer', 2);
    expect((await row()).preview).toBe('second question');
    // An agent's answer after it is; the customer's message before it still makes the row unread until read.
    const answer = (await insert('outbound', 'agent', '  \n Our answer\nsecond line', 4)).rows[0]!.id;
    expect(await row()).toMatchObject({ preview: 'Our answer', previewDirection: 'outbound', unread: true });
    await sql(`INSERT INTO conversation_reads (account_id, conversation_id, user_id, read_at) SELECT account_id, id, $2, $3 FROM conversations WHERE id = $1`, [s.conversationId, G.users.agent.id, at(5)]);
    expect((await row()).unread).toBe(false);
    // Private notes and system messages never show.
    await insert('outbound', 'agent', 'a private note', 6, 'private');
    await insert('outbound', 'system', 'sent by an integration', 7);
    expect((await row()).preview).toBe('Our answer');
    // An edit shows at once; a deletion shows the message before.
    await sql(`UPDATE messages SET text = 'Our corrected answer' WHERE id = $1`, [answer]);
    expect((await row()).preview).toBe('Our corrected answer');
    await sql(`DELETE FROM messages WHERE id = $1`, [answer]);
    expect(await row()).toMatchObject({ preview: 'second question', previewDirection: 'inbound', unread: false });
    // The customer writes after the read: unread again; deleting that message takes the mark back.
    const late = (await insert('inbound', 'contact', 'third question', 8)).rows[0]!.id;
    expect(await row()).toMatchObject({ preview: 'third question', unread: true });
    await sql(`DELETE FROM messages WHERE id = $1`, [late]);
    expect(await row()).toMatchObject({ preview: 'second question', unread: false });
  });
});
