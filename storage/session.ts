import type { Database, Queryable } from './database.js';

export const APP_ROLE = 'hummdesk_app';

/**
 * A transaction as one tenant: the role switch makes row-level security apply even when the
 * connection's own user owns the tables, so a query that forgets `account_id` still sees one tenant.
 */
export function withAccount<T>(db: Database, accountId: string, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  // The switch rides with BEGIN (one round trip, not two); only a well-formed id is written into SQL.
  if (UUID.test(accountId)) return db.transaction(fn, `SELECT set_config('role', '${APP_ROLE}', true), set_config('hummdesk.account_id', '${accountId}', true)`);
  return db.transaction(async (tx) => {
    await setAccount(tx, accountId);
    return fn(tx);
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Switches an open transaction to a tenant; batches use it between events of different accounts. */
export async function setAccount(tx: Queryable, accountId: string): Promise<void> {
  await tx.query(`SELECT set_config('role', $1, true), set_config('hummdesk.account_id', $2, true)`, [APP_ROLE, accountId]);
}
