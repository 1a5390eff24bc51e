import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Database, QueryResult } from './database.js';
import { copyTemplate, readTemplate } from './pglite-template.js';
import { lockDataDir } from './data-dir-lock.js';

/** Embedded Postgres (WASM) with pgvector; one process, one connection, so transactions are serialized. */
export async function openPGlite(dataDir: string | undefined): Promise<Database> {
  // Before anything is read: a second process on the same files would lose what it writes (data_dir_locked).
  const lock = dataDir ? await lockDataDir(dataDir, { command: hummdeskCommand() }) : undefined;
  let db: Database;
  try {
    db = await openStore(dataDir);
  } catch (err) {
    await lock?.release();
    throw err;
  }
  return {
    ...db,
    async close() {
      await db.close();
      await lock?.release();
    },
  };
}

/** The `hummdesk` subcommand this process runs, to tell a second process who holds the store. */
function hummdeskCommand(): string | undefined {
  if (!/hummdesk(\.js)?$/.test(process.argv[1] ?? '')) return undefined;
  return process.argv.slice(2).filter((a) => !a.startsWith('-')).slice(0, 2).join(' ') || undefined;
}

async function openStore(dataDir: string | undefined): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { vector } = await import('@electric-sql/pglite-pgvector');
  let loadDataDir: Blob | undefined;
  if (dataDir && !existsSync(join(dataDir, 'PG_VERSION'))) {
    // initdb written straight to disk takes ~15 s here (a sync per file); the store made at install
    // time (with the schema of that day already migrated) is copied in well under a second, and
    // without it initdb in memory takes ~2 s.
    const template = readTemplate();
    if (template) copyTemplate(template.dir, dataDir);
    else {
      const scratch = await PGlite.create('memory://', { extensions: { vector } });
      loadDataDir = await scratch.dumpDataDir('none');
      await scratch.close();
    }
  }
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  return pgliteDatabase(await PGlite.create(dataDir ?? 'memory://', { extensions: { vector }, loadDataDir }));
}

/** The Database surface over an open PGlite. */
export function pgliteDatabase(db: PGlite): Database {
  // Every statement runs synchronously in WASM on the main thread, and its promise settles without a
  // turn of the event loop: a chain of them (a job's transactions one after another) would hold off
  // all I/O until it ends. Each statement therefore starts on a fresh turn.
  const query = async <R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> => {
    await nextTurn();
    return toResult(await db.query<R>(sql, params as unknown[]));
  };
  return {
    kind: 'pglite',
    query,
    // One in-process connection with nothing to round-trip: a plain query costs the same.
    prepared: (_name, sql, params) => query(sql, params),
    async transaction(fn, setup) {
      await nextTurn();
      return db.transaction(async (tx) => {
        if (setup) await tx.query(setup);
        return fn({
          async query<R>(sql: string, params?: unknown[]) {
            // Inside a transaction too: requests that need no store (or only CPU) are answered meanwhile.
            await nextTurn();
            return toResult(await tx.query<R>(sql, params as unknown[]));
          },
        });
      });
    },
    async exec(sql) {
      await db.exec(sql);
    },
    async close() {
      await db.close();
    },
  };
}

/** node-postgres semantics: rowCount is the rows a SELECT returned too (PGlite reports 0 affected for a SELECT). */
function toResult<R>(r: { rows: R[]; affectedRows?: number }): QueryResult<R> {
  return { rows: r.rows, rowCount: r.rows.length || (r.affectedRows ?? 0) };
}
