import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertAiResult } from '../../storage/repositories/ai.js';
import { withAccount } from '../../storage/session.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { call, seedConversation } from '../testing/seed.js';

/*
 * The AI figures' category accuracy: of the conversations the AI classified in the period, the share whose
 * category agents kept (none corrected it to another), per category the AI gave and overall.
 */

let t: TestHub;
let acct: TestAccount;

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  acct = await createTestAccount(t);
}, 120_000);
afterAll(() => t?.close());

/** A conversation the AI stage classified as `category` (stored as the analyze worker stores it), `daysAgo` days ago. */
async function classified(category: string, daysAgo = 0): Promise<string> {
  const { conversationId, messageId } = await seedConversation(t, acct, { text: `About my ${category}, please help` });
  await withAccount(t.hub.db, acct.accountId, async (tx) => {
    const id = await insertAiResult(tx, { accountId: acct.accountId, conversationId, messageId, provider: 'local', model: 'test', latencyMs: 1, category });
    await tx.query(`UPDATE ai_results SET created_at = now() - make_interval(days => $2) WHERE id = $1`, [id, daysAgo]);
  });
  return conversationId;
}

const correct = async (conversationId: string, category: string) => {
  const res = await call(t, acct.users.agent.token, 'POST', `/api/v1/ai/conversations/${conversationId}/category`, { category });
  expect(res.statusCode, res.body).toBe(202);
};

describe('GET /ai/stats categoryAccuracy', () => {
  it('is the share of classified conversations whose category agents kept, per category and overall, over the period', async () => {
    const empty = (await call(t, acct.users.viewer.token, 'GET', '/api/v1/ai/stats?days=30')).json();
    expect(empty.categoryAccuracy).toEqual({ classified: 0, kept: 0, keptRate: null, byCategory: {} });

    const billing = [await classified('billing'), await classified('billing'), await classified('billing')];
    await classified('shipping');
    await classified('billing', 40); // before the period
    // An agent moved one billing conversation to shipping; another confirmed billing (kept).
    await correct(billing[0]!, 'shipping');
    await correct(billing[1]!, 'billing');
    // The AI classifying the corrected conversation again afterwards does not make it kept.
    await withAccount(t.hub.db, acct.accountId, (tx) =>
      insertAiResult(tx, { accountId: acct.accountId, conversationId: billing[0]!, messageId: null, provider: 'local', model: 'test', latencyMs: 1, category: 'shipping' }));

    const stats = (await call(t, acct.users.viewer.token, 'GET', '/api/v1/ai/stats?days=30')).json();
    expect(stats.categoryAccuracy).toEqual({
      classified: 4, kept: 3, keptRate: 0.75,
      byCategory: { billing: { classified: 3, kept: 2, keptRate: 2 / 3 }, shipping: { classified: 1, kept: 1, keptRate: 1 } },
    });
    const year = (await call(t, acct.users.viewer.token, 'GET', '/api/v1/ai/stats?days=90')).json();
    expect(year.categoryAccuracy.byCategory.billing).toEqual({ classified: 4, kept: 3, keptRate: 0.75 });
  });
});
