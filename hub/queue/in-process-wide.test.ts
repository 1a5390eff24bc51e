import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue, type OutboxTopic } from '../../storage/repositories/outbox.js';
import { withAccount } from '../../storage/session.js';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { InProcessRunner } from './in-process.js';
import { UnrecoverableJobError, type Job, type JobHandlers } from './jobs.js';

/** AI stage jobs wait together on one batched model call: the runner keeps a budget of them going beside other jobs. */
describe('in-process runner: a wide budget for AI stage jobs', () => {
  let t: TestHub;
  let acct: TestAccount;
  let other: TestAccount;
  const runners: InProcessRunner[] = [];

  beforeAll(async () => {
    t = await startTestHub({ jobs: false });
    acct = await createTestAccount(t);
    other = await createTestAccount(t);
  });
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await t?.close();
  });

  /** Handlers that hold every job until `release()`, counting how many of each kind run at once. */
  function gated(fail: (job: Job) => boolean = () => false) {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const state = { ai: 0, maxAi: 0, other: 0, maxOther: 0, runs: new Map<string, number>() };
    const hold = (kind: 'ai' | 'other') => async (job: Job) => {
      state.runs.set(job.id, (state.runs.get(job.id) ?? 0) + 1);
      state[kind]++;
      if (kind === 'ai') state.maxAi = Math.max(state.maxAi, state.ai);
      else state.maxOther = Math.max(state.maxOther, state.other);
      await gate;
      state[kind]--;
      if (fail(job)) throw new UnrecoverableJobError('this one fails');
    };
    const handlers: JobHandlers = { 'ai.classify': hold('ai'), 'surface.sync': hold('other') };
    return { state, handlers, release: () => open() };
  }

  async function start(handlers: JobHandlers) {
    const runner = new InProcessRunner(t.hub.db, t.hub.metrics, {
      attempts: 3, backoffBaseMs: 0, concurrency: 2, pollMs: 20, leaseMs: 60_000, log: t.hub.log, wide: { topics: ['ai.classify'], concurrency: 8 },
    });
    runners.push(runner);
    await runner.start(handlers, { relay: true, work: true });
    return runner;
  }

  async function add(account: TestAccount, topic: OutboxTopic, n: number, payload: (i: number) => Record<string, unknown> = (i) => ({ n: i })) {
    await withAccount(t.hub.db, account.accountId, async (tx) => {
      for (let i = 0; i < n; i++) await enqueue(tx, account.accountId, topic, { ...payload(i), account: account.slug });
    });
  }

  const rows = () =>
    t.hub.db.query<{ id: string; topic: string; done: boolean; dead: boolean; attempts: number; error: string | null; payload: Record<string, unknown> }>(
      `SELECT id::text, topic, done_at IS NOT NULL AS done, dead_at IS NOT NULL AS dead, attempts, last_error AS error, payload FROM outbox ORDER BY id`,
    ).then((r) => r.rows);

  it('runs up to its budget of AI stage jobs at once while other jobs keep their own limit, each job once', async () => {
    const { state, handlers, release } = gated();
    await add(acct, 'ai.classify', 12);
    await add(other, 'ai.classify', 8);
    await add(acct, 'surface.sync', 5);
    const runner = await start(handlers);
    // Eight AI jobs wait together (one batch's worth), beside two others: not two jobs in all.
    await eventually(async () => state.ai === 8 && state.other === 2);
    release();
    await eventually(async () => (await rows()).every((r) => r.done));
    await runner.stop();
    expect(state.maxAi).toBe(8);
    expect(state.maxOther).toBe(2);
    const all = await rows();
    expect(all).toHaveLength(25);
    // Every job ran exactly once and was marked done once, both accounts' alike.
    expect(all.map((r) => state.runs.get(r.id))).toEqual(all.map(() => 1));
    expect(all.every((r) => r.attempts === 1 && !r.dead && r.error === null)).toBe(true);
    await t.hub.db.query(`DELETE FROM outbox`);
  });

  it('a job that fails among AI jobs finishing together fails alone; the others are done', async () => {
    const { state, handlers, release } = gated((job) => job.payload.fail === true);
    await add(acct, 'ai.classify', 8, (i) => ({ n: i, fail: i === 3 }));
    const runner = await start(handlers);
    await eventually(async () => state.ai === 8);
    // All eight finish in the same turn: their done marks go out together.
    release();
    await eventually(async () => (await rows()).every((r) => r.done || r.dead));
    await runner.stop();
    const all = await rows();
    expect(all.filter((r) => r.dead).map((r) => r.payload.n)).toEqual([3]);
    expect(all.filter((r) => r.dead)[0]!.error).toBe('this one fails');
    expect(all.filter((r) => r.done).map((r) => r.payload.n)).toEqual([0, 1, 2, 4, 5, 6, 7]);
    expect(all.every((r) => r.attempts === 1)).toBe(true);
  });
});
