import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { Database } from '../../storage/database.js';
import { withAccount } from '../../storage/session.js';
import { findLogin, getUser, type Role } from '../../storage/repositories/users.js';
import { findApiKey, insertApiKey, insertRefreshToken, spendRefreshToken, type ApiKeyRow } from '../../storage/repositories/credentials.js';
import { audit } from '../../storage/repositories/audit.js';
import { HubError, unauthorized } from '../errors.js';

export const ROLE_RANK: Record<Role, number> = { viewer: 0, agent: 1, admin: 2, owner: 3 };

/** Who a request acts as, after authentication. */
export interface Principal {
  accountId: string;
  role: Role;
  userId: string | null;
  apiKeyId: string | null;
}

export const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

// A fixed hash to compare against when the email is unknown, so timing does not reveal which emails exist.
const DUMMY_HASH = bcrypt.hashSync('not-a-real-password', 10);

export async function hashPassword(password: string): Promise<string> {
  if (password.length < 8) throw new HubError(400, 'password_too_short', 'a password needs at least 8 characters');
  return bcrypt.hash(password, 10);
}

export async function checkPassword(db: Database, email: string, password: string): Promise<{ id: string; accountId: string; role: Role }> {
  const login = await findLogin(db, email);
  const ok = await bcrypt.compare(password, login?.passwordHash ?? DUMMY_HASH);
  if (!login || !login.passwordHash || !ok) throw unauthorized('email or password is wrong', 'invalid_credentials');
  return login;
}

/** Refresh tokens rotate: each is spent on use and replaced by a new one. */
export async function issueRefreshToken(db: Database, accountId: string, userId: string, ttlSeconds: number): Promise<string> {
  const token = `hdr_${randomBytes(32).toString('base64url')}`;
  await withAccount(db, accountId, (tx) =>
    insertRefreshToken(tx, { accountId, userId, tokenHash: sha256(token), expiresAt: new Date(Date.now() + ttlSeconds * 1000) }),
  );
  return token;
}

export async function spendRefresh(db: Database, token: string): Promise<{ accountId: string; userId: string; role: Role }> {
  const spent = await spendRefreshToken(db, sha256(token));
  if (spent === 'reused') throw unauthorized('this refresh token was already used; all sessions of the user were signed out', 'refresh_token_reused');
  if (!spent) throw unauthorized('refresh token is invalid or expired', 'invalid_refresh_token');
  const user = await withAccount(db, spent.accountId, (tx) => getUser(tx, spent.userId));
  if (!user) throw unauthorized('the user no longer exists', 'invalid_refresh_token');
  return { accountId: spent.accountId, userId: spent.userId, role: user.role };
}

/** Creates an API key; the plain key is returned once and only its hash is stored. */
export async function createApiKey(
  db: Database,
  accountId: string,
  input: { name: string; role: ApiKeyRow['role'] },
  actor: { kind: 'user' | 'api_key' | 'system'; id: string | null },
): Promise<{ key: string; apiKey: ApiKeyRow }> {
  const prefix = randomBytes(4).toString('hex');
  const key = `hd_${prefix}_${randomBytes(24).toString('base64url')}`;
  const apiKey = await withAccount(db, accountId, async (tx) => {
    const row = await insertApiKey(tx, { accountId, name: input.name, prefix, keyHash: sha256(key), role: input.role });
    await audit(tx, { accountId, actorKind: actor.kind, actorId: actor.id, action: 'api_key.created', targetKind: 'api_key', targetId: row.id, data: { role: input.role } });
    return row;
  });
  return { key, apiKey };
}

export async function authenticateApiKey(db: Database, key: string): Promise<Principal> {
  if (!/^hd_[0-9a-f]{8}_[A-Za-z0-9_-]{32}$/.test(key)) throw unauthorized('API key is malformed', 'invalid_api_key');
  const found = await findApiKey(db, sha256(key));
  if (!found) throw unauthorized('API key is unknown or revoked', 'invalid_api_key');
  return { accountId: found.accountId, role: found.role, userId: null, apiKeyId: found.id };
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
