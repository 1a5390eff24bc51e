import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withAccount } from '../../storage/session.js';
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
});
