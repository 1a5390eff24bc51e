import type { Database } from '../../storage/database.js';
import { findUserAccess, type UserAccess } from '../../storage/repositories/users.js';

/**
 * A user's role and account by id, kept for a few seconds: every request with an access token
 * needs them, and the token's own claims go stale when a user is demoted or removed. A change made
 * through the API in this process applies at once (`forget`); one made in another process within
 * `ttlMs` (HUMMDESK_USER_CACHE_MS).
 */
export class PrincipalCache {
  private readonly entries = new Map<string, { at: number; value: Promise<UserAccess | undefined> }>();

  constructor(
    private readonly db: Database,
    private readonly ttlMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The user's current account and role, or undefined when the user no longer exists. */
  find(userId: string): Promise<UserAccess | undefined> {
    const hit = this.entries.get(userId);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    const value = findUserAccess(this.db, userId);
    // A failed lookup is not remembered; only the entry it made is dropped.
    value.catch(() => this.entries.get(userId)?.value === value && this.entries.delete(userId));
    if (this.entries.size > 10_000) this.entries.clear();
    this.entries.set(userId, { at: this.now(), value });
    return value;
  }

  /** Call after the change has committed, so the next lookup cannot read the old row. */
  forget(userId: string): void {
    this.entries.delete(userId);
  }
}
