import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { withAccount } from '../../storage/session.js';
import { findInstallation } from '../../storage/repositories/channels.js';
import { openConversation } from '../testing/test-channel.js';
import { claimSync, releaseSync } from './claims.js';
import { planIntents } from './intents.js';
import { tenantReads } from '../../storage/session.js';

let t: TestHub;
let acct: TestAccount;
let conversationId: string;
let channel: NonNullable<Awaited<ReturnType<typeof findInstallation>>>;

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  acct = await createTestAccount(t, { channelKind: 'whatsapp', secrets: {} });
  channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'whatsapp', id: acct.channelId }))!;
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

  it('a round for requests that came meanwhile, given up (a 429), runs when its job comes back, though that job\'s own request was read', async () => {
    const request = () => as((tx) => tx.query(`INSERT INTO outbox (account_id, topic, payload) VALUES ($1, 'surface.sync', $2)`, [acct.accountId, { conversationId }]));
    const latest = async () => Number((await as(async (tx) => (await tx.query<{ seq: string }>(`SELECT seq FROM surface_sync_requests WHERE conversation_id = $1`, [conversationId])).rows[0]!.seq)));
    await request();
    const own = await latest();
    expect(await as((tx) => claimSync(tx, key('job:held'), undefined, own))).toBe(true);
    // Customers write while its post is held; their jobs find the sync running and leave the rest to it.
    await request();
    expect(await as((tx) => claimSync(tx, key('job:meanwhile'), undefined, own + 1))).toBe(false);
    expect(await as((tx) => releaseSync(tx, key('job:held'), { syncedSeq: own }))).toBe('again');
    // The next round's post is refused with a 429: given up for now, the job comes back after Retry-After.
    expect(await as((tx) => releaseSync(tx, key('job:held'), { abandon: true }))).toBe('done');
    // Its own request was read long ago, but not the ones it went round for: it runs.
    expect(await as((tx) => claimSync(tx, key('job:held'), undefined, own))).toBe(true);
    expect(await as((tx) => releaseSync(tx, key('job:held'), { syncedSeq: own + 1 }))).toBe('done');
  });
});

describe('one queued sync per conversation', () => {
  const ask = (conv: string) => as((tx) => tx.query(`INSERT INTO outbox (account_id, topic, payload) VALUES ($1, 'surface.sync', $2)`, [acct.accountId, { conversationId: conv }]));
  const jobsOf = async (conv: string) =>
    as(async (tx) => (await tx.query<{ id: string; seq: number }>(`SELECT id::text, (payload->>'seq')::int AS seq FROM outbox WHERE topic = 'surface.sync' AND payload->>'conversationId' = $1 ORDER BY outbox.id`, [conv])).rows);
  const jobKey = (conv: string, job: { id: string }) => ({ accountId: acct.accountId, conversationId: conv, surface: 'slack' as const, owner: `job:${job.id}`, job: job.id });

  it('requests while its sync job waits unstarted are absorbed by it; once the job claims, a request queues a job of its own', async () => {
    const conv = await openConversation(t.hub.ingest, channel);
    await ask(conv);
    await ask(conv);
    await ask(conv);
    const [a, ...absorbed] = await jobsOf(conv);
    expect(absorbed).toEqual([]);
    // It starts: its read covers all three requests, though it was queued for the first.
    expect(await as((tx) => claimSync(tx, jobKey(conv, a!), undefined, a!.seq))).toBe(true);
    await ask(conv);
    await ask(conv);
    const [, b, ...more] = await jobsOf(conv);
    expect(b).toBeDefined();
    expect(more).toEqual([]);
    expect(await as((tx) => releaseSync(tx, jobKey(conv, a!), { syncedSeq: 3 }))).toBe('again');
    expect(await as((tx) => releaseSync(tx, jobKey(conv, a!), { syncedSeq: 5 }))).toBe('done');
    // The job queued meanwhile starts and finds everything mirrored.
    expect(await as((tx) => claimSync(tx, jobKey(conv, b!), undefined, b!.seq))).toBe('covered');
    await ask(conv);
    expect(await jobsOf(conv)).toHaveLength(3);
  });

  it('a job sent back for now is the queued one again; a job gone without starting absorbs nothing', async () => {
    const conv = await openConversation(t.hub.ingest, channel);
    await ask(conv);
    const [a] = await jobsOf(conv);
    expect(await as((tx) => claimSync(tx, jobKey(conv, a!), undefined, a!.seq))).toBe(true);
    // Its post waits for a busy channel: the run is given up for now and the job rescheduled.
    expect(await as((tx) => releaseSync(tx, jobKey(conv, a!), { abandon: true, requeue: true }))).toBe('done');
    await ask(conv);
    await ask(conv);
    expect(await jobsOf(conv)).toHaveLength(1);
    // A failure is not a promise to run again: no mark taken back.
    expect(await as((tx) => claimSync(tx, jobKey(conv, a!), undefined, a!.seq))).toBe(true);
    expect(await as((tx) => releaseSync(tx, jobKey(conv, a!), { abandon: true }))).toBe('done');
    await ask(conv);
    const [, b] = await jobsOf(conv);
    expect(b).toBeDefined();
    // A queued job that ended without claiming (done or dead in the outbox) absorbs nothing.
    await as((tx) => tx.query(`UPDATE outbox SET dead_at = now() WHERE id = $1`, [b!.id]));
    await ask(conv);
    expect(await jobsOf(conv)).toHaveLength(3);
  });

  it('the intents a run did not send are given back with its lease, in one statement outside a transaction', async () => {
    const conv = await openConversation(t.hub.ingest, channel);
    const k = { accountId: acct.accountId, conversationId: conv, surface: 'slack' as const, owner: 'job:unsent' };
    expect(await as((tx) => claimSync(tx, k))).toBe(true);
    const planned = await as((tx) => planIntents(tx, { accountId: acct.accountId, conversationId: conv, surface: 'slack' }, [{ key: 'msg:1:a', target: {} }, { key: 'msg:1:b', target: {} }]));
    const started = async () => (await as(async (tx) => (await tx.query<{ key: string }>(`SELECT intent_key AS key FROM surface_intents WHERE conversation_id = $1 AND started_at IS NOT NULL ORDER BY 1`, [conv])).rows)).map((r) => r.key);
    expect(await started()).toEqual(['msg:1:a', 'msg:1:b']);
    expect(await releaseSync(tenantReads(t.hub.db, acct.accountId), k, { abandon: true, unstart: [planned.get('msg:1:b')!.id] })).toBe('done');
    expect(await started()).toEqual(['msg:1:a']);
    expect(await as(async (tx) => (await tx.query(`SELECT 1 FROM surface_syncs WHERE conversation_id = $1 AND owner IS NOT NULL`, [conv])).rows)).toEqual([]);
  });
});
