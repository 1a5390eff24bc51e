import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../hub/testing/harness.js';
import type { Database, Queryable } from './database.js';
import { openPostgres } from './postgres.js';
import { migrate } from './migrate.js';
import { GroupedWrites } from './grouped-writes.js';

let database: { url: string; drop(): Promise<void> };
let db: Database;
const ACCOUNT = '00000000-0000-4000-8000-000000000001';
const OTHER = '00000000-0000-4000-8000-000000000002';

beforeAll(async () => {
  database = await freshDatabase();
  db = await openPostgres(database.url, { max: 10 });
  await migrate(db);
  await db.query(`CREATE TABLE grouped_writes_test (id int PRIMARY KEY, account text NOT NULL)`);
});
afterAll(async () => {
  await db?.close();
  await database?.drop();
});

/** A write that inserts row `id` and answers with its transaction's id. */
const insert = (id: number) => async (tx: Queryable) => {
  await tx.query(`INSERT INTO grouped_writes_test (id, account) VALUES ($1, current_setting('hummdesk.account_id'))`, [id]);
  return (await tx.query<{ tx: string }>(`SELECT txid_current()::text AS tx`)).rows[0]!.tx;
};
const rows = async (from: number, to: number) =>
  (await db.query<{ id: number; account: string }>(`SELECT id, account FROM grouped_writes_test WHERE id BETWEEN $1 AND $2 ORDER BY id`, [from, to])).rows;

describe('GroupedWrites', () => {
  it('writes of one account asked for in one turn commit in one transaction, as that account', async () => {
    const writes = new GroupedWrites(db);
    const txs = await Promise.all([1, 2, 3, 4, 5].map((id) => writes.run(ACCOUNT, insert(id))));
    expect(new Set(txs).size).toBe(1);
    expect(writes.stats).toEqual({ transactions: 1, writes: 5 });
    expect(await rows(1, 5)).toEqual([1, 2, 3, 4, 5].map((id) => ({ id, account: ACCOUNT })));
  });

  it('a group holds at most `max` writes', async () => {
    const writes = new GroupedWrites(db, 2);
    const txs = await Promise.all([11, 12, 13, 14, 15].map((id) => writes.run(ACCOUNT, insert(id))));
    expect(new Set(txs).size).toBe(3);
    expect(writes.stats).toEqual({ transactions: 3, writes: 5 });
  });

  it('writes asked for while the account\'s transaction is open go together into the next one', async () => {
    const writes = new GroupedWrites(db);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let started!: () => void;
    const inside = new Promise<void>((resolve) => (started = resolve));
    const first = writes.run(ACCOUNT, async (tx) => {
      started();
      await gate;
      return insert(21)(tx);
    });
    await inside;
    const later = [22, 23, 24].map((id) => writes.run(ACCOUNT, insert(id)));
    // Another account is not held up by this one's open transaction.
    expect(await writes.run(OTHER, insert(31))).toMatch(/^\d+$/);
    open();
    const [a, ...rest] = await Promise.all([first, ...later]);
    expect(new Set(rest).size).toBe(1);
    expect(rest[0]).not.toBe(a);
    expect(writes.stats).toEqual({ transactions: 3, writes: 5 });
    expect((await rows(21, 31)).map((r) => r.id)).toEqual([21, 22, 23, 24, 31]);
  });

  it('a write that fails fails alone: the others of its group are written', async () => {
    const writes = new GroupedWrites(db);
    await writes.run(ACCOUNT, insert(40));
    // The second collides with 40's key: the group's transaction fails, and each write runs again alone.
    const results = await Promise.allSettled([41, 40, 43].map((id) => writes.run(ACCOUNT, insert(id))));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/duplicate key/);
    expect((await rows(40, 49)).map((r) => r.id)).toEqual([40, 41, 43]);
  });
});
