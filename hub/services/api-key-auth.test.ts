import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withAccount } from '../../storage/session.js';
import { countRoundTrips, type RoundTrips } from '../testing/round-trips.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { authenticateApiKey, createApiKey } from './auth.js';

let t: TestHub;
let acct: TestAccount;
let trips: RoundTrips;

beforeAll(async () => {
  t = await startTestHub({ jobs: false, wrapDb: (db) => {
    const c = countRoundTrips(db);
    trips = c.trips;
    return c.db;
  } });
  acct = await createTestAccount(t);
});
afterAll(() => t?.close());

const lastUsed = async (id: string) =>
  (await withAccount(t.hub.db, acct.accountId, (tx) => tx.query<{ at: Date | null }>(`SELECT last_used_at AS at FROM api_keys WHERE id = $1`, [id]))).rows[0]!.at;

describe('authenticating with an API key', () => {
  it('is one statement whether or not it records the use, and records it at most once a minute', async () => {
    const { key, apiKey } = await createApiKey(t.hub.db, acct.accountId, { name: 'ci', role: 'agent' }, { kind: 'system', id: null });
    expect(await lastUsed(apiKey.id)).toBeNull();

    trips.reset();
    expect(await authenticateApiKey(t.hub.db, key)).toEqual({ accountId: acct.accountId, role: 'agent', userId: null, apiKeyId: apiKey.id });
    expect(trips.total).toBe(1);
    const first = await lastUsed(apiKey.id);
    expect(first).not.toBeNull();

    // Within the minute: found, not written again.
    trips.reset();
    expect((await authenticateApiKey(t.hub.db, key)).apiKeyId).toBe(apiKey.id);
    expect(trips.total).toBe(1);
    expect(await lastUsed(apiKey.id)).toEqual(first);

    // Used over a minute ago: written again.
    await withAccount(t.hub.db, acct.accountId, (tx) => tx.query(`UPDATE api_keys SET last_used_at = now() - interval '2 minutes' WHERE id = $1`, [apiKey.id]));
    const stale = await lastUsed(apiKey.id);
    trips.reset();
    await authenticateApiKey(t.hub.db, key);
    expect(trips.total).toBe(1);
    expect((await lastUsed(apiKey.id))!.getTime()).toBeGreaterThan(stale!.getTime() + 60_000);

    // Revoked: unknown, and its last use is not touched.
    await withAccount(t.hub.db, acct.accountId, (tx) => tx.query(`UPDATE api_keys SET revoked_at = now(), last_used_at = now() - interval '2 minutes' WHERE id = $1`, [apiKey.id]));
    const before = await lastUsed(apiKey.id);
    await expect(authenticateApiKey(t.hub.db, key)).rejects.toMatchObject({ code: 'invalid_api_key' });
    expect(await lastUsed(apiKey.id)).toEqual(before);
  });
});
