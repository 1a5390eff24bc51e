import type { Database } from './database.js';
import { openPostgres } from './postgres.js';
import { openPGlite } from './pglite.js';

/** DATABASE_URL selects real Postgres; without it the embedded PGlite store lives in dataDir. */
export async function openDatabase(opts: { databaseUrl?: string; dataDir?: string; poolSize?: number }): Promise<Database> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, { max: opts.poolSize });
  return openPGlite(opts.dataDir);
}
