import { afterEach, describe, expect, it, vi } from 'vitest';
import { freshDatabase } from '../hub/testing/harness.js';
import type { Database } from './database.js';
import { openPostgres } from './postgres.js';

/** The backend pids of `n` connections held at once (n transactions open together). */
async function heldTogether(db: Database, n: number): Promise<Set<number>> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let inside = 0;
  const pids = Promise.all(Array.from({ length: n }, () => db.transaction(async (tx) => {
    const pid = (await tx.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`)).rows[0]!.pid;
    if (++inside === n) release();
    await released;
    return pid;
  })));
  return new Set(await pids);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('PostgreSQL pool', () => {
  it('keeps the connections a burst opened for minutes, not node-postgres\'s 10 idle seconds', async () => {
    const database = await freshDatabase();
    // Only the pool's idle timers are faked: the sockets and queries stay real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const db = await openPostgres(database.url, { max: 4 });
    try {
      const first = await heldTogether(db, 4);
      expect(first.size).toBe(4);
      // A minute without work (a quiet spell between two bursts of clicks).
      vi.advanceTimersByTime(60_000);
      const second = await heldTogether(db, 4);
      expect([...second].sort()).toEqual([...first].sort());
    } finally {
      vi.useRealTimers();
      await db.close();
      await database.drop();
    }
  });
});
