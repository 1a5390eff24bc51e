import type { Database, Queryable, QueryResult } from '../../storage/database.js';

/** Statements a hub sent to its database, counted by what each one was (tests of how many round trips a path costs). */
export interface RoundTrips {
  /** Every round trip: statements, BEGIN (with its setup) and COMMIT or ROLLBACK. */
  total: number;
  transactions: number;
  /** Statements that ran outside any transaction (autocommit). */
  autocommit: number;
  /** The SQL of every statement, in order (whitespace collapsed; BEGIN and COMMIT excluded). */
  sql: string[];
  /** The statements of each transaction, one list per transaction, in the order they began. */
  bySession: string[][];
  reset(): void;
}

/** Wraps a database so that every round trip it makes is counted; the queries themselves run unchanged. */
export function countRoundTrips(db: Database): { db: Database; trips: RoundTrips } {
  const trips: RoundTrips = {
    total: 0, transactions: 0, autocommit: 0, sql: [], bySession: [],
    reset() {
      this.total = 0;
      this.transactions = 0;
      this.autocommit = 0;
      this.sql = [];
      this.bySession = [];
    },
  };
  const statement = (sql: string, session?: string[]) => {
    const short = sql.replace(/\s+/g, ' ').trim();
    trips.total++;
    trips.sql.push(short);
    session?.push(short);
  };
  const inTx = (tx: Queryable, session: string[]): Queryable => ({
    query<R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
      statement(sql, session);
      return tx.query<R>(sql, params);
    },
    ...(tx.prepared ? {
      prepared<R>(name: string, sql: string, params: unknown[]): Promise<QueryResult<R>> {
        statement(sql, session);
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
      statement(sql);
      trips.autocommit++;
      return db.prepared<R>(name, sql, params);
    },
    transaction<T>(fn: (tx: Queryable) => Promise<T>, setup?: string): Promise<T> {
      trips.transactions++;
      // BEGIN (its setup rides along on node-postgres) and COMMIT or ROLLBACK.
      trips.total += 2;
      const session: string[] = [];
      trips.bySession.push(session);
      return db.transaction((tx) => fn(inTx(tx, session)), setup);
    },
    exec: (sql) => db.exec(sql),
    close: () => db.close(),
  };
  return { db: wrapped, trips };
}
