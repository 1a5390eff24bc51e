import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withAccount } from '../../storage/session.js';
import { createApiKey } from './auth.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { PrincipalCache } from './principals.js';

let t: TestHub;
let acct: TestAccount;

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  acct = await createTestAccount(t);
});
afterAll(() => t?.close());

/** Changes a user behind the cache's back, as another process would. */
const setRole = (userId: string, role: string) =>
  withAccount(t.hub.db, acct.accountId, (tx) => tx.query(`UPDATE users SET role = $2 WHERE id = $1`, [userId, role]));

describe('PrincipalCache', () => {
  it('serves a lookup for ttlMs, then reads the row again', async () => {
    let now = 1_000;
    const cache = new PrincipalCache(t.hub.db, 5_000, () => now);
    const id = acct.users.viewer.id;
    expect(await cache.find(id)).toEqual({ accountId: acct.accountId, role: 'viewer' });

    await setRole(id, 'agent');
    now += 4_999;
    expect((await cache.find(id))?.role).toBe('viewer');
    now += 1;
    expect((await cache.find(id))?.role).toBe('agent');
    await setRole(id, 'viewer');
  });

  it('forgets one user at once and keeps the others', async () => {
    const cache = new PrincipalCache(t.hub.db, 60_000, () => 0);
    const { viewer, agent } = acct.users;
    await cache.find(viewer.id);
    await cache.find(agent.id);
    await setRole(viewer.id, 'agent');
    await setRole(agent.id, 'viewer');

    cache.forget(viewer.id);
    expect((await cache.find(viewer.id))?.role).toBe('agent');
    expect((await cache.find(agent.id))?.role).toBe('agent');
    await setRole(viewer.id, 'viewer');
    await setRole(agent.id, 'agent');
  });

  it('answers undefined for a user that does not exist, and does not remember a failed lookup', async () => {
    const cache = new PrincipalCache(t.hub.db, 60_000, () => 0);
    expect(await cache.find('00000000-0000-0000-0000-000000000000')).toBeUndefined();
    await expect(cache.find('not-a-uuid')).rejects.toThrow();
    await expect(cache.find('not-a-uuid')).rejects.toThrow();
  });

  it("serves an API key's access until it is revoked or deleted: at once after forgetApiKey, else after ttlMs", async () => {
    let now = 0;
    const cache = new PrincipalCache(t.hub.db, 5_000, () => now);
    const newKey = async () => (await createApiKey(t.hub.db, acct.accountId, { name: 'feed', role: 'agent' }, { kind: 'system', id: null })).apiKey.id;
    const revoked = await newKey();
    const deleted = await newKey();
    expect(await cache.findApiKey(revoked)).toEqual({ accountId: acct.accountId, role: 'agent' });
    expect(await cache.current({ userId: null, apiKeyId: deleted })).toEqual({ accountId: acct.accountId, role: 'agent' });

    await withAccount(t.hub.db, acct.accountId, async (tx) => {
      await tx.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1`, [revoked]);
      await tx.query(`DELETE FROM api_keys WHERE id = $1`, [deleted]);
    });
    // Revoked through the API in this process: forgotten at once.
    cache.forgetApiKey(revoked);
    expect(await cache.findApiKey(revoked)).toBeUndefined();
    // Deleted behind the cache's back, as another process would: seen after ttlMs.
    now += 4_999;
    expect(await cache.findApiKey(deleted)).toBeDefined();
    now += 1;
    expect(await cache.findApiKey(deleted)).toBeUndefined();
  });

  it('keeps users and API keys apart, and knows no access for a principal that is neither', async () => {
    const cache = new PrincipalCache(t.hub.db, 60_000, () => 0);
    const { viewer } = acct.users;
    expect(await cache.current({ userId: viewer.id, apiKeyId: null })).toEqual({ accountId: acct.accountId, role: 'viewer' });
    // The same id as a key names no key: the user's cached access does not answer for it.
    expect(await cache.findApiKey(viewer.id)).toBeUndefined();
    expect(await cache.current({ userId: null, apiKeyId: null })).toBeUndefined();
  });
});
