import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { Database, Queryable } from '../../storage/database.js';
import { deriveKey } from '../../storage/secret-box.js';
import { setAccount, withAccount } from '../../storage/session.js';
import { findLogins, type LoginCandidate, type Role } from '../../storage/repositories/users.js';
import {
  expireRefreshToken, findApiKey, insertApiKey, insertRefreshToken, lockRefreshToken, markRefreshTokenRotated, revokeRefreshFamily, type ApiKeyRow,
} from '../../storage/repositories/credentials.js';
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

/**
 * Login by email and password. An email may be a user in several accounts: the password picks the
 * one it matches; `account` (a slug) picks among several it matches. Which accounts exist is said only
 * to a caller whose password matched them.
 */
export async function checkPassword(db: Database, email: string, password: string, account?: string): Promise<{ id: string; accountId: string; role: Role }> {
  const candidates = (await findLogins(db, email)).filter((l) => account === undefined || l.accountSlug === account);
  const matched: LoginCandidate[] = [];
  for (const login of candidates) if (login.passwordHash && (await bcrypt.compare(password, login.passwordHash))) matched.push(login);
  if (!candidates.some((l) => l.passwordHash)) await bcrypt.compare(password, DUMMY_HASH);
  if (!matched.length) throw unauthorized('email or password is wrong', 'invalid_credentials');
  if (matched.length > 1)
    throw new HubError(409, 'account_required', 'this email and password sign in to several accounts: send `account` with one of their slugs', {
      accounts: matched.map((l) => ({ slug: l.accountSlug, name: l.accountName })),
    });
  return matched[0]!;
}

/** Refresh tokens rotate: each is spent on use and replaced by a new one. */
export async function issueRefreshToken(db: Database, accountId: string, userId: string, ttlSeconds: number): Promise<string> {
  const token = `hdr_${randomBytes(32).toString('base64url')}`;
  await withAccount(db, accountId, (tx) =>
    insertRefreshToken(tx, { accountId, userId, tokenHash: sha256(token), expiresAt: new Date(Date.now() + ttlSeconds * 1000) }),
  );
  return token;
}

export interface RefreshOptions {
  secretKey: Buffer;
  ttlSeconds: number;
  /** How long a token already rotated, presented again, answers the same successor. */
  graceSeconds: number;
}

/** The token a rotation of `token` issues: derived from it, so the same rotation presented twice answers the same pair. */
function successorOf(key: Buffer, token: string): string {
  return `hdr_${createHmac('sha256', key).update(token).digest('base64url')}`;
}

// A successor may itself have been rotated within its grace (a client that refreshed twice quickly): follow a few steps.
const MAX_CHAIN = 16;

async function successorLives(tx: Queryable, key: Buffer, successor: string, graceSeconds: number): Promise<boolean> {
  let token = successor;
  for (let step = 0; step < MAX_CHAIN; step++) {
    const state = await lockRefreshToken(tx, sha256(token), graceSeconds);
    if (!state) return false;
    if (!state.revoked) return !state.expired;
    if (!state.rotatedInGrace) return false;
    token = successorOf(key, token);
  }
  return false;
}

/**
 * Spends a refresh token and answers its successor. Presenting a token again within the grace window
 * (parallel refreshes of one session) answers the same successor; later it means the token leaked,
 * and every session of the user is revoked.
 */
export async function refreshSession(db: Database, token: string, opts: RefreshOptions): Promise<{ accountId: string; userId: string; refreshToken: string }> {
  const key = deriveKey(opts.secretKey, 'refresh-rotation');
  const successor = successorOf(key, token);
  const outcome = await db.transaction(async (tx) => {
    const row = await lockRefreshToken(tx, sha256(token), opts.graceSeconds);
    if (!row) return undefined;
    await setAccount(tx, row.accountId);
    if (row.rotatedInGrace) return (await successorLives(tx, key, successor, opts.graceSeconds)) ? row : undefined;
    if (row.revoked) {
      await revokeRefreshFamily(tx, row.userId);
      return 'reused' as const;
    }
    if (row.expired) {
      await expireRefreshToken(tx, row.id);
      return undefined;
    }
    await markRefreshTokenRotated(tx, row.id);
    await insertRefreshToken(tx, { accountId: row.accountId, userId: row.userId, tokenHash: sha256(successor), expiresAt: new Date(Date.now() + opts.ttlSeconds * 1000) });
    return row;
  });
  if (outcome === 'reused') throw unauthorized('this refresh token was already used; all sessions of the user were signed out', 'refresh_token_reused');
  if (!outcome) throw unauthorized('refresh token is invalid or expired', 'invalid_refresh_token');
  // A removed user's tokens went with the user (ON DELETE CASCADE).
  return { accountId: outcome.accountId, userId: outcome.userId, refreshToken: successor };
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
