import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { databaseSessionStore } from './session-store.js';

// RemoteAuth's store: the zipped profile RemoteAuth leaves at {dataPath}/{session}.zip, kept sealed per channel and tenant.
let t: TestHub;
let a: TestAccount;
let b: TestAccount;
const dir = mkdtempSync(join(tmpdir(), 'hummdesk-waweb-store-'));

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  a = await createTestAccount(t, { channelKind: 'whatsapp-web', channelKey: 'waweb_store_a', secrets: {} });
  b = await createTestAccount(t, { channelKind: 'whatsapp-web', channelKey: 'waweb_store_b', secrets: {} });
}, 120_000);
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the database store for RemoteAuth sessions', () => {
  it('saves, finds, extracts the same bytes, keeps them sealed and per tenant, and deletes', async () => {
    const session = `RemoteAuth-${a.channelId}`;
    const zip = randomBytes(64 * 1024);
    writeFileSync(join(dir, `${session}.zip`), zip);
    const store = databaseSessionStore(t.hub, { id: a.channelId, accountId: a.accountId }, dir);
    expect(await store.sessionExists({ session })).toBe(false);
    await store.save({ session });
    expect(await store.sessionExists({ session })).toBe(true);
    const raw = (await t.hub.db.query<{ archive: Buffer }>(`SELECT archive FROM whatsapp_web_sessions WHERE channel_id = $1`, [a.channelId])).rows[0]!.archive;
    expect(Buffer.from(raw).includes(zip.subarray(0, 32))).toBe(false); // sealed, not the zip itself
    const out = join(dir, 'extracted.zip');
    await store.extract({ session, path: out });
    expect(readFileSync(out).equals(zip)).toBe(true);
    // Another tenant naming this channel sees nothing (row-level security).
    const foreign = databaseSessionStore(t.hub, { id: a.channelId, accountId: b.accountId }, dir);
    expect(await foreign.sessionExists({ session })).toBe(false);
    await store.delete({ session });
    expect(await store.sessionExists({ session })).toBe(false);
  });
});
