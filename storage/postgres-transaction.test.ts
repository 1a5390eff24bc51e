import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../hub/testing/harness.js';
import { seedConversation } from '../hub/testing/seed.js';
import type { Database } from './database.js';
import { openPostgres } from './postgres.js';
import { withAccount } from './session.js';

/*
 * A transaction on node-postgres sends BEGIN (and the tenant switch) in the same write as its first
 * statement: a one-statement transaction is two round trips (that write, COMMIT), not three. It must
 * still be one transaction as one tenant, roll back on a failure and leave the connection clean.
 */

let t: TestHub;
let A: TestAccount;
let B: TestAccount;
let db: Database;

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  A = await createTestAccount(t);
  B = await createTestAccount(t);
  for (let i = 0; i < 2; i++) await seedConversation(t, A);
  await seedConversation(t, B);
  // One connection, so every transaction below runs on the connection the one before left.
  db = await openPostgres(t.config.databaseUrl!, { max: 1 });
  await db.query('SELECT 1');
});
afterAll(async () => {
  await db?.close();
  await t?.close();
});

const COUNT = `SELECT count(*)::int AS n, min(account_id::text) AS account FROM conversations WHERE $1::int > 0`;
const who = async () => (await db.query<{ role: string; account: string | null; tx: string }>(
  `SELECT current_user AS role, nullif(current_setting('hummdesk.account_id', true), '') AS account, pg_current_xact_id_if_assigned()::text AS tx`)).rows[0]!;

/** Round trips (client.query calls: each ends with its own Sync or is one simple query) made by `work`. */
async function roundTrips(work: () => Promise<unknown>): Promise<number> {
  const spy = vi.spyOn(pg.Client.prototype, 'query');
  try {
    await work();
    return spy.mock.calls.length;
  } finally {
    spy.mockRestore();
  }
}

describe('transactions on node-postgres', () => {
  it('a one-statement transaction is two round trips, as the tenant, in one transaction', async () => {
    let seen: { n: number; account: string } | undefined;
    const trips = await roundTrips(() => withAccount(db, A.accountId, async (tx) => (seen = (await tx.query<{ n: number; account: string }>(COUNT, [1])).rows[0])));
    expect(seen).toEqual({ n: 2, account: A.accountId });
    expect(trips).toBe(2);
    // Two statements share the transaction BEGIN opened with the first: the same transaction id.
    const ids = await withAccount(db, B.accountId, async (tx) => {
      const first = (await tx.query<{ id: string }>(`SELECT pg_current_xact_id()::text AS id WHERE $1::int > 0`, [1])).rows[0]!.id;
      const second = (await tx.prepared!<{ id: string; n: number }>('tx_test_same', `SELECT pg_current_xact_id()::text AS id, (SELECT count(*)::int FROM conversations WHERE $1::int > 0) AS n`, [1])).rows[0]!;
      return { first, second };
    });
    expect(ids.second).toEqual({ id: ids.first, n: 1 });
    expect((await who()).account).toBeNull();
  });

  it('rolls back when a later statement fails, and a failing first statement leaves no transaction open', async () => {
    const marker = `tx-test-${Date.now()}`;
    await expect(withAccount(db, A.accountId, async (tx) => {
      await tx.query(`UPDATE conversations SET subject = $1 WHERE account_id = $2`, [marker, A.accountId]);
      await tx.query(`SELECT 1 / (count(*) - count(*))::int FROM conversations WHERE $1::int > 0`, [1]);
    })).rejects.toThrow(/division by zero/);
    const changed = await withAccount(db, A.accountId, async (tx) => (await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM conversations WHERE subject = $1`, [marker])).rows[0]!.n);
    expect(changed).toBe(0);
    await expect(withAccount(db, A.accountId, (tx) => tx.prepared!('tx_test_bad', `SELECT no_such_column FROM conversations WHERE $1::int > 0`, [1]))).rejects.toThrow(/no_such_column/);
    expect(await who()).toMatchObject({ account: null, tx: null });
    // The statement that failed to parse is parsed again next time, not assumed prepared.
    await expect(withAccount(db, A.accountId, (tx) => tx.prepared!('tx_test_bad', `SELECT no_such_column FROM conversations WHERE $1::int > 0`, [1]))).rejects.toThrow(/no_such_column/);
  });

  it('a transaction that sends nothing costs nothing, and one opening with a parameterless script still works', async () => {
    expect(await roundTrips(() => withAccount(db, A.accountId, async () => 'nothing'))).toBe(0);
    const n = await withAccount(db, A.accountId, async (tx) => {
      await tx.query(`SET LOCAL statement_timeout = '5s'; SELECT 1`);
      return (await tx.query<{ n: number }>(COUNT, [1])).rows[0]!.n;
    });
    expect(n).toBe(2);
    expect((await who()).account).toBeNull();
  });
});
