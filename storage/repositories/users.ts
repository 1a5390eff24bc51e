import type { Queryable } from '../database.js';

export type Role = 'owner' | 'admin' | 'agent' | 'viewer';

export interface UserRow {
  id: string;
  accountId: string;
  email: string;
  name: string;
  role: Role;
  slackUserId: string | null;
  teamsUserId: string | null;
  available: boolean;
  maxOpenConversations: number | null;
  skills: string[];
  createdAt: string;
}

const COLUMNS = `id, account_id AS "accountId", email, name, role, slack_user_id AS "slackUserId",
  teams_user_id AS "teamsUserId", available, max_open_conversations AS "maxOpenConversations", skills, created_at AS "createdAt"`;

export async function listUsers(tx: Queryable): Promise<UserRow[]> {
  return (await tx.query<UserRow>(`SELECT ${COLUMNS} FROM users ORDER BY created_at`)).rows;
}

export async function getUser(tx: Queryable, id: string): Promise<UserRow | undefined> {
  return (await tx.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id])).rows[0];
}

export async function insertUser(
  tx: Queryable,
  u: { accountId: string; email: string; name: string; role: Role; passwordHash: string | null },
): Promise<UserRow> {
  const { rows } = await tx.query<UserRow>(
    `INSERT INTO users (account_id, email, name, role, password_hash) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
    [u.accountId, u.email, u.name, u.role, u.passwordHash],
  );
  return rows[0]!;
}

export async function updateUser(
  tx: Queryable,
  id: string,
  patch: { name?: string; role?: Role; available?: boolean; passwordHash?: string; slackUserId?: string | null; teamsUserId?: string | null; maxOpenConversations?: number | null; skills?: string[] },
): Promise<UserRow | undefined> {
  const columns: Record<string, string> = {
    name: 'name', role: 'role', available: 'available', passwordHash: 'password_hash', slackUserId: 'slack_user_id',
    teamsUserId: 'teams_user_id', maxOpenConversations: 'max_open_conversations', skills: 'skills',
  };
  const sets: string[] = [];
  const params: unknown[] = [id];
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined || !columns[k]) continue;
    params.push(v);
    sets.push(`${columns[k]} = $${params.length}`);
  }
  if (!sets.length) return getUser(tx, id);
  return (await tx.query<UserRow>(`UPDATE users SET ${sets.join(', ')} WHERE id = $1 RETURNING ${COLUMNS}`, params)).rows[0];
}

export interface LoginCandidate {
  id: string;
  accountId: string;
  accountSlug: string;
  accountName: string;
  role: Role;
  passwordHash: string | null;
}

/** Login happens before a tenant is known: the users with this email, in every account (unique within one). */
export async function findLogins(db: Queryable, email: string): Promise<LoginCandidate[]> {
  const { rows } = await db.query<LoginCandidate>(
    `SELECT u.id, u.account_id AS "accountId", a.slug AS "accountSlug", a.name AS "accountName", u.role, u.password_hash AS "passwordHash"
     FROM users u JOIN accounts a ON a.id = u.account_id WHERE lower(u.email) = lower($1) ORDER BY a.slug`,
    [email],
  );
  return rows;
}

export interface UserAccess {
  accountId: string;
  role: Role;
}

/** Access tokens are checked before a tenant is trusted: one row by the primary key, nothing else. */
export async function findUserAccess(db: Queryable, id: string): Promise<UserAccess | undefined> {
  return (await db.query<UserAccess>(`SELECT account_id AS "accountId", role FROM users WHERE id = $1`, [id])).rows[0];
}

export async function deleteUser(tx: Queryable, id: string): Promise<boolean> {
  return (await tx.query(`DELETE FROM users WHERE id = $1`, [id])).rowCount > 0;
}

/** Counts owners and locks their rows, so two concurrent demotions cannot both leave the account ownerless. */
export async function lockOwners(tx: Queryable): Promise<number> {
  return (await tx.query(`SELECT id FROM users WHERE role = 'owner' FOR UPDATE`)).rowCount;
}

export async function getPasswordHash(tx: Queryable, id: string): Promise<string | null | undefined> {
  return (await tx.query<{ passwordHash: string | null }>(`SELECT password_hash AS "passwordHash" FROM users WHERE id = $1`, [id])).rows[0]?.passwordHash;
}
