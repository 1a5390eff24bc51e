import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../database.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../../hub/testing/harness.js';
import { seedConversation } from '../../hub/testing/seed.js';
import { withAccount } from '../session.js';
import { listConversations, type ConversationFilter } from './conversations.js';

/*
 * The inbox list and search on a large account: each view is read from an index in the list's order,
 * and search takes a word's few matches from the text index (through hd_search_conversations, which runs
 * as the tables' owner) or, for a common word, walks the list. Neither may ever show another tenant's row.
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

  it('answers only the calling tenant’s matches from hd_search_conversations, and nothing without a tenant', async () => {
    const direct = (acct: TestAccount) => withAccount(t.hub.db, acct.accountId, async (tx) =>
      (await tx.query<{ ids: string[] }>(`SELECT hd_search_conversations('quetzal', 100) AS ids`)).rows[0]!.ids);
    expect([...(await direct(A))].sort()).toEqual([...ours].sort());
    expect([...(await direct(B))].sort()).toEqual([...theirs].sort());
    // No tenant set (hd_account() is NULL): no account's messages.
    expect((await t.hub.db.query<{ ids: string[] }>(`SELECT hd_search_conversations('quetzal', 100) AS ids`)).rows[0]!.ids).toEqual([]);
    // More matches than asked for: NULL, the caller walks the list instead.
    expect((await withAccount(t.hub.db, B.accountId, (tx) => tx.query<{ ids: string[] | null }>(`SELECT hd_search_conversations('quetzal', 2) AS ids`))).rows[0]!.ids).toBeNull();
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
  function planned(tx: Queryable, plans: string[]): Queryable {
    return {
      async query<R>(sql: string, params?: unknown[]) {
        const { rows } = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params);
        plans.push(rows.map((r) => r['QUERY PLAN']).join('\n'));
        return tx.query<R>(sql, params);
      },
    };
  }
  /** The list statement's plan with sorting and sequential scans priced out, so only a matching index avoids them. */
  const planOf = (f: Omit<ConversationFilter, 'limit'>) => withAccount(t.hub.db, A.accountId, async (tx) => {
    await tx.query(`SELECT set_config('enable_seqscan', 'off', true), set_config('enable_sort', 'off', true), set_config('enable_incremental_sort', 'off', true)`);
    const plans: string[] = [];
    await listConversations(planned(tx, plans), { ...f, limit: 26 });
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

  it('takes a rare word’s conversations from the text index, without reading the tenant’s messages', async () => {
    await seedConversation(t, A, { text: 'a narwhal was seen' });
    const plan = await planOf({ q: 'narwhal' });
    expect(plan).not.toMatch(/messages/);
    expect(plan).toMatch(/id = ANY/);
  });
});
