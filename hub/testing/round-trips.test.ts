import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../storage/postgres.js';
import type { Database } from '../../storage/database.js';
import { countRoundTrips } from './round-trips.js';

/** The counter counts what node-postgres writes: BEGIN rides with a first statement that can carry it. */
describe('countRoundTrips on PostgreSQL', () => {
  let db: Database;
  beforeAll(async () => {
    db = await openPostgres(process.env.DATABASE_URL!, { max: 1 });
  });
  afterAll(() => db?.close());

  it('counts BEGIN only where it goes alone, and COMMIT only once something began', async () => {
    const { db: counted, trips } = countRoundTrips(db);
    // BEGIN rides with a statement that has parameters; COMMIT is the second round trip.
    await counted.transaction((tx) => tx.query('SELECT $1::int', [1]));
    expect(trips.total).toBe(2);
    trips.reset();
    // A named statement carries it too.
    await counted.transaction(async (tx) => void (await tx.prepared!('round_trips_test', 'SELECT $1::int', [1])));
    expect(trips.total).toBe(2);
    trips.reset();
    // A first statement without parameters goes by the simple protocol, after BEGIN.
    await counted.transaction(async (tx) => {
      await tx.query('SELECT 1');
      await tx.query('SELECT $1::int', [2]);
    });
    expect(trips.total).toBe(4);
    trips.reset();
    // A transaction that sent nothing began nothing.
    await counted.transaction(async () => undefined);
    expect(trips.total).toBe(0);
    trips.reset();
    // A setup of several statements goes with BEGIN, alone.
    await counted.transaction((tx) => tx.query('SELECT $1::int', [1]), `SET LOCAL statement_timeout = '5s'; SET LOCAL lock_timeout = '5s'`);
    expect(trips.total).toBe(3);
  });
});
