/** One small SQL surface that both node-postgres and PGlite satisfy, so repositories run on either. */

export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
  /** A hot-path statement kept parsed and planned per connection, where the adapter can (a transaction on node-postgres). */
  prepared?<R = Record<string, unknown>>(name: string, sql: string, params: unknown[], opts?: PreparedOptions): Promise<QueryResult<R>>;
}

export interface PreparedOptions {
  /**
   * The statement's plan does not depend on its values (a view's ordered index walk), so it may run its
   * generic plan instead of being planned on every call; only `tenantReads` on node-postgres acts on it.
   */
  genericPlan?: boolean;
}

/** Runs a hot-path statement prepared where the adapter can, else as a plain query. */
export function queryPrepared<R>(q: Queryable, name: string, sql: string, params: unknown[], opts?: PreparedOptions): Promise<QueryResult<R>> {
  return q.prepared ? q.prepared<R>(name, sql, params, opts) : q.query<R>(sql, params);
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /**
   * Runs fn in one transaction on one connection; rolls back when fn throws. `setup`: parameterless SQL
   * run with BEGIN in the same round trip where the adapter can (node-postgres), else right after it.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, setup?: string): Promise<T>;
  /** A hot-path statement the server keeps parsed and planned per connection, under this name (PGlite: a plain query). */
  prepared<R = Record<string, unknown>>(name: string, sql: string, params: unknown[]): Promise<QueryResult<R>>;
  /**
   * One prepared statement as a tenant in one round trip, in its own transaction (node-postgres; see
   * tenant-statement.ts). Callers go through `tenantReads` (session.ts), which falls back to a transaction.
   */
  tenantPrepared?<R = Record<string, unknown>>(accountId: string, name: string, sql: string, params: unknown[], opts?: PreparedOptions): Promise<QueryResult<R>>;
  /** Runs a script of several statements (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Calls `onNotify` for every NOTIFY on `channel` committed in this database, and once on each (re)connect,
   * when some may have been missed (node-postgres: a connection of its own; PGlite has no other process).
   */
  listen?(channel: string, onNotify: () => void): Promise<{ close(): Promise<void> }>;
  close(): Promise<void>;
}
