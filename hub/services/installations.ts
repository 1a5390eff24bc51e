import type { ChannelInstallation, ChannelKind } from '../../connectors/core/types.js';
import type { Database } from '../../storage/database.js';
import type { SecretBox } from '../../storage/secret-box.js';
import { findInstallation } from '../../storage/repositories/channels.js';
import { ExpiringCache } from './expiring-cache.js';

type Lookup = { kind: ChannelKind; externalKey?: string; id?: string };

/**
 * Installations by webhook key, kept for a few seconds: every inbound request needs one, and a
 * lookup plus a decryption per request cost as much as the ingest itself. A change made in this
 * process applies at once (`forget`); one made in another process within `ttlMs`.
 */
export class InstallationCache {
  private readonly cache: ExpiringCache<ChannelInstallation | undefined>;

  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
    ttlMs = 5_000,
    now: () => number = Date.now,
  ) {
    this.cache = new ExpiringCache(ttlMs, now);
  }

  find(by: Lookup): Promise<ChannelInstallation | undefined> {
    return this.cache.get(`${by.kind}|${by.id ?? ''}|${by.externalKey ?? ''}`, () => findInstallation(this.db, this.box, by));
  }

  forget(): void {
    this.cache.forget();
  }
}
