import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../../hub/testing/harness.js';
import { withAccount } from '../../storage/session.js';
import { addExamples } from './store.js';

let t: TestHub;
let acct: TestAccount;
beforeAll(async () => {
  t = await startTestHub({ embedded: true, jobs: false });
  acct = await createTestAccount(t);
}, 120_000);
afterAll(() => t?.close());

describe('category examples', () => {
  it("many examples go in a few statements of at most 500 (none holds PGlite's thread for the whole import) as the account's own, each cut to 5,000 characters", async () => {
    const examples = Array.from({ length: 1200 }, (_, i) => ({ category: i % 2 ? 'shipping' : 'billing', text: `example ${i} ${'x'.repeat(i === 0 ? 6000 : 0)}` }));
    const rowsPerStatement: number[] = [];
    expect(await withAccount(t.hub.db, acct.accountId, (tx) => addExamples({
      query: async (sql, params) => {
        const r = await tx.query(sql, params);
        rowsPerStatement.push(r.rowCount);
        return r as never;
      },
    }, acct.accountId, examples, { source: 'import', userId: acct.users.admin.id }))).toBe(1200);
    expect(rowsPerStatement).toEqual([500, 500, 200]);
    const rows = await withAccount(t.hub.db, acct.accountId, async (tx) =>
      (await tx.query<{ category: string; text: string; source: string; createdBy: string }>(`SELECT category, text, source, created_by AS "createdBy" FROM ai_category_examples ORDER BY created_at, id`)).rows);
    expect(rows).toHaveLength(1200);
    expect(rows.every((r) => r.source === 'import' && r.createdBy === acct.users.admin.id)).toBe(true);
    expect(rows.find((r) => r.text.startsWith('example 0 '))!.text).toHaveLength(5000);
    expect(rows.filter((r) => r.category === 'shipping')).toHaveLength(600);
  });
});
