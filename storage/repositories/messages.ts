import type { AttachmentKind, DeliveryStatus } from '../../connectors/core/types.js';
import { queryPrepared, type Queryable } from '../database.js';
import { displayNameOrNull, withoutNul } from '../../connectors/core/text.js';

export type MessageDeliveryStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'read' | 'failed' | 'unknown';

export interface MessageRow {
  id: string;
  conversationId: string;
  channelId: string;
  direction: 'inbound' | 'outbound';
  authorKind: 'contact' | 'agent' | 'ai' | 'system';
  authorUserId: string | null;
  authorName: string | null;
  /** Who really sent an inbound message (a contact identity): not necessarily the conversation's contact. Null for older messages and our own. */
  sender: MessageSender | null;
  /** `participant_joined` on the agent-only "X joined this thread" note (author_kind system). */
  notice: string | null;
  /** Email: the DMARC/DKIM verdict of the mailbox's own receiving server on From (`pass`, `fail`, `none`); null when it gave none. */
  authentication: 'pass' | 'fail' | 'none' | null;
  isPrivate: boolean;
  text: string;
  html: string | null;
  externalId: string | null;
  inReplyTo: string | null;
  deliveryStatus: MessageDeliveryStatus | null;
  deliveryError: string | null;
  autoReply: boolean;
  sentAt: string;
  createdAt: string;
  metadata: Record<string, unknown>;
  attachments: { id: string; kind: AttachmentKind; name: string | null; mimeType: string | null; size: number | null; contentId: string | null; fetchState: 'pending' | 'retrying' | 'stored' | 'failed' | null; fetchError: string | null }[];
}

export interface MessageSender {
  identityId: string;
  contactId: string;
  name: string | null;
  /** Email address, phone number, … as the channel gave it. */
  address: string | null;
}

// A customer message is shown as written by its sender's contact; messages stored before senders were kept, by the conversation's.
const COLUMNS = `m.id, m.conversation_id AS "conversationId", m.channel_id AS "channelId", m.direction,
  m.author_kind AS "authorKind", m.author_user_id AS "authorUserId",
  coalesce(u.name, CASE WHEN m.author_kind = 'contact' THEN CASE WHEN si.id IS NULL THEN ct.name ELSE coalesce(sc.name, si.display_name, si.address, si.external_id) END END, m.metadata->'staff'->>'name') AS "authorName",
  CASE WHEN si.id IS NULL THEN NULL ELSE json_build_object('identityId', si.id, 'contactId', si.contact_id, 'name', coalesce(sc.name, si.display_name), 'address', si.address) END AS sender,
  m.metadata->>'notice' AS notice, m.metadata->>'authentication' AS authentication,
  m.is_private AS "isPrivate", m.text, m.html, m.external_id AS "externalId", m.in_reply_to AS "inReplyTo",
  m.delivery_status AS "deliveryStatus", m.delivery_error AS "deliveryError", m.auto_reply AS "autoReply",
  m.sent_at AS "sentAt", m.created_at AS "createdAt", m.metadata,
  coalesce((SELECT json_agg(json_build_object('id', a.id, 'kind', a.kind, 'name', a.name, 'mimeType', a.mime_type,
    'size', a.size, 'contentId', a.content_id, 'fetchState', a.fetch_state, 'fetchError', a.fetch_error) ORDER BY a.created_at) FROM attachments a WHERE a.message_id = m.id), '[]') AS attachments`;
const FROM = `messages m JOIN conversations c ON c.id = m.conversation_id JOIN contacts ct ON ct.id = c.contact_id
  LEFT JOIN users u ON u.id = m.author_user_id
  LEFT JOIN contact_identities si ON si.id = m.sender_identity_id LEFT JOIN contacts sc ON sc.id = si.contact_id`;

export interface NewMessage {
  accountId: string;
  conversationId: string;
  channelId: string;
  direction: 'inbound' | 'outbound';
  authorKind: MessageRow['authorKind'];
  authorUserId?: string | null;
  isPrivate?: boolean;
  text: string;
  html?: string | null;
  externalId?: string | null;
  inReplyTo?: string | null;
  deliveryStatus?: MessageDeliveryStatus | null;
  autoReply?: boolean;
  sentAt?: string;
  metadata?: Record<string, unknown>;
}

/** Inserts once per (channel, external id); returns undefined for a duplicate delivery. Text from an agent's Slack or Teams reply may hold NUL, which Postgres cannot: it goes. */
export async function insertMessage(tx: Queryable, m: NewMessage): Promise<{ id: string } | undefined> {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO messages (account_id, conversation_id, channel_id, direction, author_kind, author_user_id, is_private,
       text, html, external_id, in_reply_to, delivery_status, auto_reply, sent_at, metadata)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, coalesce($14::timestamptz, now()), $15)
     ON CONFLICT (channel_id, external_id) DO NOTHING RETURNING id`,
    [m.accountId, m.conversationId, m.channelId, m.direction, m.authorKind, m.authorUserId ?? null, m.isPrivate ?? false,
      withoutNul(m.text), m.html == null ? null : withoutNul(m.html), m.externalId ?? null, m.inReplyTo ?? null, m.deliveryStatus ?? null, m.autoReply ?? false,
      m.sentAt ?? null, m.metadata ?? {}],
  );
  return rows[0];
}

export async function insertAttachments(
  tx: Queryable,
  accountId: string,
  messageId: string,
  attachments: { kind: AttachmentKind; name?: string; mimeType?: string; size?: number; ref?: string; blobKey?: string; contentId?: string; fetchState?: 'pending' }[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const a of attachments) {
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO attachments (account_id, message_id, kind, name, mime_type, size, source_ref, blob_key, content_id, fetch_state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
      [accountId, messageId, a.kind, displayNameOrNull(a.name) ?? null, a.mimeType ?? null, a.size ?? null, a.ref ?? null, a.blobKey ?? null, a.contentId ?? null, a.fetchState ?? null],
    );
    ids.push(rows[0]!.id);
  }
  return ids;
}

/** One attachment of a conversation's message, with where its bytes are; undefined when it is not in that conversation. */
export async function getConversationAttachment(
  tx: Queryable,
  conversationId: string,
  attachmentId: string,
): Promise<{ id: string; name: string | null; mimeType: string | null; size: number | null; blobKey: string | null; fetchState: string | null } | undefined> {
  const { rows } = await tx.query<{ id: string; name: string | null; mimeType: string | null; size: number | null; blobKey: string | null; fetchState: string | null }>(
    `SELECT a.id, a.name, a.mime_type AS "mimeType", a.size, a.blob_key AS "blobKey", a.fetch_state AS "fetchState"
     FROM attachments a JOIN messages m ON m.id = a.message_id WHERE a.id = $1 AND m.conversation_id = $2`,
    [attachmentId, conversationId],
  );
  return rows[0];
}

export async function getMessage(tx: Queryable, id: string): Promise<MessageRow | undefined> {
  return (await tx.query<MessageRow>(`SELECT ${COLUMNS} FROM ${FROM} WHERE m.id = $1`, [id])).rows[0];
}

/**
 * SQL (a scalar subquery) for a conversation's first `limit` messages, oldest first, as a JSON array of
 * MessageRow (times as ISO strings): read with the rest of a statement (a surface sync's snapshot).
 */
export const MESSAGES_JSON = (conversationParam: string, limit: number) =>
  `(SELECT json_agg(x ORDER BY x."sentAt", x.id) FROM (SELECT ${COLUMNS} FROM ${FROM} WHERE m.conversation_id = ${conversationParam}
     ORDER BY m.sent_at, m.id LIMIT ${Math.floor(limit)}) x)`;

/** Oldest first; `cursorAt` is sent_at at full microsecond precision, which a JS Date would truncate. */
export async function listMessages(
  tx: Queryable,
  conversationId: string,
  opts: { limit: number; after?: { sentAt: string; id: string } },
): Promise<(MessageRow & { cursorAt: string })[]> {
  // Prepared where the adapter can: every surface sync lists its conversation's messages.
  const { rows } = await queryPrepared<MessageRow & { cursorAt: string }>(tx, 'hd_list_messages',
    `SELECT ${COLUMNS}, m.sent_at::text AS "cursorAt" FROM ${FROM} WHERE m.conversation_id = $1
       AND ($2::timestamptz IS NULL OR (m.sent_at, m.id) > ($2::timestamptz, $3::uuid))
     ORDER BY m.sent_at, m.id LIMIT $4`,
    [conversationId, opts.after?.sentAt ?? null, opts.after?.id ?? null, opts.limit],
  );
  return rows;
}

/** The newest `limit` messages customers see (no internal notes), oldest first: one index range, whatever the conversation's length. */
export async function latestPublicMessages(tx: Queryable, conversationId: string, limit: number): Promise<MessageRow[]> {
  // Prepared, its generic plan (one index range whatever the values): every analysis reads it, and planning
  // this six-table join each time cost PostgreSQL ~8× its execution (bench ai-stage).
  const { rows } = await queryPrepared<MessageRow>(tx, 'hd_latest_public_messages',
    `SELECT ${COLUMNS} FROM ${FROM} WHERE m.conversation_id = $1 AND NOT m.is_private ORDER BY m.sent_at DESC, m.id DESC LIMIT $2`,
    [conversationId, limit], { genericPlan: true },
  );
  return rows.reverse();
}

const STATUS_RANK: Record<DeliveryStatus, number> = { sent: 1, delivered: 2, read: 3, failed: 4 };

/** Applies a receipt; receipts arrive out of order, so a status never moves backwards. */
export async function applyDeliveryStatus(
  tx: Queryable,
  channelId: string,
  externalId: string,
  status: DeliveryStatus,
  error?: string,
): Promise<{ id: string; conversationId: string } | undefined> {
  const { rows } = await tx.query<{ id: string; conversationId: string }>(
    `UPDATE messages SET delivery_status = $3, delivery_error = $4
     WHERE channel_id = $1 AND external_id = $2 AND direction = 'outbound'
       AND coalesce(CASE delivery_status WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 WHEN 'failed' THEN 4 ELSE 0 END, 0) < $5
     RETURNING id, conversation_id AS "conversationId"`,
    [channelId, externalId, status, error ?? null, STATUS_RANK[status]],
  );
  return rows[0];
}

/**
 * A watermark (Messenger delivery or read): every outbound message of the thread sent at or before
 * `upTo` takes `status`, unless it is already as far or further (failed stays failed).
 */
export async function applyDeliveryWatermark(
  tx: Queryable,
  channelId: string,
  threadKey: string,
  status: 'delivered' | 'read',
  upTo: string,
): Promise<{ id: string; conversationId: string }[]> {
  const { rows } = await tx.query<{ id: string; conversationId: string }>(
    `UPDATE messages m SET delivery_status = $3, delivery_error = NULL
     FROM conversations c
     WHERE c.channel_id = $1 AND c.thread_key = $2 AND m.conversation_id = c.id AND m.channel_id = $1
       AND m.direction = 'outbound' AND m.external_id IS NOT NULL AND m.sent_at <= $4::timestamptz
       AND coalesce(CASE m.delivery_status WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 WHEN 'failed' THEN 4 ELSE 0 END, 0) < $5
     RETURNING m.id, m.conversation_id AS "conversationId"`,
    [channelId, threadKey, status, upTo, STATUS_RANK[status]],
  );
  return rows;
}

/**
 * Its author edited a message they wrote on the platform (a customer's, or our staff's in a shared
 * channel): the text follows. Our own sends are never matched. A later edit never loses to an older one.
 */
export async function editMessage(tx: Queryable, channelId: string, externalId: string, text: string, editedAt: string): Promise<{ id: string; conversationId: string } | undefined> {
  const { rows } = await tx.query<{ id: string; conversationId: string }>(
    `UPDATE messages SET text = $3, html = NULL, metadata = metadata - 'fullText' || jsonb_build_object('editedAt', $4::text)
     WHERE channel_id = $1 AND external_id = $2 AND (direction = 'inbound' OR metadata ? 'staff') AND NOT metadata ? 'deletedAt'
       AND (metadata->>'editedAt' IS NULL OR (metadata->>'editedAt')::timestamptz <= $4::timestamptz)
     RETURNING id, conversation_id AS "conversationId"`,
    [channelId, externalId, withoutNul(text), editedAt],
  );
  return rows[0];
}

/** Its author deleted it on the platform: text and files go, the row stays (the conversation keeps its shape). */
export async function redactMessage(tx: Queryable, channelId: string, externalId: string, deletedAt: string): Promise<{ id: string; conversationId: string } | undefined> {
  const { rows } = await tx.query<{ id: string; conversationId: string }>(
    `UPDATE messages SET text = '', html = NULL, metadata = metadata - 'fullText' - 'editedAt' || jsonb_build_object('deletedAt', $3::text)
     WHERE channel_id = $1 AND external_id = $2 AND (direction = 'inbound' OR metadata ? 'staff') AND NOT metadata ? 'deletedAt'
     RETURNING id, conversation_id AS "conversationId"`,
    [channelId, externalId, deletedAt],
  );
  const hit = rows[0];
  if (hit) await tx.query(`DELETE FROM attachments WHERE message_id = $1`, [hit.id]);
  return hit;
}

const RANK_SQL = (col: string) => `coalesce(CASE ${col} WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 WHEN 'failed' THEN 4 ELSE 0 END, 0)`;

/**
 * A receipt that names our message by the id we gave the send (WhatsApp `biz_opaque_callback_data`)
 * while we hold no platform id for it: the send was cut off before its answer was stored. The
 * platform id is taken from the receipt, so this and later receipts apply.
 */
export async function claimSendByReference(tx: Queryable, channelId: string, messageId: string, externalId: string): Promise<boolean> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(messageId)) return false;
  const { rowCount } = await tx.query(
    `UPDATE messages SET external_id = $3, delivery_error = NULL
     WHERE id = $2 AND channel_id = $1 AND direction = 'outbound' AND external_id IS NULL`,
    [channelId, messageId, externalId],
  );
  return rowCount > 0;
}

/**
 * Serialises, per channel, a receipt that found no send with the recording of a send's id (both take it
 * before touching either): otherwise a receipt checked just before the id's commit and kept just after
 * the send looked for kept receipts would wait forever. Held to the end of the transaction.
 */
export async function lockReceipts(tx: Queryable, channelId: string): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('hummdesk receipts ' || $1::text))`, [channelId]);
}

/** Whether a message of this channel already carries `externalId` (a receipt that did not apply came late, not early). */
export async function isOurSend(tx: Queryable, channelId: string, externalId: string): Promise<boolean> {
  const { rows } = await tx.query(`SELECT 1 FROM messages WHERE channel_id = $1 AND external_id = $2 LIMIT 1`, [channelId, externalId]);
  return rows.length > 0;
}

/** How long a receipt waits for its send; a send is recorded within seconds, so older ones were never ours. */
const PENDING_STATUS_DAYS = 7;

/** Keeps a receipt for a send not recorded yet: the furthest state seen wins, as on the message itself. */
export async function keepPendingStatus(tx: Queryable, accountId: string, channelId: string, externalId: string, status: DeliveryStatus, error?: string): Promise<void> {
  await tx.query(`DELETE FROM pending_delivery_statuses WHERE channel_id = $1 AND received_at < now() - make_interval(days => $2)`, [channelId, PENDING_STATUS_DAYS]);
  await tx.query(
    `INSERT INTO pending_delivery_statuses AS p (account_id, channel_id, external_id, status, error) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (channel_id, external_id) DO UPDATE SET status = EXCLUDED.status, error = EXCLUDED.error, received_at = now()
       WHERE ${RANK_SQL('p.status')} < ${RANK_SQL('EXCLUDED.status')}`,
    [accountId, channelId, externalId, status, error ?? null],
  );
}

/** Applies (and forgets) the receipt kept for `externalId` before its send was recorded; the new state, if any. */
export async function applyPendingStatuses(tx: Queryable, channelId: string, externalId: string): Promise<DeliveryStatus | undefined> {
  const { rows } = await tx.query<{ status: DeliveryStatus; error: string | null }>(
    `DELETE FROM pending_delivery_statuses WHERE channel_id = $1 AND external_id = $2 RETURNING status, error`,
    [channelId, externalId],
  );
  const kept = rows[0];
  if (!kept) return undefined;
  return (await applyDeliveryStatus(tx, channelId, externalId, kept.status, kept.error ?? undefined)) ? kept.status : undefined;
}

/** Keeps a watermark for sends of the thread not recorded yet: the latest time per state wins. */
export async function keepWatermark(tx: Queryable, accountId: string, channelId: string, threadKey: string, status: 'delivered' | 'read', upTo: string): Promise<void> {
  await tx.query(`DELETE FROM pending_delivery_watermarks WHERE channel_id = $1 AND received_at < now() - make_interval(days => $2)`, [channelId, PENDING_STATUS_DAYS]);
  await tx.query(
    `INSERT INTO pending_delivery_watermarks AS w (account_id, channel_id, thread_key, status, up_to) VALUES ($1, $2, $3, $4, $5::timestamptz)
     ON CONFLICT (channel_id, thread_key, status) DO UPDATE SET up_to = greatest(w.up_to, EXCLUDED.up_to), received_at = now()`,
    [accountId, channelId, threadKey, status, upTo],
  );
}

/** Applies the watermarks kept for a thread to its sends recorded since (delivered first, so read wins); the furthest state given to `messageId`. */
export async function applyKeptWatermarks(tx: Queryable, channelId: string, threadKey: string, messageId: string): Promise<'delivered' | 'read' | undefined> {
  const { rows } = await tx.query<{ status: 'delivered' | 'read'; upTo: string }>(
    `SELECT status, up_to AS "upTo" FROM pending_delivery_watermarks WHERE channel_id = $1 AND thread_key = $2 ORDER BY status = 'read'`,
    [channelId, threadKey],
  );
  let applied: 'delivered' | 'read' | undefined;
  for (const w of rows) {
    const hits = await applyDeliveryWatermark(tx, channelId, threadKey, w.status, new Date(w.upTo).toISOString());
    if (hits.some((h) => h.id === messageId)) applied = w.status;
  }
  return applied;
}

/** Marks the delivery state of one of our outbound messages (queued → sending → sent | failed | unknown). */
export async function setDelivery(
  tx: Queryable,
  id: string,
  patch: { status: MessageDeliveryStatus; error?: string | null; externalId?: string; sentAt?: string; expect?: MessageDeliveryStatus[] },
): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE messages SET delivery_status = $2, delivery_error = $3, external_id = coalesce($4, external_id),
       sent_at = coalesce($5::timestamptz, sent_at)
     WHERE id = $1 AND ($6::text[] IS NULL OR delivery_status = ANY($6))`,
    [id, patch.status, patch.error ?? null, patch.externalId ?? null, patch.sentAt ?? null, patch.expect ?? null],
  );
  return rowCount > 0;
}
