import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../../hub/testing/harness.js';
import { withAccount } from '../../storage/session.js';
import { buildTenantIndex, dropIndexesOfDeletedAccounts, tenantIndexName } from './tenant-index.js';

/* An account's own HNSW index is not a row: it must be dropped when the account is deleted. */
const MODEL = 'test-8';

describe.each([['Postgres', false], ['PGlite', true]] as const)('tenant indexes of deleted accounts on %s', (_name, embedded) => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ jobs: false, embedded });
  }, 60_000);
  afterAll(() => t?.close());

  const indexed = async (acct: TestAccount) => {
    await withAccount(t.hub.db, acct.accountId, async (tx) => {
      const article = (await tx.query<{ id: string }>(`INSERT INTO kb_articles (account_id, title, body) VALUES ($1, 'A', 'b') RETURNING id`, [acct.accountId])).rows[0]!.id;
      const chunk = (await tx.query<{ id: string }>(`INSERT INTO kb_chunks (account_id, article_id, ordinal, text, language) VALUES ($1, $2, 0, 'b', 'en') RETURNING id`, [acct.accountId, article])).rows[0]!.id;
      await tx.query(`INSERT INTO kb_embeddings (chunk_id, account_id, model, dim, published, language, embedding) VALUES ($1, $2, $3, 8, true, 'en', '[1,0,0,0,0,0,0,0]')`, [chunk, acct.accountId, MODEL]);
    });
    return buildTenantIndex(t.hub.db, acct.accountId, MODEL, 8);
  };
  const exists = async (name: string) => (await t.hub.db.query(`SELECT 1 FROM pg_indexes WHERE indexname = $1`, [name])).rowCount > 0;

  it('drops the deleted account’s index and keeps every other account’s', async () => {
    const gone = await createTestAccount(t);
    const kept = await createTestAccount(t);
    const goneIndex = await indexed(gone);
    const keptIndex = await indexed(kept);
    expect(goneIndex).toBe(tenantIndexName(gone.accountId, MODEL));
    expect(await dropIndexesOfDeletedAccounts(t.hub.db)).toEqual([]);
    await t.hub.db.query(`DELETE FROM accounts WHERE id = $1`, [gone.accountId]);
    expect(await exists(goneIndex)).toBe(true);
    expect(await dropIndexesOfDeletedAccounts(t.hub.db)).toEqual([goneIndex]);
    expect(await exists(goneIndex)).toBe(false);
    expect(await exists(keptIndex)).toBe(true);
  });
});
