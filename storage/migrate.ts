import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Postgrator from 'postgrator';
import type { Database } from './database.js';

const MIGRATIONS = fileURLToPath(new URL('../migrations', import.meta.url));

function migrator(db: Database, dir: string) {
  return new Postgrator({
    migrationPattern: `${dir}/*`,
    driver: 'pg',
    schemaTable: 'hummdesk_schema_version',
    // Migrations carry their own BEGIN/COMMIT, so a multi-statement script needs the simple-query path.
    execQuery: async (sql: string) => {
      if (/;\s*\S/.test(sql.trim().replace(/;\s*$/, ''))) {
        await db.exec(sql);
        return { rows: [] };
      }
      return db.query(sql);
    },
  });
}

/** Brings the schema to the newest version (or to `target`, which may be lower: the undo scripts run). */
export async function migrate(db: Database, target?: string, dir = MIGRATIONS): Promise<{ from: number; to: number }> {
  if (target === undefined) {
    const current = await upToDate(db, dir);
    if (current !== undefined) return { from: current, to: current };
  }
  // PGlite is one process with one connection: nothing can race it (and a held transaction would block the migration).
  if (db.kind === 'pglite') return run(db, target, dir);
  // Hub and worker processes start together against one database: one migrates, the others wait and find it done.
  // The lock lives in a transaction on its own connection; the migration runs on others from the pool.
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('hummdesk:migrate'))`);
    return run(db, target, dir);
  });
}

/** The do-scripts in `dir` by version. */
function migrationFiles(dir: string): Map<number, string> {
  const files = new Map<number, string>();
  for (const name of readdirSync(dir)) {
    const m = /^(\d+)\.do\..*\.sql$/.exec(name);
    if (m) files.set(Number(m[1]), name);
  }
  return files;
}

/**
 * A database whose applied versions skip a migration below its newest (made on a branch that lacked it):
 * Postgrator only runs versions above the newest applied, so it would never run, and the next migration
 * that needs its tables would fail with an unrelated-looking "relation does not exist".
 */
export class MigrationSkippedError extends Error {
  readonly code = 'migration_skipped';
  constructor(readonly versions: number[], readonly current: number) {
    super(
      `migration_skipped: the database is at version ${current} but never ran ${versions.join(', ')} (older numbers, ` +
        'added after it was migrated, e.g. on another branch). Migrations only run upwards: on a development database, ' +
        `migrate down below the lowest of them (hummdesk migrate --to ${Math.min(...versions) - 1}) and up again, or start from a fresh one.`,
    );
    this.name = 'MigrationSkippedError';
  }
}

async function skipped(db: Database, dir: string, current: number): Promise<number[]> {
  if (current === 0) return [];
  const applied = new Set((await db.query<{ version: string | number }>(`SELECT version FROM hummdesk_schema_version`)).rows.map((r) => Number(r.version)));
  return [...migrationFiles(dir).keys()].filter((v) => v < current && !applied.has(v)).sort((a, b) => a - b);
}

async function run(db: Database, target: string | undefined, dir: string): Promise<{ from: number; to: number }> {
  const m = migrator(db, dir);
  const from = Number(await m.getDatabaseVersion().catch(() => 0)) || 0;
  // Going down runs undo scripts of applied versions only; going up must not leave a hole behind.
  if (target === undefined || target === 'max' || Number(target) > from) {
    const missing = await skipped(db, dir, from);
    if (missing.length) throw new MigrationSkippedError(missing, from);
  }
  await m.migrate(target ?? 'max');
  const to = Number(await m.getDatabaseVersion()) || 0;
  return { from, to };
}

/**
 * The schema's version when it is already the newest and every applied migration is unchanged (the
 * check Postgrator makes), else undefined. One query instead of Postgrator's catalog lookups: about a
 * second of CPU on a fresh embedded store, at every start.
 */
async function upToDate(db: Database, dir: string): Promise<number | undefined> {
  const files = migrationFiles(dir);
  let applied: { version: string | number; md5: string | null }[];
  try {
    applied = (await db.query<{ version: string | number; md5: string | null }>(`SELECT version, md5 FROM hummdesk_schema_version`)).rows;
  } catch {
    return undefined; // no schema table yet
  }
  const newest = Math.max(0, ...files.keys());
  const versions = applied.map((r) => Number(r.version)).filter((v) => v > 0);
  if (newest === 0 || Math.max(0, ...versions) !== newest || versions.length !== files.size) return undefined;
  for (const r of applied) {
    const v = Number(r.version);
    if (v === 0) continue;
    const name = files.get(v);
    if (!name || r.md5 !== createHash('md5').update(readFileSync(join(dir, name), 'utf8'), 'utf8').digest('hex')) return undefined;
  }
  return newest;
}
