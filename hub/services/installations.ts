import type { ChannelInstallation, ChannelKind } from '../../connectors/core/types.js';
import type { Database } from '../../storage/database.js';
import type { SecretBox } from '../../storage/secret-box.js';
import { findInstallation } from '../../storage/repositories/channels.js';

type Lookup = { kind: ChannelKind; externalKey?: string; id?: string };

/**
 * Installations by webhook key, kept for a few seconds: every inbound request needs one, and a
 * lookup plus a decryption per request cost as much as the ingest itself. A change made in this
 * process applies at once (`forget`); one made in another process within `ttlMs`.
 */
export class InstallationCache {
  private readonly entries = new Map<string, { at: number; value: Promise<ChannelInstallation | undefined> }>();

  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
    private readonly ttlMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  find(by: Lookup): Promise<ChannelInstallation | undefined> {
    const key = `${by.kind}|${by.id ?? ''}|${by.externalKey ?? ''}`;
    const hit = this.entries.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    const value = findInstallation(this.db, this.box, by);
    // A failed lookup is not remembered.
    value.catch(() => this.entries.delete(key));
    if (this.entries.size > 10_000) this.entries.clear();
    this.entries.set(key, { at: this.now(), value });
    return value;
  }

  forget(): void {
    this.entries.clear();
  }
}
