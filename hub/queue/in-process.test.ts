import { describe, expect, it } from 'vitest';
import { openPostgres } from '../../storage/postgres.js';
import { InProcessRunner } from './in-process.js';
import { backoffMs } from './jobs.js';
import { runnerSuite } from './runner-suite.js';

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
