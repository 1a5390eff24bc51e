import type { Database, Queryable } from './database.js';

export const APP_ROLE = 'hummdesk_app';

/**
 * A transaction as one tenant: the role switch makes row-level security apply even when the
 * connection's own user owns the tables, so a query that forgets `account_id` still sees one tenant.
 */
export function withAccount<T>(db: Database, accountId: string, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await setAccount(tx, accountId);
    return fn(tx);
  });
}

/** Switches an open transaction to a tenant; batches use it between events of different accounts. */
export async function setAccount(tx: Queryable, accountId: string): Promise<void> {
  await tx.query(`SELECT set_config('role', $1, true), set_config('hummdesk.account_id', $2, true)`, [APP_ROLE, accountId]);
}
