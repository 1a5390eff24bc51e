import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimDue, enqueue, type OutboxTopic } from '../../storage/repositories/outbox.js';
import { withAccount } from '../../storage/session.js';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { InProcessRunner } from './in-process.js';
import { RetryLaterError, type Job } from './jobs.js';

/**
 * Job kinds take turns in the in-process runner: a knowledge-base import that runs again for its next
 * slice does not queue behind the whole backlog of analyses that ingest keeps adding (on the embedded
 * store the runner has two slots, and the import waited there for good while messages arrived).
 */
describe.each([
  ['the embedded store', true],
  ['PostgreSQL', false],
])('in-process runner on %s: job kinds take turns', (_name, embedded) => {
  let t: TestHub;
  let acct: TestAccount;

  beforeAll(async () => {
    t = await startTestHub({ jobs: false, embedded });
    acct = await createTestAccount(t);
  });
  afterAll(() => t?.close());

  async function add(topic: OutboxTopic, n: number) {
    await withAccount(t.hub.db, acct.accountId, async (tx) => {
      for (let i = 0; i < n; i++) await enqueue(tx, acct.accountId, topic, { n: i });
    });
  }

  it('a claim takes the first due job of every topic before a second of any, in the order given', async () => {
    await add('ai.classify', 5);
    await add('kb.import', 2);
    const topics = (rows: { topic: string; id: string }[]) => rows.sort((a, b) => Number(a.id) - Number(b.id)).map((r) => r.topic);
    // Oldest first would have been three analyses.
    expect(topics(await claimDue(t.hub.db, 3, 60_000, undefined, ['kb.import', 'ai.classify']))).toEqual(['ai.classify', 'kb.import', 'kb.import']);
    expect(topics(await claimDue(t.hub.db, 3, 60_000, undefined, ['ai.classify', 'kb.import']))).toEqual(['ai.classify', 'ai.classify', 'ai.classify']);
    expect(topics(await claimDue(t.hub.db, 3, 60_000, undefined, ['ai.classify', 'kb.import']))).toEqual(['ai.classify']);
    expect(await claimDue(t.hub.db, 3, 60_000, undefined, ['ai.classify', 'kb.import'])).toEqual([]);
    await t.hub.db.query(`DELETE FROM outbox`);
  });

  it('an import that runs again goes before the analyses queued ahead of it', async () => {
    const runs: string[] = [];
    const runner = new InProcessRunner(t.hub.db, t.hub.metrics, { attempts: 5, backoffBaseMs: 0, concurrency: 1, pollMs: 20, leaseMs: 60_000, log: t.hub.log });
    await add('ai.classify', 20);
    await add('kb.import', 1);
    let importRuns = 0;
    await runner.start({
      'ai.classify': async () => void runs.push('analysis'),
      // Three runs, as a large import's slices take: each asks to run again at once.
      'kb.import': async (job: Job) => {
        runs.push('import');
        if (++importRuns < 3) throw new RetryLaterError(`slice ${job.attempt} written, more to come`, 0);
      },
    }, { relay: true, work: true });
    try {
      runner.kick();
      await eventually(async () => runs.length === 23);
    } finally {
      await runner.stop();
    }
    // Oldest first, the import ran only after all twenty analyses, and each further run after every analysis queued meanwhile.
    const analysesBeforeImportDone = runs.slice(0, runs.lastIndexOf('import')).filter((r) => r === 'analysis').length;
    expect(analysesBeforeImportDone).toBeLessThanOrEqual(3);
    expect(runs.filter((r) => r === 'analysis')).toHaveLength(20);
    await t.hub.db.query(`DELETE FROM outbox`);
  });
});
