import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { withAccount } from '../../storage/session.js';
import { findInstallation } from '../../storage/repositories/channels.js';
import { openConversation } from '../testing/test-channel.js';
import { claimSync, releaseSync } from './claims.js';

let t: TestHub;
let acct: TestAccount;
let conversationId: string;

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  acct = await createTestAccount(t, { channelKind: 'whatsapp', secrets: {} });
  const channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'whatsapp', id: acct.channelId }))!;
  conversationId = await openConversation(t.hub.ingest, channel);
});
afterAll(() => t?.close());

const as = <T>(fn: Parameters<typeof withAccount<T>>[2]) => withAccount(t.hub.db, acct.accountId, fn);
const key = (owner: string) => ({ accountId: acct.accountId, conversationId, surface: 'slack' as const, owner });

describe('surface sync claims', () => {
  it('one sync at a time; one asked for meanwhile makes the running one go round again instead of running itself', async () => {
    expect(await as((tx) => claimSync(tx, key('job:1')))).toBe(true);
    expect(await as((tx) => claimSync(tx, key('job:2')))).toBe(false);
    expect(await as((tx) => claimSync(tx, key('job:3')))).toBe(false);
    expect(await as((tx) => releaseSync(tx, key('job:1')))).toBe('again');
    expect(await as((tx) => releaseSync(tx, key('job:1')))).toBe('done');
    expect(await as((tx) => claimSync(tx, key('job:2')))).toBe(true);
    expect(await as((tx) => releaseSync(tx, key('job:2')))).toBe('done');
  });

  it('a job retried after its process died takes its own lease back; others wait for it to run out', async () => {
    expect(await as((tx) => claimSync(tx, key('job:dead')))).toBe(true);
    expect(await as((tx) => claimSync(tx, key('job:dead')))).toBe(true);
    expect(await as((tx) => claimSync(tx, key('job:other')))).toBe(false);
    // An abandoned run (rate limit, failure) gives the lease up whatever was asked meanwhile: its job runs again anyway.
    expect(await as((tx) => releaseSync(tx, key('job:dead'), { abandon: true }))).toBe('done');
    expect(await as((tx) => claimSync(tx, key('job:late'), -1))).toBe(true);
    expect(await as((tx) => claimSync(tx, key('job:next')))).toBe(true);
    // The late one lost its lease: releasing is a no-op for it.
    expect(await as((tx) => releaseSync(tx, key('job:late')))).toBe('done');
    expect(await as((tx) => releaseSync(tx, key('job:next')))).toBe('done');
  });
});
