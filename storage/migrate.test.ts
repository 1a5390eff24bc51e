import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../hub/testing/harness.js';
import type { Database } from './database.js';
import { MigrationSkippedError, migrate } from './migrate.js';
import { openPostgres } from './postgres.js';

let database: Awaited<ReturnType<typeof freshDatabase>>;
let db: Database;

beforeAll(async () => {
  database = await freshDatabase();
  db = await openPostgres(database.url, { max: 4 });
});
afterAll(async () => {
  await db?.close();
  await database?.drop();
});

const tables = async () =>
  (await db.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'hummdesk_schema_version' ORDER BY 1`)).rows.map((r) => r.name);

describe('migrations on Postgres', () => {
  it('migrate up, down to 0 and up again', async () => {
    const up = await migrate(db);
    expect(up.from).toBe(0);
    expect(up.to).toBeGreaterThan(0);
    expect(await tables()).toEqual(expect.arrayContaining(['accounts', 'conversations', 'messages', 'outbox']));
    // Row-level security is on for tenant tables.
    const rls = await db.query<{ relrowsecurity: boolean }>(`SELECT relrowsecurity FROM pg_class WHERE relname = 'messages'`);
    expect(rls.rows[0]!.relrowsecurity).toBe(true);

    expect(await migrate(db)).toEqual({ from: up.to, to: up.to });

    expect(await migrate(db, '0')).toEqual({ from: up.to, to: 0 });
    expect(await tables()).toEqual([]);

    expect(await migrate(db)).toEqual({ from: 0, to: up.to });
    expect(await tables()).toEqual(expect.arrayContaining(['accounts', 'conversations', 'messages', 'outbox']));
  });

  it('lets several processes start at once: one migrates, the others find it done', async () => {
    const other = await freshDatabase();
    const pools = await Promise.all([1, 2, 3].map(() => openPostgres(other.url, { max: 3 })));
    try {
      const results = await Promise.all(pools.map((p) => migrate(p)));
      const newest = Math.max(...results.map((r) => r.to));
      expect(results.every((r) => r.to === newest)).toBe(true);
      expect(results.filter((r) => r.from === 0)).toHaveLength(1);
    } finally {
      await Promise.all(pools.map((p) => p.close()));
      await other.drop();
    }
  });

  it('refuses a database that never ran a migration older than its newest, naming it, and changes nothing', async () => {
    const other = await freshDatabase();
    const pool = await openPostgres(other.url, { max: 2 });
    try {
      const { to } = await migrate(pool);
      const versions = (await pool.query<{ version: number }>(`SELECT version FROM hummdesk_schema_version WHERE version > 0 ORDER BY 1`)).rows.map((r) => Number(r.version));
      const hole = versions[1]!;
      await pool.query(`DELETE FROM hummdesk_schema_version WHERE version = $1`, [hole]);
      const refused = await migrate(pool).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(MigrationSkippedError);
      expect(refused).toMatchObject({ code: 'migration_skipped', versions: [hole], current: to });
      expect(String((refused as Error).message)).toContain(`never ran ${hole}`);
      const after = (await pool.query<{ n: string }>(`SELECT count(*) AS n FROM hummdesk_schema_version WHERE version > 0`)).rows[0]!.n;
      expect(Number(after)).toBe(versions.length - 1);
    } finally {
      await pool.close();
      await other.drop();
    }
  });
});
