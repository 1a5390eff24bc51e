import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, eventually, startTestHub, type TestHub } from '../testing/harness.js';
import { withAccount } from '../../storage/session.js';
import { enqueue } from '../../storage/repositories/outbox.js';
import { openPostgres } from '../../storage/postgres.js';
import { InProcessRunner } from './in-process.js';
import { backoffMs, RetryLaterError } from './jobs.js';
import { runnerSuite } from './runner-suite.js';
import { ForegroundPressure } from './foreground.js';
import { openResponse } from '../testing/open-response.js';

runnerSuite('in-process', {
  async nextAttemptIn(t, outboxId) {
    const { rows } = await t.hub.db.query<{ ms: number }>(
      `SELECT extract(epoch FROM run_after - now()) * 1000 AS ms FROM outbox WHERE id = $1 AND last_error IS NOT NULL AND done_at IS NULL`,
      [outboxId],
    );
    return rows[0] ? Number(rows[0].ms) : 0;
  },
  async secondRunner(t) {
    // Another hub process: its own connection pool on the same database, claiming from the same outbox.
    const db = await openPostgres(t.config.databaseUrl!, { max: 4 });
    const runner = new InProcessRunner(db, t.hub.metrics, { attempts: 3, backoffBaseMs: 0, concurrency: 4, pollMs: 20, leaseMs: 60_000, log: t.hub.log });
    const stop = runner.stop.bind(runner);
    runner.stop = async () => {
      await stop();
      await db.close();
    };
    return runner;
  },
});

describe('backoff', () => {
  it('doubles per attempt, jitters over the upper half and is capped at five minutes', () => {
    expect([1, 2, 3, 4].map((a) => backoffMs(a, 1000, () => 1))).toEqual([1000, 2000, 4000, 8000]);
    expect([1, 2, 3, 4].map((a) => backoffMs(a, 1000, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffMs(30, 1000, () => 1)).toBe(300_000);
    expect(backoffMs(5, 0)).toBe(0);
  });
});

describe('pacing behind requests', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ jobs: false });
  });
  afterAll(() => t?.close());

  it('counts what a job cost the event loop, not the time it waited on the network', async () => {
    const acct = await createTestAccount(t);
    // The event loop's busy time is the whole thread's: nothing else may run while the job waits, or a
    // loaded machine stretches every poll (the runner's every 20 ms, the test's every 25 ms) past the bound.
    // So no poll (the kick claims the job) and the test waits on the job itself.
    const runner = new InProcessRunner(t.hub.db, t.hub.metrics, { attempts: 3, backoffBaseMs: 0, concurrency: 1, pollMs: 600_000, leaseMs: 60_000, log: t.hub.log });
    let ran!: () => void;
    const done = new Promise<void>((r) => (ran = r));
    // A download-like job: 400 ms waiting on I/O, almost no work on this thread.
    await runner.start({ 'media.fetch': async () => { await new Promise((r) => setTimeout(r, 400)); ran(); } }, { relay: true, work: true });
    try {
      await withAccount(t.hub.db, acct.accountId, (tx) => enqueue(tx, acct.accountId, 'media.fetch', { attachmentId: 'x' }));
      runner.kick();
      await done;
      await eventually(async () => runner.lastJobCostMs > 0 || undefined);
      // Measured by wall clock it was ≥ 400 ms, so the next job would wait 9 × 400 ms behind any request.
      expect(runner.lastJobCostMs).toBeLessThan(200);
    } finally {
      await runner.stop();
    }
  });

  it('on PostgreSQL takes turns with requests but does not pause for them: its queries do not hold this thread', () => {
    expect((t.hub.runner as InProcessRunner).pacedByRequests).toBe(false);
  });

  it('runs a job sent back for less than a poll when it is due, not at the next poll', async () => {
    const acct = await createTestAccount(t);
    // A poll far beyond this test's wait: only the retry's own wake-up can run the job again in time.
    const runner = new InProcessRunner(t.hub.db, t.hub.metrics, { attempts: 3, backoffBaseMs: 0, concurrency: 1, pollMs: 600_000, leaseMs: 60_000, log: t.hub.log });
    let runs = 0;
    await runner.start({ 'media.fetch': async () => { if (++runs === 1) throw new RetryLaterError('Graph answered 503', 1000); } }, { relay: true, work: true });
    try {
      await withAccount(t.hub.db, acct.accountId, (tx) => enqueue(tx, acct.accountId, 'media.fetch', { attachmentId: 'y' }));
      runner.kick();
      await eventually(async () => runs === 2, 30_000);
    } finally {
      await runner.stop();
    }
  });
});

describe('jobs held behind waited-on requests', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ jobs: false });
  });
  afterAll(() => t?.close());

  it('starts no job while a waited-on request (a Teams click) is open on PostgreSQL, and starts it once that is answered', async () => {
    const acct = await createTestAccount(t);
    const foreground = new ForegroundPressure();
    // A hold far beyond this test's waits: a loaded machine must not turn the bound into the answer.
    const runner = new InProcessRunner(t.hub.db, t.hub.metrics, { attempts: 3, backoffBaseMs: 0, concurrency: 2, pollMs: 20, leaseMs: 60_000, log: t.hub.log, maxHoldMs: 60_000, foreground });
    let started = 0;
    await runner.start({ 'media.fetch': async () => void started++ }, { relay: true, work: true });
    const click = openResponse();
    try {
      foreground.begin(click);
      // A plain request does not pause jobs on PostgreSQL.
      await withAccount(t.hub.db, acct.accountId, (tx) => enqueue(tx, acct.accountId, 'media.fetch', { attachmentId: 'x' }));
      runner.kick();
      await eventually(async () => started === 1 || undefined, 20_000);
      foreground.weigh(click, 'waited');
      // The click's change queues a job and kicks the runner, as hub.conversations does. A claim already on
      // its way when the click began may still find the job: the runner gives way before starting it too.
      await withAccount(t.hub.db, acct.accountId, (tx) => enqueue(tx, acct.accountId, 'media.fetch', { attachmentId: 'y' }));
      runner.kick();
      await eventually(async () => foreground.givingWay > 0 || undefined, 20_000);
      await new Promise((r) => setTimeout(r, 50));
      expect(started).toBe(1);
      click.answer();
      await eventually(async () => started === 2 || undefined, 20_000);
    } finally {
      // Else a failed check would wait out the hold in stop() and show as a timeout.
      click.answer();
      await runner.stop();
    }
  });
});
