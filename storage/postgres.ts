import pg from 'pg';
import pgvector from 'pgvector/pg';
import type { Database, Queryable, QueryResult } from './database.js';

/** node-postgres pool; one connection per transaction. */
export async function openPostgres(url: string, opts: { max?: number } = {}): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 20 });
  pool.on('connect', (client) => {
    // Registers the vector type parser when the extension exists; a fresh database has none yet.
    pgvector.registerTypes(client).catch(() => undefined);
  });
  const query = async <R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> => {
    const r = await pool.query(sql, params as unknown[]);
    return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
  };
  return {
    kind: 'postgres',
    query,
    async transaction(fn) {
      const client = await pool.connect();
      const tx: Queryable = {
        async query<R>(sql: string, params?: unknown[]) {
          const r = await client.query(sql, params as unknown[]);
          return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
        },
      };
      try {
        await client.query('BEGIN');
        const out = await fn(tx);
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async exec(sql) {
      await pool.query(sql);
    },
    async close() {
      await pool.end();
    },
  };
}
