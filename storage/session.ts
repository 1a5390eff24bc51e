import type { Database, PreparedOptions, Queryable } from './database.js';

export const APP_ROLE = 'hummdesk_app';

/**
 * A transaction as one tenant: the role switch makes row-level security apply even when the
 * connection's own user owns the tables, so a query that forgets `account_id` still sees one tenant.
 */
export function withAccount<T>(db: Database, accountId: string, fn: (tx: Queryable) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
  const generic = opts.genericPlans ? `, set_config('plan_cache_mode', 'force_generic_plan', true)` : '';
  // The switch rides with BEGIN (one round trip, not two); only a well-formed id is written into SQL.
  if (UUID.test(accountId)) return db.transaction(fn, `SELECT set_config('role', '${APP_ROLE}', true), set_config('hummdesk.account_id', '${accountId}', true)${generic}`);
  return db.transaction(async (tx) => {
    await setAccount(tx, accountId);
    if (generic) await tx.query(`SELECT ${generic.slice(2)}`);
    return fn(tx);
  });
}

export interface TransactionOptions {
  /**
   * Named statements in the transaction run their generic plan (planned once per connection) instead of
   * being planned again for their values: for transactions that run the same few statements many times.
   */
  genericPlans?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Switches an open transaction to a tenant; batches use it between events of different accounts. */
export async function setAccount(tx: Queryable, accountId: string): Promise<void> {
  await tx.query(`SELECT set_config('role', $1, true), set_config('hummdesk.account_id', $2, true)`, [APP_ROLE, accountId]);
}

/**
 * Reads as one tenant, each statement in its own transaction: one round trip a statement where the
 * adapter can (`Database.tenantPrepared`), else a transaction each. For reads that need no snapshot
 * shared between their statements (the inbox page, its counts), or a write that needs nothing else in its
 * transaction (a sync's result, its lease given back).
 */
export function tenantReads(db: Database, accountId: string): Queryable {
  const run = <R>(name: string | undefined, sql: string, params: unknown[] = [], opts?: PreparedOptions) =>
    db.tenantPrepared && UUID.test(accountId)
      ? db.tenantPrepared<R>(accountId, name ?? '', sql, params, opts)
      : withAccount(db, accountId, (tx) => (name && tx.prepared ? tx.prepared<R>(name, sql, params) : tx.query<R>(sql, params)));
  return {
    query: <R>(sql: string, params?: unknown[]) => run<R>(undefined, sql, params),
    prepared: <R>(name: string, sql: string, params: unknown[], opts?: PreparedOptions) => run<R>(name, sql, params, opts),
  };
}
