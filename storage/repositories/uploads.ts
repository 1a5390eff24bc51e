import type { AttachmentKind } from '../../connectors/core/types.js';
import type { Queryable } from '../database.js';
import { displayName } from '../../connectors/core/text.js';

export interface UploadRow {
  id: string;
  name: string;
  mimeType: string;
  size: number;
  blobKey: string;
}

export async function insertUpload(
  tx: Queryable,
  u: { accountId: string; channelId: string; uploader: string; name: string; mimeType: string; size: number; blobKey: string; uploaderAddress?: string; byAgent?: boolean },
): Promise<{ id: string }> {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO uploads (account_id, channel_id, uploader, name, mime_type, size, blob_key, uploader_address, by_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
    [u.accountId, u.channelId, u.uploader, displayName(u.name), u.mimeType, u.size, u.blobKey, u.uploaderAddress ?? null, u.byAgent ?? false],
  );
  return rows[0]!;
}

/**
 * Gives unclaimed uploads of this uploader on this channel to a message, as attachment inputs in the
 * order asked; undefined when any id is unknown, someone else's, or already sent.
 */
export async function claimUploads(
  tx: Queryable,
  q: { channelId: string; uploader: string; messageId: string; ids: string[]; byAgent?: boolean },
): Promise<{ kind: AttachmentKind; name: string; mimeType: string; size: number; blobKey: string }[] | undefined> {
  const { rows } = await tx.query<UploadRow>(
    `UPDATE uploads SET message_id = $1 WHERE id = ANY($2::uuid[]) AND channel_id = $3 AND uploader = $4 AND message_id IS NULL AND by_agent = $5
     RETURNING id, name, mime_type AS "mimeType", size, blob_key AS "blobKey"`,
    [q.messageId, q.ids, q.channelId, q.uploader, q.byAgent ?? false],
  );
  if (rows.length !== q.ids.length) return undefined;
  const byId = new Map(rows.map((r) => [r.id, r]));
  return q.ids.map((id) => {
    const r = byId.get(id)!;
    return { kind: r.mimeType.startsWith('image/') ? 'image' : 'file', name: r.name, mimeType: r.mimeType, size: r.size, blobKey: r.blobKey };
  });
}

/** The unclaimed uploads of this uploader on this channel among `ids` (name, type, size), to check a reply's files before it is stored. */
export async function pendingUploads(tx: Queryable, q: { channelId: string; uploader: string; ids: string[]; byAgent?: boolean }): Promise<UploadRow[]> {
  const { rows } = await tx.query<UploadRow>(
    `SELECT id, name, mime_type AS "mimeType", size, blob_key AS "blobKey" FROM uploads WHERE id = ANY($1::uuid[]) AND channel_id = $2 AND uploader = $3 AND message_id IS NULL AND by_agent = $4`,
    [q.ids, q.channelId, q.uploader, q.byAgent ?? false],
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  return q.ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
}

/** An attachment of a message in this conversation that the contact may see (not on a private note). */
export async function findPublicAttachment(
  tx: Queryable,
  conversationId: string,
  attachmentId: string,
): Promise<{ name: string | null; mimeType: string | null; blobKey: string } | undefined> {
  const { rows } = await tx.query<{ name: string | null; mimeType: string | null; blobKey: string }>(
    `SELECT a.name, a.mime_type AS "mimeType", a.blob_key AS "blobKey" FROM attachments a JOIN messages m ON m.id = a.message_id
     WHERE a.id = $1 AND m.conversation_id = $2 AND NOT m.is_private AND a.blob_key IS NOT NULL`,
    [attachmentId, conversationId],
  );
  return rows[0];
}

/**
 * Locks a batch of uploads, of every account, that no message claimed before `cutoff`; SKIP LOCKED
 * lets sweeps in other processes take other rows, and a visitor's claim in flight keeps its row.
 */
export async function lockExpiredUploads(tx: Queryable, cutoff: Date, limit: number): Promise<{ id: string; accountId: string }[]> {
  const { rows } = await tx.query<{ id: string; accountId: string }>(
    `SELECT id, account_id AS "accountId" FROM uploads WHERE message_id IS NULL AND created_at < $1
     ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [cutoff, limit],
  );
  return rows;
}

/** Deletes these uploads if still unclaimed; returns the blob key of each row deleted. */
export async function deleteUnclaimedUploads(tx: Queryable, ids: string[]): Promise<string[]> {
  const { rows } = await tx.query<{ blobKey: string }>(
    `DELETE FROM uploads WHERE id = ANY($1::uuid[]) AND message_id IS NULL RETURNING blob_key AS "blobKey"`,
    [ids],
  );
  return rows.map((r) => r.blobKey);
}

/** Which of these blob keys an attachment or upload of any account still names (blobs are shared by content). */
export async function referencedBlobKeys(db: Queryable, keys: string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ key: string }>(
    `SELECT blob_key AS key FROM attachments WHERE blob_key = ANY($1::text[])
     UNION SELECT blob_key FROM uploads WHERE blob_key = ANY($1::text[])`,
    [keys],
  );
  return new Set(rows.map((r) => r.key));
}

/**
 * Bytes uploaded since `since` by this visitor on this channel, on this channel, and from this address on
 * any channel of any account (an address is the hub's to limit, not a tenant's); read as the owner, before a tenant is set.
 */
export async function recentUploadBytes(
  db: Queryable,
  q: { channelId: string; uploader: string; address: string; since: Date },
): Promise<{ visitor: number; channel: number; address: number }> {
  const { rows } = await db.query<{ visitor: string; channel: string; address: string }>(
    `SELECT coalesce(sum(size) FILTER (WHERE channel_id = $1 AND uploader = $2), 0) AS visitor,
            coalesce(sum(size) FILTER (WHERE channel_id = $1), 0) AS channel,
            coalesce(sum(size) FILTER (WHERE uploader_address = $3), 0) AS address
     FROM uploads WHERE created_at > $4 AND (channel_id = $1 OR uploader_address = $3) AND NOT by_agent`,
    [q.channelId, q.uploader, q.address, q.since],
  );
  const r = rows[0]!;
  return { visitor: Number(r.visitor), channel: Number(r.channel), address: Number(r.address) };
}
