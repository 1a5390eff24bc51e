import type { Database } from '../../storage/database.js';
import { findApiKeyAccess } from '../../storage/repositories/credentials.js';
import { findUserAccess, type UserAccess } from '../../storage/repositories/users.js';
import type { Principal } from './auth.js';
import { ExpiringCache } from './expiring-cache.js';

/**
 * A user's or API key's role and account by id, kept for a few seconds: every request with an access
 * token needs them, the token's own claims go stale when a user is demoted or removed, and open event
 * streams re-check theirs at every heartbeat. A change made through the API in this process applies
 * at once (`forget`, `forgetApiKey`); one made in another process within `ttlMs` (HUMMDESK_USER_CACHE_MS).
 */
export class PrincipalCache {
  private readonly cache: ExpiringCache<UserAccess | undefined>;

  constructor(
    private readonly db: Database,
    ttlMs = 5_000,
    now: () => number = Date.now,
  ) {
    this.cache = new ExpiringCache(ttlMs, now);
  }

  /** The user's current account and role, or undefined when the user no longer exists. */
  find(userId: string): Promise<UserAccess | undefined> {
    return this.cache.get(`user:${userId}`, () => findUserAccess(this.db, userId));
  }

  /** The key's account and role, or undefined once it is revoked or deleted. */
  findApiKey(apiKeyId: string): Promise<UserAccess | undefined> {
    return this.cache.get(`api_key:${apiKeyId}`, () => findApiKeyAccess(this.db, apiKeyId));
  }

  /** What an authenticated principal acts as now, or undefined once it lost access. */
  current(p: Pick<Principal, 'userId' | 'apiKeyId'>): Promise<UserAccess | undefined> {
    if (p.userId) return this.find(p.userId);
    if (p.apiKeyId) return this.findApiKey(p.apiKeyId);
    return Promise.resolve(undefined);
  }

  /** Call after the change has committed, so the next lookup cannot read the old row. */
  forget(userId: string): void {
    this.cache.forget(`user:${userId}`);
  }

  /** Call after the revocation has committed. */
  forgetApiKey(apiKeyId: string): void {
    this.cache.forget(`api_key:${apiKeyId}`);
  }
}
