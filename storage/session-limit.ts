import type { Database } from './database.js';

/**
 * The same database, with at most `max` of its sessions (transactions, and statements outside one) at
 * once; more wait their turn. Background work with a large budget (the AI stage keeps ~100 jobs going)
 * would otherwise hold every pooled connection, and requests would queue behind it for one.
 */
export function limitSessions(db: Database, max: number): Database {
  if (!(max >= 1)) throw new RangeError(`limitSessions: max must be at least 1, not ${max}`);
  let open = 0;
  const waiting: (() => void)[] = [];
  const acquire = (): Promise<void> => {
    if (open < max) {
      open++;
      return Promise.resolve();
    }
    // The slot passes straight to the next in line: `open` stays as it is.
    return new Promise<void>((resolve) => waiting.push(resolve));
  };
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else open--;
  };
  const limited = async <T>(run: () => Promise<T>): Promise<T> => {
    await acquire();
    try {
      return await run();
    } finally {
      release();
    }
  };
  return {
    kind: db.kind,
    query: (sql, params) => limited(() => db.query(sql, params)),
    prepared: (name, sql, params) => limited(() => db.prepared(name, sql, params)),
    transaction: (fn, setup) => limited(() => db.transaction(fn, setup)),
    exec: (sql) => limited(() => db.exec(sql)),
    // One statement as a tenant in one round trip (tenantReads) stays one, within the limit.
    ...(db.tenantPrepared ? { tenantPrepared: (accountId, name, sql, params, opts) => limited(() => db.tenantPrepared!(accountId, name, sql, params, opts)) } : {}),
    close: () => db.close(),
  };
}
