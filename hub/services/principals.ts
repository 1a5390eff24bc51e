import type { Database } from '../../storage/database.js';
import { findUserAccess, type UserAccess } from '../../storage/repositories/users.js';
import { ExpiringCache } from './expiring-cache.js';

/**
 * A user's role and account by id, kept for a few seconds: every request with an access token
 * needs them, and the token's own claims go stale when a user is demoted or removed. A change made
 * through the API in this process applies at once (`forget`); one made in another process within
 * `ttlMs` (HUMMDESK_USER_CACHE_MS).
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
    return this.cache.get(userId, () => findUserAccess(this.db, userId));
  }

  /** Call after the change has committed, so the next lookup cannot read the old row. */
  forget(userId: string): void {
    this.cache.forget(userId);
  }
}
