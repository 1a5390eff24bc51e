import { createHmac } from 'node:crypto';
import type { Database, Queryable } from '../../storage/database.js';
import { deriveKey } from '../../storage/secret-box.js';
import { setAccount } from '../../storage/session.js';
import { recentUploadBytes } from '../../storage/repositories/uploads.js';
import { HubError } from '../errors.js';
import type { HubConfig } from '../config.js';

export type UploadQuota = HubConfig['uploadQuota'];

/** Who is uploading: the channel, its account, the visitor, and the client address as a keyed hash. */
export interface Uploader {
  accountId: string;
  channelId: string;
  visitorId: string;
  address: string;
}

/** The stored form of a client address: a keyed hash, so the uploads table holds no addresses. */
export const addressKey = (secretKey: Buffer, address: string) => createHmac('sha256', deriveKey(secretKey, 'upload-address')).update(address).digest('hex');

const MB = 1024 * 1024;
const mb = (bytes: number) => `${Math.round((bytes / MB) * 10) / 10} MB`;

/**
 * Web chat upload quotas: anonymous visitors cost nothing to make, so bytes are limited per visitor, per
 * client address and per channel within a rolling window (HUMMDESK_UPLOAD_QUOTA_*). Over one, 429
 * `upload_quota_exceeded` names the scope in `details`.
 */
export class UploadQuotas {
  constructor(
    private readonly db: Database,
    private readonly quota: UploadQuota,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Refuses before the body is read when `bytes` more cannot fit. */
  async check(who: Uploader, bytes: number): Promise<void> {
    this.refuseOver(await this.used(this.db, who), bytes);
  }

  /**
   * Stores an upload within the quotas: the check and the insert run in one transaction holding the
   * channel's and the address's locks, so concurrent uploads cannot together overshoot. `store` runs as
   * the channel's tenant.
   */
  async within<T>(who: Uploader, bytes: number, store: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      // Always channel then address: one order, so two uploads never wait on each other's lock.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0)), pg_advisory_xact_lock(hashtextextended($2, 0))`, [
        `upload-quota:channel:${who.channelId}`,
        `upload-quota:address:${who.address}`,
      ]);
      this.refuseOver(await this.used(tx, who), bytes);
      await setAccount(tx, who.accountId);
      return store(tx);
    });
  }

  private used(db: Queryable, who: Uploader) {
    const since = new Date(this.now().getTime() - this.quota.windowHours * 3_600_000);
    return recentUploadBytes(db, { channelId: who.channelId, uploader: who.visitorId, address: who.address, since });
  }

  private refuseOver(used: { visitor: number; channel: number; address: number }, bytes: number): void {
    const { windowHours } = this.quota;
    const limits = [
      ['visitor', this.quota.visitorBytes, used.visitor, 'this visitor'],
      ['address', this.quota.addressBytes, used.address, 'this network'],
      ['channel', this.quota.channelBytes, used.channel, 'this chat'],
    ] as const;
    for (const [scope, limitBytes, usedBytes, whose] of limits) {
      if (usedBytes + bytes > limitBytes)
        throw new HubError(429, 'upload_quota_exceeded', `${whose} may upload at most ${mb(limitBytes)} in ${windowHours} h; try again later`, { scope, limitBytes, windowHours });
    }
  }
}
