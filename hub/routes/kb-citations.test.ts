import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertDraft } from '../../storage/repositories/ai.js';
import { withAccount } from '../../storage/session.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { call, seedConversation } from '../testing/seed.js';

/** GET /api/v1/kb/cited: which articles the stored drafts cite most, per tenant and period. */
let t: TestHub;
let acct: TestAccount;
let other: TestAccount;
const ids: Record<string, string> = {};

const article = (a: TestAccount, title: string, status = 'published') =>
  withAccount(t.hub.db, a.accountId, async (tx) =>
    (await tx.query<{ id: string }>(`INSERT INTO kb_articles (account_id, title, body, status) VALUES ($1, $2, 'x', $3) RETURNING id`, [a.accountId, title, status])).rows[0]!.id);

/** A draft citing `articles` (as the draft composer stores them), decided as `status`, `daysAgo` old. */
const draft = async (a: TestAccount, articles: string[], status: 'proposed' | 'accepted' | 'edited' | 'rejected' = 'proposed', daysAgo = 0) => {
  const c = await seedConversation(t, a);
  await withAccount(t.hub.db, a.accountId, async (tx) => {
    const d = await insertDraft(tx, {
      accountId: a.accountId, conversationId: c.conversationId, messageId: c.messageId, aiResultId: null, extractive: true, text: 'draft',
      citations: articles.map((id) => ({ id, title: 'cited', excerpt: '…' })),
    });
    await tx.query(`UPDATE drafts SET status = $2, created_at = now() - make_interval(days => $3) WHERE id = $1`, [d, status, daysAgo]);
  });
};

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  acct = await createTestAccount(t);
  other = await createTestAccount(t);
  ids.returns = await article(acct, 'Returns');
  ids.shipping = await article(acct, 'Shipping times');
  ids.warranty = await article(acct, 'Warranty', 'draft');
  ids.gone = await article(acct, 'Deleted later');
  ids.foreign = await article(other, 'Other tenant article');
  await draft(acct, [ids.returns!, ids.shipping!], 'accepted');
  await draft(acct, [ids.returns!, ids.returns!], 'edited'); // the same article twice in one draft counts once
  await draft(acct, [ids.returns!], 'rejected');
  await draft(acct, [ids.shipping!]);
  await draft(acct, [ids.warranty!], 'accepted', 45); // older than the default 30 days
  await draft(acct, [ids.gone!]);
  await draft(acct, []);
  await draft(other, [ids.foreign!, ids.foreign!]);
  // A malformed citation (older drafts, other providers) is skipped, never a 500.
  await withAccount(t.hub.db, acct.accountId, (tx) => tx.query(`UPDATE drafts SET citations = '[{"id":"p1"},"loose"]' WHERE citations = '[]'`));
  await withAccount(t.hub.db, acct.accountId, (tx) => tx.query(`DELETE FROM kb_articles WHERE id = $1`, [ids.gone]));
}, 120_000);
afterAll(async () => {
  await t?.close();
});

describe('GET /kb/cited', () => {
  it('counts each draft once per article, most cited first, with how many were sent; deleted articles and other tenants left out', async () => {
    const r = await call(t, acct.apiKeys.viewer, 'GET', '/api/v1/kb/cited');
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().items).toEqual([
      { articleId: ids.returns, title: 'Returns', language: 'en', status: 'published', drafts: 3, sent: 2 },
      { articleId: ids.shipping, title: 'Shipping times', language: 'en', status: 'published', drafts: 2, sent: 1 },
    ]);
    expect(Date.parse(r.json().since)).toBeLessThan(Date.now() - 29 * 86_400_000);
  });

  it('takes the period and a limit', async () => {
    const longer = await call(t, acct.apiKeys.viewer, 'GET', '/api/v1/kb/cited?days=60&limit=2');
    expect(longer.json().items.map((i: { title: string }) => i.title)).toEqual(['Returns', 'Shipping times']);
    const all = await call(t, acct.apiKeys.viewer, 'GET', '/api/v1/kb/cited?days=60');
    expect(all.json().items.at(-1)).toMatchObject({ articleId: ids.warranty, status: 'draft', drafts: 1, sent: 1 });
  });

  it('refuses a bad period with 400 and a code', async () => {
    for (const q of ['days=0', 'days=366', 'limit=0', 'days=week']) {
      const r = await call(t, acct.apiKeys.viewer, 'GET', `/api/v1/kb/cited?${q}`);
      expect(r.statusCode, q).toBe(400);
      expect(r.json().error.code).toBe('validation_failed');
    }
    expect((await call(t, undefined, 'GET', '/api/v1/kb/cited')).statusCode).toBe(401);
  });
});
