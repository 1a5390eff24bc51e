import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../database.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../../hub/testing/harness.js';
import { seedConversation } from '../../hub/testing/seed.js';
import { migrate } from '../migrate.js';
import { withAccount } from '../session.js';
import { listConversations, listInbox, type ConversationFilter } from './conversations.js';

/*
 * Search from each conversation's lexemes (migration 310): the text index names a word's matching
 * conversations, most recent first, and the list reads only a slice of them. A conversation matches
 * when one of its messages does, exactly as a search of the messages themselves, whichever way a word is
 * looked for: from the index (cap 5,000) or by walking the list (cap 0).
 */

const WAYS = [5_000, 0];

describe.each([
  { store: 'Postgres', embedded: false },
  { store: 'PGlite', embedded: true },
])('conversation search by lexemes ($store)', ({ embedded }) => {
  let t: TestHub;
  let A: TestAccount;
  let B: TestAccount;
  beforeAll(async () => {
    t = await startTestHub({ embedded, jobs: false });
    A = await createTestAccount(t);
    B = await createTestAccount(t);
  }, 180_000);
  afterAll(() => t?.close());

  const list = (acct: TestAccount, f: Omit<ConversationFilter, 'limit'> & { limit?: number }, tx?: (q: Queryable) => Queryable) =>
    withAccount(t.hub.db, acct.accountId, (q) => listConversations(tx ? tx(q) : q, { limit: 50, ...f }));
  const ids = (rows: { id: string }[]) => rows.map((r) => r.id);
  const found = async (acct: TestAccount, q: string, searchIndexMax: number) => ids(await list(acct, { q, searchIndexMax })).sort();
  /** Every conversation's stored lexemes against the ones its messages give now (as the owner). */
  const drift = async () => (await t.hub.db.query<{ id: string }>(
    `SELECT c.id FROM conversations c LEFT JOIN conversation_search s ON s.conversation_id = c.id
      WHERE coalesce(s.search, '') IS DISTINCT FROM coalesce(hd_conversation_terms(c.id), '')`)).rows;

  it('is filled for conversations written before the migration', async () => {
    const C = await createTestAccount(t);
    await migrate(t.hub.db, '300');
    const before = (await seedConversation(t, C, { text: 'an old heron story' })).conversationId;
    await seedConversation(t, C, { thread: 'old', text: 'first heron' });
    await seedConversation(t, C, { thread: 'old', text: 'then a crane' });
    await migrate(t.hub.db);
    expect(await drift()).toEqual([]);
    for (const max of WAYS) expect(await found(C, 'story', max)).toEqual([before]);
  });

  it('finds a conversation when one of its messages matches, as the messages themselves would', async () => {
    const one = (await seedConversation(t, A, { text: 'the amber falcon flew' })).conversationId;
    const split = (await seedConversation(t, A, { thread: 'split', text: 'amber only' })).conversationId;
    await seedConversation(t, A, { thread: 'split', text: 'falcon only' });
    const reversed = (await seedConversation(t, A, { text: 'a falcon, amber' })).conversationId;
    await seedConversation(t, B, { text: 'amber falcon of another tenant' });
    const sorted = (...xs: string[]) => xs.sort();
    for (const max of WAYS) {
      expect(await found(A, 'amber', max)).toEqual(sorted(one, split, reversed));
      // Both words in one message; the split conversation has them only in two.
      expect(await found(A, 'amber falcon', max)).toEqual(sorted(one, reversed));
      expect(await found(A, '"amber falcon"', max)).toEqual([one]);
      // A negated word another message of the conversation holds: its first message still matches.
      expect(await found(A, 'amber -falcon', max)).toEqual([split]);
      expect(await found(A, 'zircon or amber', max)).toEqual(sorted(one, split, reversed));
      expect(await found(A, 'zircon', max)).toEqual([]);
      expect(await found(A, '!!!', max)).toEqual([]);
    }
    expect(await drift()).toEqual([]);
  });

  it('follows a message edited or emptied', async () => {
    const seeded = await seedConversation(t, A, { thread: 'edit', text: 'walnut basket' });
    await seedConversation(t, A, { thread: 'edit', text: 'and a pear' });
    const edit = (text: string) => withAccount(t.hub.db, A.accountId, (tx) => tx.query(`UPDATE messages SET text = $2 WHERE id = $1`, [seeded.messageId, text]));
    await edit('pecan basket');
    for (const max of WAYS) {
      expect(await found(A, 'walnut', max)).toEqual([]);
      expect(await found(A, 'pecan', max)).toEqual([seeded.conversationId]);
    }
    await edit('');
    for (const max of WAYS) {
      expect(await found(A, 'pecan', max)).toEqual([]);
      expect(await found(A, 'pear', max)).toEqual([seeded.conversationId]);
    }
    expect(await drift()).toEqual([]);
  });

  describe('with other filters and pages', () => {
    let C: TestAccount;
    let kiwis: string[];
    beforeAll(async () => {
      C = await createTestAccount(t);
      kiwis = [];
      for (let i = 0; i < 30; i++) kiwis.push((await seedConversation(t, C, { text: `kiwi ${i}`, sentAt: new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString() })).conversationId);
      await seedConversation(t, C, { text: 'no fruit here' });
      // Only the three oldest are resolved: the newest slices of matches hold none of them.
      await withAccount(t.hub.db, C.accountId, (tx) => tx.query(`UPDATE conversations SET status = 'resolved' WHERE id = ANY($1::uuid[])`, [kiwis.slice(0, 3)]));
      await withAccount(t.hub.db, C.accountId, (tx) => tx.query(`UPDATE conversations SET priority = 'high' WHERE id = $1`, [kiwis[1]]));
    });

    it('reaches older matches when the newest do not pass the filters, in list order and by pages', async () => {
      for (const searchIndexMax of WAYS) {
        const resolved = await list(C, { q: 'kiwi', status: 'resolved', limit: 3, searchIndexMax });
        expect(ids(resolved)).toEqual([kiwis[2], kiwis[1], kiwis[0]]);
        const next = await list(C, { q: 'kiwi', status: 'resolved', limit: 3, searchIndexMax, after: { lastMessageAt: resolved[0]!.cursorAt, id: resolved[0]!.id } });
        expect(ids(next)).toEqual([kiwis[1], kiwis[0]]);
        expect(ids(await list(C, { q: 'kiwi', status: 'resolved', sort: 'priority', searchIndexMax }))).toEqual([kiwis[1], kiwis[2], kiwis[0]]);
        // Every page of all matches, four at a time: each match once, newest first.
        const seen: string[] = [];
        let after: ConversationFilter['after'];
        for (let page = 0; page < 20; page++) {
          const rows = await list(C, { q: 'kiwi', limit: 5, searchIndexMax, after });
          seen.push(...ids(rows.slice(0, 4)));
          if (rows.length <= 4) break;
          after = { lastMessageAt: rows[3]!.cursorAt, id: rows[3]!.id };
        }
        expect(seen).toEqual([...kiwis].reverse());
      }
      const page = await withAccount(t.hub.db, C.accountId, (tx) => listInbox(tx, { q: 'kiwi', status: 'resolved', limit: 2 }, C.users.agent.id));
      expect(page.map((r) => r.preview)).toEqual(['kiwi 2', 'kiwi 1']);
    });

    it('answers a page in one statement, the index naming a slice of the matches, not all of them', async () => {
      const statements: unknown[][] = [];
      const recording = (tx: Queryable): Queryable => ({
        query: (sql, params) => {
          statements.push(params ?? []);
          return tx.query(sql, params);
        },
      });
      expect(ids(await list(C, { q: 'kiwi', limit: 3 }, recording))).toEqual(kiwis.slice(-3).reverse());
      // The index's answer and the page it names: one statement, one round trip.
      expect(statements).toHaveLength(1);
      const slice = await withAccount(t.hub.db, C.accountId, async (tx) => (await tx.query<{ n: number; more: boolean; last: string }>(
        `SELECT cardinality(ids) AS n, more, last_id AS last FROM hd_search_conversation_hits('kiwi', 5000, 11, NULL, NULL)`)).rows[0]!);
      expect(slice).toEqual({ n: 11, more: true, last: kiwis.at(-11) });
    });
  });

  describe('matches spread over months', () => {
    let D: TestAccount;
    let ibises: string[];
    beforeAll(async () => {
      D = await createTestAccount(t);
      ibises = [];
      // One every five days for 300 days: the index is asked for 2 days, then 6, 24, 96, then every older day.
      for (let i = 0; i < 60; i++) {
        const sentAt = new Date(Date.UTC(2025, 0, 1) + i * 5 * 86_400_000).toISOString();
        ibises.push((await seedConversation(t, D, { text: `an ibis, number ${i}`, sentAt })).conversationId);
        if (i % 10 === 0) await seedConversation(t, D, { text: 'a heron instead', sentAt });
      }
      // The oldest three are resolved: only older days' slices hold them.
      await withAccount(t.hub.db, D.accountId, (tx) => tx.query(`UPDATE conversations SET status = 'resolved' WHERE id = ANY($1::uuid[])`, [ibises.slice(0, 3)]));
      // Statistics that tell the search the word is too common to read whole (more than four pages of 3).
      await t.hub.db.query('ANALYZE conversation_search');
    });

    it('pages every match in list order, through the index in widening slices of days and by walking', async () => {
      const newestFirst = [...ibises].reverse();
      for (const searchIndexMax of WAYS) {
        const seen: string[] = [];
        let after: ConversationFilter['after'];
        for (let page = 0; page < 30 && seen.length < ibises.length; page++) {
          const rows = await list(D, { q: 'ibis', limit: 4, searchIndexMax, after });
          seen.push(...ids(rows.slice(0, 3)));
          if (rows.length <= 3) break;
          after = { lastMessageAt: rows[2]!.cursorAt, id: rows[2]!.id };
        }
        expect(seen).toEqual(newestFirst);
        expect(ids(await list(D, { q: 'ibis', status: 'resolved', limit: 3, searchIndexMax }))).toEqual(newestFirst.slice(-3));
        expect(ids(await list(D, { q: 'ibis heron', searchIndexMax }))).toEqual([]);
        expect(ids(await list(D, { q: 'ibis -number', searchIndexMax }))).toEqual([]);
        expect(ids(await list(D, { q: '"ibis, number 7"', searchIndexMax }))).toEqual([ibises[7]]);
      }
      // Through the index: a slice of the newest days first, widened until it holds more than asked for.
      const slice = await withAccount(t.hub.db, D.accountId, async (tx) => (await tx.query<{ ids: string[]; more: boolean }>(
        `SELECT ids, more FROM hd_search_conversation_hits('ibis', 5000, 11, NULL, NULL)`)).rows[0]!);
      expect(slice).toEqual({ ids: newestFirst.slice(0, 11), more: true });
    });
  });

  it('is readable only by its own tenant and written only by the triggers', async () => {
    const mine = (await seedConversation(t, B, { text: 'a private quokka' })).conversationId;
    const seen = (acct: TestAccount) => withAccount(t.hub.db, acct.accountId, async (tx) =>
      Number((await tx.query<{ n: string }>(`SELECT count(*) AS n FROM conversation_search WHERE conversation_id = $1`, [mine])).rows[0]!.n));
    expect(await seen(B)).toBe(1);
    expect(await seen(A)).toBe(0);
    await expect(withAccount(t.hub.db, B.accountId, (tx) =>
      tx.query(`UPDATE conversation_search SET search = 'forged' WHERE conversation_id = $1`, [mine]))).rejects.toThrow(/permission denied/);
    const hits = async (tx: Queryable) => (await tx.query<{ ids: string[] | null }>(`SELECT ids FROM hd_search_conversation_hits('quokka', 100, 100, NULL, NULL)`)).rows[0]!.ids;
    expect(await withAccount(t.hub.db, B.accountId, hits)).toEqual([mine]);
    expect(await withAccount(t.hub.db, A.accountId, hits)).toEqual([]);
    // No tenant set (hd_account() is NULL): no account's conversations.
    expect(await hits(t.hub.db)).toEqual([]);
  });
});
