import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../hub/testing/harness.js';
import { withAccount } from './session.js';

/** A tenant transaction on PostgreSQL: the role switch rides with BEGIN, and still makes row-level security apply. */
let t: TestHub;
let a: TestAccount;
let b: TestAccount;

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  a = await createTestAccount(t);
  b = await createTestAccount(t);
});
afterAll(() => t?.close());

describe('withAccount', () => {
  it('runs as the app role with the tenant set, seeing only that tenant, and ends both with the transaction', async () => {
    expect(t.hub.db.kind).toBe('postgres');
    const inside = await withAccount(t.hub.db, a.accountId, async (tx) => (await tx.query<{ role: string; account: string; channels: string[] }>(
      `SELECT current_user AS role, current_setting('hummdesk.account_id') AS account, array(SELECT id::text FROM channels) AS channels`,
    )).rows[0]!);
    expect(inside).toEqual({ role: 'hummdesk_app', account: a.accountId, channels: [a.channelId] });
    expect((await withAccount(t.hub.db, b.accountId, async (tx) => (await tx.query<{ id: string }>(`SELECT id FROM channels`)).rows)).map((r) => r.id)).toEqual([b.channelId]);
    // Set for the transaction only (set_config(…, true)): the next one on any connection starts clean.
    const after = await t.hub.db.transaction(async (tx) => (await tx.query<{ account: string | null }>(`SELECT nullif(current_setting('hummdesk.account_id', true), '') AS account`)).rows[0]!);
    expect(after.account).toBeNull();
  });

  it('never writes an id that is not a uuid into SQL: it goes as a parameter, and is refused', async () => {
    const hostile = `${a.accountId}', true); DROP TABLE channels; --`;
    await expect(withAccount(t.hub.db, hostile, (tx) => tx.query(`SELECT id FROM channels`))).rejects.toThrow();
    expect((await t.hub.db.query(`SELECT count(*) FROM channels`)).rows).toHaveLength(1);
  });
});
