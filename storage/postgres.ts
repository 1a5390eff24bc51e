import pg from 'pg';
import pgvector from 'pgvector/pg';
import type { Database, PreparedOptions, Queryable, QueryResult } from './database.js';
import { PrefixedStatement, TenantStatement } from './tenant-statement.js';

/**
 * How long a connection the pool opened for a burst stays open idle (node-postgres drops it after 10 s): agents
 * act in bursts minutes apart, and a fresh connection costs a new backend with cold caches and re-prepared statements.
 */
export const POOL_IDLE_MS = 5 * 60_000;

/** Whether a transaction's BEGIN goes out alone before its first statement: a setup of several statements does (the extended protocol parses one). */
export function beginGoesFirst(setup: string | undefined): boolean {
  return setup !== undefined && setup !== '' && setup.includes(';');
}

/** Whether a first statement carries a pending BEGIN (and setup) in its own round trip: one the extended protocol sends, named or with parameters. */
export function beginRidesWith(first: { name?: string; values?: unknown[] }): boolean {
  return Boolean(first.name || first.values?.length);
}

/** node-postgres pool; one connection per transaction. */
export async function openPostgres(url: string, opts: { max?: number; idleMs?: number } = {}): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 20, idleTimeoutMillis: opts.idleMs ?? POOL_IDLE_MS });
  // An idle connection that dies (server restart, terminated backend) is dropped by the pool; without a
  // listener its error would be an uncaught exception that kills the process. The next query reports real trouble.
  pool.on('error', () => undefined);
  const typed = new WeakSet<pg.PoolClient>();
  // Vector parsers are registered on checkout, before the client's first query (registering from the
  // 'connect' event raced that query); a fresh database has no extension yet, so it is tried again later.
  const checkout = async () => {
    const client = await pool.connect();
    if (!typed.has(client)) {
      try {
        if ((await client.query(`SELECT 1 FROM pg_type WHERE typname = 'vector'`)).rowCount) {
          await pgvector.registerTypes(client);
          typed.add(client);
        }
      } catch (err) {
        client.release(err as Error);
        throw err;
      }
    }
    return client;
  };
  const query = async <R>(sql: string, params?: unknown[], name?: string): Promise<QueryResult<R>> => {
    const client = await checkout();
    try {
      const r = await client.query({ text: sql, values: params as unknown[], name });
      client.release();
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
    } catch (err) {
      // As pool.query does: a client that failed a query is not reused.
      client.release(err as Error);
      throw err;
    }
  };
  return {
    kind: 'postgres',
    query: (sql, params) => query(sql, params),
    prepared: (name, sql, params) => query(sql, params, name),
    async tenantPrepared<R>(accountId: string, name: string, sql: string, params: unknown[], opts?: PreparedOptions) {
      const client = await checkout();
      try {
        const r = await new Promise<pg.QueryResult>((resolve, reject) => {
          client.query(new TenantStatement(accountId, { name, text: sql, values: params, callback: (err, res) => (err ? reject(err) : resolve(res!)) }, opts?.genericPlan));
        });
        client.release();
        return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
      } catch (err) {
        client.release(err as Error);
        throw err;
      }
    },
    async transaction(fn, setup) {
      const client = await checkout();
      // BEGIN (and its setup) goes out in the same write as the transaction's first statement: one round trip
      // fewer. Only a parameterless setup of one statement can ride along (the extended protocol parses one);
      // a first statement without parameters goes by the simple protocol (it may hold several), after BEGIN.
      let begin: string[] | undefined = !beginGoesFirst(setup) ? (setup ? ['BEGIN', setup] : ['BEGIN']) : undefined;
      if (!begin) await client.query(setup ? `BEGIN; ${setup}` : 'BEGIN');
      const run = async <R>(config: { text: string; values?: unknown[]; name?: string }) => {
        let r: pg.QueryResult;
        if (begin && beginRidesWith(config)) {
          const prefix = begin.map((text) => ({ text, values: [] }));
          begin = undefined;
          r = await new Promise<pg.QueryResult>((resolve, reject) => {
            client.query(new PrefixedStatement(prefix, { text: config.text, name: config.name, values: config.values ?? [], callback: (err, res) => (err ? reject(err) : resolve(res!)) }));
          });
        } else {
          if (begin) {
            const sent = begin;
            begin = undefined;
            await client.query(sent.join('; '));
          }
          r = await client.query(config.name ? { name: config.name, text: config.text, values: config.values } : { text: config.text, values: config.values });
        }
        return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
      };
      const tx: Queryable = {
        query: <R>(sql: string, params?: unknown[]) => run<R>({ text: sql, values: params }),
        prepared: <R>(name: string, sql: string, params: unknown[]) => run<R>({ name, text: sql, values: params }),
      };
      try {
        const out = await fn(tx);
        // A transaction that sent no statement began nothing: nothing to commit.
        if (!begin) await client.query('COMMIT');
        return out;
      } catch (err) {
        if (!begin) await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async exec(sql) {
      await query(sql);
    },
    listen: (channel, onNotify) => listen(url, channel, onNotify),
    async close() {
      await pool.end();
    },
  };
}

/** LISTEN on a connection of its own (a session's LISTEN ends with it; the pool's connections come and go), reconnecting. */
async function listen(url: string, channel: string, onNotify: () => void): Promise<{ close(): Promise<void> }> {
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const later = () => {
    if (!closed) retry = setTimeout(() => void connect(), RELISTEN_MS);
  };
  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: url });
    let listening = false;
    c.on('notification', () => onNotify());
    c.on('error', () => undefined);
    c.on('end', () => {
      if (!listening) return;
      client = undefined;
      later();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${c.escapeIdentifier(channel)}`);
    } catch {
      await c.end().catch(() => undefined);
      return later();
    }
    if (closed) return void (await c.end().catch(() => undefined));
    listening = true;
    client = c;
    // Commits while no connection listened said nothing to us.
    onNotify();
  };
  await connect();
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}
const RELISTEN_MS = 1000;
