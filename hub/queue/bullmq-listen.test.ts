import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../storage/database.js';
import { enqueue } from '../../storage/repositories/outbox.js';
import { withAccount } from '../../storage/session.js';
import { createTestAccount, eventually, startTestHub, type TestHub } from '../testing/harness.js';
import { BullmqRunner } from './bullmq.js';

/** The relay's reads of the outbox, counted on a wrapper of the hub's database. */
function countingRelayReads(db: Database): { db: Database; reads: () => number } {
  let reads = 0;
  const counted = (sql: string) => {
    if (/FROM outbox WHERE dispatched_at IS NULL/.test(sql)) reads++;
  };
  return {
    db: { ...db, listen: db.listen, query: (sql, params) => (counted(sql), db.query(sql, params)) } as Database,
    reads: () => reads,
  };
}

describe('bullmq outbox relay woken by the commit', () => {
  let t: TestHub;
  let runner: BullmqRunner;
  let relayReads: () => number;

  beforeAll(async () => {
    t = await startTestHub({ redis: true, jobs: false });
    const counting = countingRelayReads(t.hub.db);
    relayReads = counting.reads;
    // A poll far beyond the test: only a notification can wake the relay in time.
    runner = new BullmqRunner(counting.db, t.hub.metrics, { redisUrl: process.env.REDIS_URL!, attempts: 3, backoffBaseMs: 0, concurrency: 1, pollMs: 600_000, log: t.hub.log });
    await runner.start({}, { relay: true, work: false });
  });
  afterAll(async () => {
    await runner?.stop();
    await t?.close();
  });

  it('relays a row committed without a kick, and a kick after a commit that added nothing reads nothing', async () => {
    const acct = await createTestAccount(t, { channelKind: 'whatsapp', secrets: {} });
    // The reads at start (and the one after LISTEN) are done.
    await new Promise((r) => setTimeout(r, 300));
    const settled = relayReads();
    for (let i = 0; i < 5; i++) runner.kick();
    await new Promise((r) => setTimeout(r, 300));
    expect(relayReads()).toBe(settled);

    await withAccount(t.hub.db, acct.accountId, (tx) => enqueue(tx, acct.accountId, 'channel.read', { probe: 'notified' }));
    const dispatched = () =>
      withAccount(t.hub.db, acct.accountId, async (tx) =>
        (await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE payload->>'probe' = 'notified' AND dispatched_at IS NOT NULL`)).rows[0]!.n === 1,
      );
    await eventually(dispatched, 5_000);
    // One read took the row (fewer than a batch): no second, empty one.
    await new Promise((r) => setTimeout(r, 300));
    expect(relayReads()).toBe(settled + 1);
  });
});
