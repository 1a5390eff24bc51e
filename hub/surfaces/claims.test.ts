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

  it('a request numbered no higher than what a finished sync read and mirrored is covered: no run, no lease taken', async () => {
    const seq = async () => (await as(async (tx) => (await tx.query<{ seq: string }>(`SELECT seq FROM surface_sync_requests WHERE conversation_id = $1`, [conversationId])).rows[0]?.seq));
    // Every surface.sync written to the outbox gets the conversation's next number.
    const before = Number((await seq()) ?? 0);
    await as((tx) => tx.query(`INSERT INTO outbox (account_id, topic, payload) VALUES ($1, 'surface.sync', $2)`, [acct.accountId, { conversationId }]));
    const numbered = await as(async (tx) => (await tx.query<{ payload: { seq: number } }>(`SELECT payload FROM outbox WHERE topic = 'surface.sync' ORDER BY id DESC LIMIT 1`)).rows[0]!.payload.seq);
    expect(numbered).toBe(before + 1);
    expect(await as((tx) => claimSync(tx, key('job:first'), undefined, numbered))).toBe(true);
    expect(await as((tx) => releaseSync(tx, key('job:first'), { syncedSeq: numbered }))).toBe('done');
    expect(await as((tx) => claimSync(tx, key('job:same'), undefined, numbered))).toBe('covered');
    expect(await as((tx) => claimSync(tx, key('job:older'), undefined, numbered - 1))).toBe('covered');
    // A later request runs; an abandoned run covers nothing.
    expect(await as((tx) => claimSync(tx, key('job:newer'), undefined, numbered + 1))).toBe(true);
    expect(await as((tx) => releaseSync(tx, key('job:newer'), { abandon: true, syncedSeq: numbered + 1 }))).toBe('done');
    expect(await as((tx) => claimSync(tx, key('job:newer-again'), undefined, numbered + 1))).toBe(true);
    expect(await as((tx) => releaseSync(tx, key('job:newer-again')))).toBe('done');
  });

  it('a request numbered after what the run read makes it go round again, though that request\'s job has not claimed yet', async () => {
    const request = () => as((tx) => tx.query(`INSERT INTO outbox (account_id, topic, payload) VALUES ($1, 'surface.sync', $2)`, [acct.accountId, { conversationId }]));
    const latest = async () => Number((await as(async (tx) => (await tx.query<{ seq: string }>(`SELECT seq FROM surface_sync_requests WHERE conversation_id = $1`, [conversationId])).rows[0]!.seq)));
    await request();
    const read = await latest();
    expect(await as((tx) => claimSync(tx, key('job:reader'), undefined, read))).toBe(true);
    // A customer writes while the run posts; that message's job is still queued (or sent back by a busy channel).
    await request();
    expect(await as((tx) => releaseSync(tx, key('job:reader'), { syncedSeq: read }))).toBe('again');
    // The next round read the newer number: nothing more was asked, and the queued job finds it covered.
    expect(await as((tx) => releaseSync(tx, key('job:reader'), { syncedSeq: read + 1 }))).toBe('done');
    expect(await as((tx) => claimSync(tx, key('job:queued'), undefined, read + 1))).toBe('covered');
  });
});

