import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../hub/testing/harness.js';
import type { Database } from './database.js';
import { openPostgres } from './postgres.js';
import { limitSessions } from './session-limit.js';

let database: { url: string; drop(): Promise<void> };
let db: Database;

beforeAll(async () => {
  database = await freshDatabase();
  db = await openPostgres(database.url, { max: 10 });
});
afterAll(async () => {
  await db?.close();
  await database?.drop();
});

/** A gate the test opens; `held` counts sessions inside it. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const state = { held: 0, most: 0 };
  const hold = async () => {
    state.held++;
    state.most = Math.max(state.most, state.held);
    await opened;
    state.held--;
  };
  return { state, hold, open: () => open() };
}

const until = async (check: () => boolean) => {
  while (!check()) await new Promise((r) => setTimeout(r, 10));
};

describe('limitSessions', () => {
  it('runs at most `max` transactions at once; the rest start as earlier ones end, each once', async () => {
    const limited = limitSessions(db, 3);
    const g = gate();
    const done: number[] = [];
    const all = Array.from({ length: 8 }, (_, i) => limited.transaction(async (tx) => {
      await tx.query('SELECT 1');
      await g.hold();
      done.push(i);
      return i;
    }));
    await until(() => g.state.held === 3);
    // Give the others every chance to start: they must not.
    await new Promise((r) => setTimeout(r, 100));
    expect(g.state.held).toBe(3);
    g.open();
    expect(await Promise.all(all)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(g.state.most).toBe(3);
    expect(done.sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('a session that fails gives its place back', async () => {
    const limited = limitSessions(db, 1);
    await expect(limited.transaction(async (tx) => tx.query('SELECT * FROM no_such_table'))).rejects.toThrow(/no_such_table/);
    await expect(limited.query('SELECT no_such_column')).rejects.toThrow(/no_such_column/);
    expect((await limited.query<{ n: number }>('SELECT 2 AS n')).rows[0]!.n).toBe(2);
    expect(await limited.transaction(async (tx) => (await tx.query<{ n: number }>('SELECT 3 AS n')).rows[0]!.n)).toBe(3);
  });

  it('refuses a limit below one', () => {
    expect(() => limitSessions(db, 0)).toThrow(RangeError);
  });
});
