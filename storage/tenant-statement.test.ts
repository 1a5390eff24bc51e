import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../hub/testing/harness.js';
import { seedConversation } from '../hub/testing/seed.js';
import type { Database } from './database.js';
import { openPostgres } from './postgres.js';
import { tenantReads } from './session.js';

/*
 * A statement as a tenant in one round trip (the tenant switch and the statement share the implicit
 * transaction one Sync ends): it must see one tenant only, and leave nothing of the tenant on the
 * connection afterwards, also when the statement fails.
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
  // One connection, so every statement below runs on the connection the one before left.
  db = await openPostgres(t.config.databaseUrl!, { max: 1 });
});
afterAll(async () => {
  await db?.close();
  await t?.close();
});

const COUNT = `SELECT count(*)::int AS n, min(account_id::text) AS account FROM conversations`;
const who = async () => (await db.query<{ role: string; account: string | null }>(
  `SELECT current_user AS role, nullif(current_setting('hummdesk.account_id', true), '') AS account`)).rows[0]!;

describe('tenantReads on node-postgres', () => {
  it('sees only the tenant’s rows, named or not, and leaves the connection as it found it', async () => {
    const before = await who();
    expect(before.account).toBeNull();
    for (const [acct, n] of [[A, 2], [B, 1], [A, 2]] as const) {
      const reads = tenantReads(db, acct.accountId);
      expect((await reads.prepared!<{ n: number; account: string }>('tenant_count_test', COUNT, [])).rows[0]).toEqual({ n, account: acct.accountId });
      expect((await reads.query<{ n: number; account: string }>(`${COUNT} WHERE $1::int > 0`, [1])).rows[0]).toEqual({ n, account: acct.accountId });
      expect(await who()).toEqual(before);
    }
  });

  it('fails a bad statement with its own error, and the connection goes on as the owner with no tenant', async () => {
    const before = await who();
    const reads = tenantReads(db, A.accountId);
    await expect(reads.prepared!('tenant_fail_test', `SELECT 1 / (count(*) - count(*))::int FROM conversations`, [])).rejects.toThrow(/division by zero/);
    await expect(reads.prepared!('tenant_parse_test', `SELECT no_such_column FROM conversations`, [])).rejects.toThrow(/no_such_column/);
    expect(await who()).toEqual(before);
    // The statement that failed to parse is parsed again next time, not assumed prepared.
    await expect(reads.prepared!('tenant_parse_test', `SELECT no_such_column FROM conversations`, [])).rejects.toThrow(/no_such_column/);
    expect((await reads.prepared!<{ n: number }>('tenant_count_test', COUNT, [])).rows[0]!.n).toBe(2);
  });

  it('runs a generic plan per tenant with the tenant’s rows only, and leaves the plan mode behind', async () => {
    const mode = async () => (await db.query<{ m: string }>(`SELECT current_setting('plan_cache_mode') AS m`)).rows[0]!.m;
    const before = await mode();
    for (const [acct, n] of [[A, 2], [B, 1], [A, 2], [B, 1], [A, 2], [B, 1], [A, 2]] as const) {
      const rows = (await tenantReads(db, acct.accountId).prepared!<{ n: number; account: string }>('tenant_generic_test', `${COUNT} WHERE status = $1`, ['open'], { genericPlan: true })).rows;
      expect(rows[0]).toEqual({ n, account: acct.accountId });
    }
    expect(await mode()).toBe(before);
  });

  it('takes the tenant as a bound parameter, never as SQL', async () => {
    const reads = tenantReads(db, `${A.accountId}', true), set_config('role', 'postgres', true) --`);
    await expect(reads.query(COUNT)).rejects.toThrow(/uuid/);
    expect((await who()).account).toBeNull();
  });
});
