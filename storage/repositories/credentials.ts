import type { Queryable } from '../database.js';
import type { Role } from './users.js';

/** API keys and refresh tokens are stored as SHA-256 hashes; the plain value is shown once. */

export interface ApiKeyRow {
  id: string;
  name: string;
  prefix: string;
  role: Exclude<Role, 'owner'>;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const KEY_COLUMNS = `id, name, prefix, role, created_at AS "createdAt", last_used_at AS "lastUsedAt", revoked_at AS "revokedAt"`;

export async function insertApiKey(tx: Queryable, k: { accountId: string; name: string; prefix: string; keyHash: string; role: ApiKeyRow['role'] }): Promise<ApiKeyRow> {
  const { rows } = await tx.query<ApiKeyRow>(
    `INSERT INTO api_keys (account_id, name, prefix, key_hash, role) VALUES ($1, $2, $3, $4, $5) RETURNING ${KEY_COLUMNS}`,
    [k.accountId, k.name, k.prefix, k.keyHash, k.role],
  );
  return rows[0]!;
}

export async function listApiKeys(tx: Queryable): Promise<ApiKeyRow[]> {
  return (await tx.query<ApiKeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys ORDER BY created_at`)).rows;
}

export async function revokeApiKey(tx: Queryable, id: string): Promise<boolean> {
  return (await tx.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, [id])).rowCount > 0;
}

/**
 * Authentication happens before a tenant is known: one live key by its unique hash, in one statement that
 * also records its use, at most once a minute (a key used more often is read without a write).
 */
export async function findApiKey(db: Queryable, keyHash: string): Promise<{ id: string; accountId: string; role: ApiKeyRow['role'] } | undefined> {
  const { rows } = await db.query<{ id: string; accountId: string; role: ApiKeyRow['role'] }>(
    `WITH live AS (SELECT id, account_id, role FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL),
     used AS (
       UPDATE api_keys k SET last_used_at = now() FROM live WHERE k.id = live.id AND k.revoked_at IS NULL
          AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute')
     )
     SELECT id, account_id AS "accountId", role FROM live`,
    [keyHash],
  );
  return rows[0];
}

/** An open event stream re-checks its key by id: the account and role of a live key, undefined once revoked or deleted. */
export async function findApiKeyAccess(db: Queryable, id: string): Promise<{ accountId: string; role: ApiKeyRow['role'] } | undefined> {
  return (
    await db.query<{ accountId: string; role: ApiKeyRow['role'] }>(
      `SELECT account_id AS "accountId", role FROM api_keys WHERE id = $1 AND revoked_at IS NULL`,
      [id],
    )
  ).rows[0];
}

export async function insertRefreshToken(tx: Queryable, t: { accountId: string; userId: string; tokenHash: string; expiresAt: Date }): Promise<void> {
  await tx.query(`INSERT INTO refresh_tokens (account_id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)`, [
    t.accountId, t.userId, t.tokenHash, t.expiresAt,
  ]);
}

export interface RefreshTokenState {
  id: string;
  accountId: string;
  userId: string;
  /** Revoked, or spent by rotation. */
  revoked: boolean;
  /** Spent by rotation within the grace window (and not revoked since). */
  rotatedInGrace: boolean;
  expired: boolean;
}

/**
 * A refresh token by its hash, locked for this transaction, so parallel refreshes of one token
 * take turns. Runs before a tenant is known: one row by an exact unique key.
 */
export async function lockRefreshToken(tx: Queryable, tokenHash: string, graceSeconds: number): Promise<RefreshTokenState | undefined> {
  return (await tx.query<RefreshTokenState>(
    `SELECT id, account_id AS "accountId", user_id AS "userId", revoked_at IS NOT NULL AS revoked,
       coalesce(rotated_at > now() - make_interval(secs => $2), false) AS "rotatedInGrace", expires_at < now() AS expired
     FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`,
    [tokenHash, graceSeconds],
  )).rows[0];
}

/** Spends a live token by rotation: its successor is inserted by the caller in the same transaction. */
export async function markRefreshTokenRotated(tx: Queryable, id: string): Promise<void> {
  await tx.query(`UPDATE refresh_tokens SET revoked_at = now(), rotated_at = now() WHERE id = $1`, [id]);
}

/** Spends an expired token without a successor. */
export async function expireRefreshToken(tx: Queryable, id: string): Promise<void> {
  await tx.query(`UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1`, [id]);
}

/**
 * A spent token presented again after its grace window means it leaked: every token of that user is
 * revoked, rotated ones too (their grace ends), so no chain of successors answers any more.
 */
export async function revokeRefreshFamily(tx: Queryable, userId: string): Promise<void> {
  await tx.query(`UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, now()), rotated_at = NULL WHERE user_id = $1`, [userId]);
}

/** Signs a user out everywhere (password change): every live refresh token of theirs is revoked, and no grace answers. */
export async function revokeUserRefreshTokens(tx: Queryable, userId: string): Promise<void> {
  await tx.query(`UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, now()), rotated_at = NULL WHERE user_id = $1 AND (revoked_at IS NULL OR rotated_at IS NOT NULL)`, [userId]);
}

/** Logout: ends one session; a repeated logout is harmless and never counts as token reuse. */
export async function revokeRefreshToken(db: Queryable, tokenHash: string): Promise<void> {
  await db.query(`UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, now()), rotated_at = NULL WHERE token_hash = $1`, [tokenHash]);
}
