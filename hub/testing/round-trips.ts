import type { Database, PreparedOptions, Queryable, QueryResult } from '../../storage/database.js';
import { beginGoesFirst, beginRidesWith } from '../../storage/postgres.js';

/** Statements a hub sent to its database, counted by what each one was (tests of how many round trips a path costs). */
export interface RoundTrips {
  /**
   * Every round trip: statements, COMMIT or ROLLBACK, and BEGIN (with its setup) where it goes alone: on
   * node-postgres it rides with the transaction's first statement when that one can carry it (storage/postgres.ts).
   */
  total: number;
  transactions: number;
  /** Statements that ran outside any transaction (autocommit). */
  autocommit: number;
  /** The SQL of every statement, in order (whitespace collapsed; BEGIN and COMMIT excluded). */
  sql: string[];
  /** The SQL of the statements sent named (kept parsed and planned by the server per connection), in order. */
  prepared: string[];
  /** The statements of each transaction, one list per transaction, in the order they began. */
  bySession: string[][];
  /** When each transaction of `bySession` began and ended (performance.now(); end NaN while open). */
  spans: [number, number][];
  reset(): void;
}

/** Wraps a database so that every round trip it makes is counted; the queries themselves run unchanged. */
export function countRoundTrips(db: Database): { db: Database; trips: RoundTrips } {
  const trips: RoundTrips = {
    total: 0, transactions: 0, autocommit: 0, sql: [], prepared: [], bySession: [], spans: [],
    reset() {
      this.total = 0;
      this.transactions = 0;
      this.autocommit = 0;
      this.sql = [];
      this.prepared = [];
      this.bySession = [];
      this.spans = [];
    },
  };
  const statement = (sql: string, session?: string[], named = false) => {
    const short = sql.replace(/\s+/g, ' ').trim();
    trips.total++;
    trips.sql.push(short);
    if (named) trips.prepared.push(short);
    session?.push(short);
  };
  const inTx = (tx: Queryable, session: string[], first: (s: { name?: string; values?: unknown[] }) => void): Queryable => ({
    query<R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
      first({ values: params });
      statement(sql, session);
      return tx.query<R>(sql, params);
    },
    ...(tx.prepared ? {
      prepared<R>(name: string, sql: string, params: unknown[]): Promise<QueryResult<R>> {
        first({ name, values: params });
        statement(sql, session, true);
        return tx.prepared!<R>(name, sql, params);
      },
    } : {}),
  });
  const wrapped: Database = {
    kind: db.kind,
    query<R>(sql: string, params?: unknown[]) {
      statement(sql);
      trips.autocommit++;
      return db.query<R>(sql, params);
    },
    prepared<R>(name: string, sql: string, params: unknown[]) {
      statement(sql, undefined, true);
      trips.autocommit++;
      return db.prepared<R>(name, sql, params);
    },
    transaction<T>(fn: (tx: Queryable) => Promise<T>, setup?: string): Promise<T> {
      trips.transactions++;
      // What node-postgres sends (storage/postgres.ts): BEGIN alone before a setup of several statements or a
      // first statement that cannot carry it, COMMIT or ROLLBACK once anything began. PGlite has no wire: BEGIN and COMMIT count as two.
      const wire = db.kind === 'postgres';
      let begun = !wire || beginGoesFirst(setup);
      if (begun) trips.total++;
      const first = (s: { name?: string; values?: unknown[] }) => {
        if (begun) return;
        begun = true;
        if (!beginRidesWith(s)) trips.total++;
      };
      const session: string[] = [];
      const span: [number, number] = [performance.now(), NaN];
      trips.bySession.push(session);
      trips.spans.push(span);
      return db.transaction((tx) => fn(inTx(tx, session, first)), setup).finally(() => {
        span[1] = performance.now();
        if (begun) trips.total++;
      });
    },
    exec: (sql) => db.exec(sql),
    close: () => db.close(),
    // A statement as a tenant in one round trip (tenantReads): counted as one, outside any transaction.
    ...(db.tenantPrepared ? {
      tenantPrepared<R>(accountId: string, name: string, sql: string, params: unknown[], opts?: PreparedOptions) {
        // An empty name is the unnamed statement: planned again on every call.
        statement(sql, undefined, name !== '');
        trips.autocommit++;
        return db.tenantPrepared!<R>(accountId, name, sql, params, opts);
      },
    } : {}),
  };
  return { db: wrapped, trips };
}

/** The most of the given transactions (indexes into `bySession`) that were open at one moment. */
export function mostAtOnce(trips: RoundTrips, sessions: number[]): number {
  const edges = sessions.flatMap((i) => [[trips.spans[i]![0], 1], [trips.spans[i]![1], -1]] as [number, number][]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let most = 0;
  for (const [, d] of edges) most = Math.max(most, (open += d));
  return most;
}
