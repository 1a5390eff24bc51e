import type { ChannelKind, Connector } from '../../connectors/core/types.js';
import { PermanentError } from '../../connectors/core/errors.js';
import type { Database } from '../../storage/database.js';
import { BlobTooLargeError, type LocalBlobStore } from '../../storage/blob-store.js';
import type { SecretBox } from '../../storage/secret-box.js';
import { withAccount } from '../../storage/session.js';
import { getInstallation } from '../../storage/repositories/channels.js';
import type { EventBus } from '../realtime/events.js';
import { RetryLaterError, type Job } from '../queue/jobs.js';

/** WhatsApp keeps a media id for a week at most; past that no retry can succeed. */
export const MEDIA_LIFETIME_MS = 7 * 24 * 3600_000;
/** The largest file WhatsApp carries (documents, 100 MB). */
export const MEDIA_MAX_BYTES = 100 * 1024 * 1024;
const MAX_DELAY_MS = 6 * 3600_000;

interface Deps {
  db: Database;
  box: SecretBox;
  bus: EventBus;
  blobs: LocalBlobStore;
  connectors: () => Map<ChannelKind, Connector>;
  backoffBaseMs: number;
  /** Attempts before a file that keeps failing is given up on, even inside its lifetime. */
  maxAttempts?: number;
  now?: () => number;
}

/**
 * Fetches one attachment a channel gave by reference (`media.fetch`, one job per attachment, after the
 * message's commit). Idempotent: only a `pending` attachment is fetched, and only one still `pending`
 * is written. A refusal for good (the platform no longer has the file, it is too large) marks it
 * `failed` at once; anything else is retried with growing delays while the media can still exist.
 */
export function mediaFetchHandler(deps: Deps) {
  const now = deps.now ?? Date.now;
  const maxAttempts = deps.maxAttempts ?? 40;
  return async (job: Job): Promise<void> => {
    const attachmentId = String(job.payload.attachmentId);
    const found = await withAccount(deps.db, job.accountId, async (tx) => {
      const { rows } = await tx.query<{ ref: string | null; fetchState: string | null; attempts: number; messageId: string; conversationId: string; sentAt: Date | string; channelId: string }>(
        `SELECT a.source_ref AS ref, a.fetch_state AS "fetchState", a.fetch_attempts AS attempts, m.id AS "messageId", m.conversation_id AS "conversationId",
           m.sent_at AS "sentAt", m.channel_id AS "channelId"
         FROM attachments a JOIN messages m ON m.id = a.message_id WHERE a.id = $1::uuid`,
        [attachmentId],
      );
      const row = rows[0];
      if (!row || row.fetchState !== 'pending') return undefined;
      return { row, channel: await getInstallation(tx, deps.box, row.channelId) };
    });
    if (!found) return;
    const { row, channel } = found;
    const settle = async (patch: { state: 'stored' | 'failed' | 'pending'; blobKey?: string; size?: number; mimeType?: string; error?: string }) => {
      await withAccount(deps.db, job.accountId, (tx) =>
        tx.query(
          `UPDATE attachments SET fetch_state = $2, blob_key = coalesce($3, blob_key), size = coalesce($4, size), mime_type = coalesce(mime_type, $5),
             fetch_error = $6, fetch_attempts = fetch_attempts + 1
           WHERE id = $1 AND fetch_state = 'pending'`,
          [attachmentId, patch.state, patch.blobKey ?? null, patch.size ?? null, patch.mimeType ?? null, patch.error ?? null],
        ),
      );
      if (patch.state !== 'pending')
        deps.bus.publish(job.accountId, { type: 'message.updated', conversationId: row.conversationId, messageId: row.messageId, deliveryStatus: null, attachmentId, fetchState: patch.state });
    };
    const connector = channel ? deps.connectors().get(channel.kind) : undefined;
    if (!channel || !connector?.fetchAttachment || !row.ref) {
      await settle({ state: 'failed', error: 'no connector on this hub can fetch this file' });
      return;
    }
    try {
      const got = await connector.fetchAttachment(channel, row.ref, { maxBytes: MEDIA_MAX_BYTES });
      // Streamed from the connector to the blob store, hashed once while written, checked by the connector before it is stored.
      const written = await deps.blobs.writeStream(got.body, { maxBytes: MEDIA_MAX_BYTES, ...(got.verify ? { verify: got.verify } : {}) });
      await settle({ state: 'stored', blobKey: written.key, size: written.size, mimeType: got.mimeType });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const attempts = row.attempts + 1;
      const expired = now() - new Date(row.sentAt).getTime() > MEDIA_LIFETIME_MS;
      if (err instanceof PermanentError || err instanceof BlobTooLargeError || expired || attempts >= maxAttempts) {
        await settle({ state: 'failed', error: reason });
        return;
      }
      await settle({ state: 'pending', error: reason });
      // Not counted as a job failure: this handler keeps its own count and gives up on the file, not the queue.
      throw new RetryLaterError(`file not fetched yet (attempt ${attempts}): ${reason}`, Math.min(deps.backoffBaseMs * 2 ** (attempts - 1), MAX_DELAY_MS));
    }
  };
}
