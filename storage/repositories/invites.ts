import type { Queryable } from '../database.js';

/** A new invite for a user; earlier unused ones of that user stop working (one live link per person). */
export async function insertInvite(tx: Queryable, i: { accountId: string; userId: string; tokenHash: string; expiresAt: Date }): Promise<void> {
  await tx.query(`DELETE FROM user_invites WHERE user_id = $1 AND used_at IS NULL`, [i.userId]);
  await tx.query(`INSERT INTO user_invites (account_id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)`, [i.accountId, i.userId, i.tokenHash, i.expiresAt]);
}

/** The invitee is not signed in, so no tenant is known yet: one invite by its unique hash. */
export async function findInvite(db: Queryable, tokenHash: string): Promise<{ id: string; accountId: string; userId: string; expired: boolean; used: boolean } | undefined> {
  return (
    await db.query<{ id: string; accountId: string; userId: string; expired: boolean; used: boolean }>(
      `SELECT id, account_id AS "accountId", user_id AS "userId", expires_at <= now() AS expired, used_at IS NOT NULL AS used
         FROM user_invites WHERE token_hash = $1`,
      [tokenHash],
    )
  ).rows[0];
}

/** Spends an invite as its tenant; false when another request spent it first. */
export async function spendInvite(tx: Queryable, id: string): Promise<boolean> {
  return (await tx.query(`UPDATE user_invites SET used_at = now() WHERE id = $1 AND used_at IS NULL AND expires_at > now()`, [id])).rowCount > 0;
}
