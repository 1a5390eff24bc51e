import type { Database } from './database.js';

/** DATABASE_URL selects real Postgres; without it the embedded PGlite store lives in dataDir. Each driver loads only when chosen. */
export async function openDatabase(opts: { databaseUrl?: string; dataDir?: string; poolSize?: number }): Promise<Database> {
  if (opts.databaseUrl) return (await import('./postgres.js')).openPostgres(opts.databaseUrl, { max: opts.poolSize });
  return (await import('./pglite.js')).openPGlite(opts.dataDir);
}
