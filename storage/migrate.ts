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
  // PGlite is one process with one connection: nothing can race it (and a held transaction would block the migration).
  if (db.kind === 'pglite') return run(db, target, dir);
  // Hub and worker processes start together against one database: one migrates, the others wait and find it done.
  // The lock lives in a transaction on its own connection; the migration runs on others from the pool.
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('hummdesk:migrate'))`);
    return run(db, target, dir);
  });
}

async function run(db: Database, target: string | undefined, dir: string): Promise<{ from: number; to: number }> {
  const m = migrator(db, dir);
  const from = Number(await m.getDatabaseVersion().catch(() => 0)) || 0;
  await m.migrate(target ?? 'max');
  const to = Number(await m.getDatabaseVersion()) || 0;
  return { from, to };
}
