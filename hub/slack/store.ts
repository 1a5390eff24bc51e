import type { ChannelInstallation } from '../../connectors/core/types.js';
import type { Queryable } from '../../storage/database.js';
import type { SecretBox } from '../../storage/secret-box.js';
import type { DraftRow } from '../../storage/repositories/ai.js';
import { displayName } from '../../connectors/core/text.js';

/** Slack-side state of the hub: installations, conversation threads, agent posts. Every call runs inside a tenant transaction. */

export interface SlackThreadData {
  installationId: string;
  slackTeam: string;
  channel: string;
  ts: string;
  /** Hash of the root's last rendering; chat.update only when it changes. */
  rootHash?: string;
  /** HummDesk message id → the Slack reply that mirrors it and the state it last showed. */
  posted: Record<string, { ts: string; state: string; /** How many of the message's files are in the thread. */ files?: number }>;
  movedTo?: string;
}

export interface SlackThread {
  id: string;
  conversationId: string;
  surfaceKey: string;
  data: SlackThreadData;
  active: boolean;
}

export async function listSlackInstallations(tx: Queryable, box: SecretBox): Promise<ChannelInstallation[]> {
  const { rows } = await tx.query<{ id: string; accountId: string; externalKey: string; teamId: string | null; config: Record<string, unknown>; secretsEnc: string | null }>(
    `SELECT id, account_id AS "accountId", external_key AS "externalKey", team_id AS "teamId", config, secrets_enc AS "secretsEnc"
     FROM channels WHERE kind = 'slack' AND enabled ORDER BY created_at, id`,
  );
  return rows.map((r) => ({ id: r.id, accountId: r.accountId, kind: 'slack', externalKey: r.externalKey, teamId: r.teamId, config: r.config, secrets: box.open(r.secretsEnc) }));
}

const THREAD_COLUMNS = `id, conversation_id AS "conversationId", surface_key AS "surfaceKey", data, active`;

export async function activeThread(tx: Queryable, conversationId: string): Promise<SlackThread | undefined> {
  return (await tx.query<SlackThread>(`SELECT ${THREAD_COLUMNS} FROM surface_threads WHERE conversation_id = $1 AND surface = 'slack' AND active ORDER BY created_at DESC LIMIT 1`, [conversationId])).rows[0];
}

export async function threadByKey(tx: Queryable, surfaceKey: string): Promise<SlackThread | undefined> {
  return (await tx.query<SlackThread>(`SELECT ${THREAD_COLUMNS} FROM surface_threads WHERE surface = 'slack' AND surface_key = $1`, [surfaceKey])).rows[0];
}

export async function insertThread(tx: Queryable, t: { accountId: string; conversationId: string; data: SlackThreadData }): Promise<SlackThread> {
  const { rows } = await tx.query<SlackThread>(
    `INSERT INTO surface_threads (account_id, conversation_id, surface, surface_key, data) VALUES ($1, $2, 'slack', $3, $4) RETURNING ${THREAD_COLUMNS}`,
    [t.accountId, t.conversationId, `${t.data.channel}:${t.data.ts}`, t.data],
  );
  return rows[0]!;
}

export async function saveThread(tx: Queryable, id: string, data: SlackThreadData, active = true): Promise<void> {
  await tx.query(`UPDATE surface_threads SET data = $2, active = $3 WHERE id = $1`, [id, data, active]);
}

/**
 * Serialises syncs of one conversation, so a root is posted once and replies keep their order.
 * An advisory lock, not the row's: ingest updates the conversation row and must never wait for Slack.
 */
export async function lockConversation(tx: Queryable, id: string): Promise<boolean> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('hummdesk.slack.sync'), hashtext($1::text))`, [id]);
  return (await tx.query(`SELECT id FROM conversations WHERE id = $1`, [id])).rowCount > 0;
}

export async function proposedDraft(tx: Queryable, conversationId: string): Promise<Pick<DraftRow, 'id' | 'text' | 'citations' | 'extractive'> | undefined> {
  return (await tx.query<Pick<DraftRow, 'id' | 'text' | 'citations' | 'extractive'>>(
    `SELECT id, text, citations, extractive FROM drafts WHERE conversation_id = $1 AND status = 'proposed' ORDER BY created_at DESC LIMIT 1`,
    [conversationId],
  )).rows[0];
}

/** Claims a Slack post for conversion into a HummDesk message; false when another delivery of it already did. */
export async function claimAgentPost(tx: Queryable, p: { accountId: string; installationId: string; postKey: string; conversationId: string; userId: string; text: string }): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO slack_agent_posts (account_id, installation_id, post_key, conversation_id, user_id, text) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
    [p.accountId, p.installationId, p.postKey, p.conversationId, p.userId, p.text],
  );
  return rowCount > 0;
}

export async function settleAgentPost(tx: Queryable, installationId: string, postKey: string, messageId: string | null): Promise<void> {
  if (messageId) await tx.query(`UPDATE slack_agent_posts SET message_id = $3 WHERE installation_id = $1 AND post_key = $2`, [installationId, postKey, messageId]);
  else await tx.query(`DELETE FROM slack_agent_posts WHERE installation_id = $1 AND post_key = $2`, [installationId, postKey]);
}

/** Messages that were written in Slack: their text is already in the thread. */
export async function slackOriginMessages(tx: Queryable, conversationId: string): Promise<Set<string>> {
  // A post whose message id is not recorded yet (its reply committed a moment ago) is matched by author and text.
  const { rows } = await tx.query<{ messageId: string }>(
    `SELECT m.id AS "messageId" FROM messages m JOIN slack_agent_posts p ON p.conversation_id = m.conversation_id
     WHERE m.conversation_id = $1 AND (p.message_id = m.id OR (p.message_id IS NULL AND p.user_id = m.author_user_id AND p.text = m.text))`,
    [conversationId],
  );
  return new Set(rows.map((r) => r.messageId));
}

export async function userBySlackId(tx: Queryable, slackUserId: string): Promise<{ id: string; name: string } | undefined> {
  return (await tx.query<{ id: string; name: string }>(`SELECT id, name FROM users WHERE slack_user_id = $1 AND role <> 'viewer' ORDER BY created_at LIMIT 1`, [slackUserId])).rows[0];
}

export async function linkUserByEmail(tx: Queryable, email: string, slackUserId: string): Promise<{ id: string; name: string } | undefined> {
  return (await tx.query<{ id: string; name: string }>(
    `UPDATE users SET slack_user_id = $2 WHERE id = (SELECT id FROM users WHERE lower(email) = lower($1) AND role <> 'viewer' LIMIT 1) RETURNING id, name`,
    [email, slackUserId],
  )).rows[0];
}

/** Files of a conversation's Slack messages not fetched yet: their bytes are still only in Slack. */
export async function unfetchedSlackFiles(tx: Queryable, conversationId: string): Promise<{ id: string; ref: string; installationId: string }[]> {
  return (await tx.query<{ id: string; ref: string; installationId: string }>(
    `SELECT a.id, a.source_ref AS ref, m.channel_id AS "installationId" FROM attachments a JOIN messages m ON m.id = a.message_id JOIN channels ch ON ch.id = m.channel_id
     WHERE m.conversation_id = $1 AND ch.kind = 'slack' AND a.blob_key IS NULL AND a.source_ref IS NOT NULL ORDER BY a.created_at`,
    [conversationId],
  )).rows;
}

export async function setFileBlob(tx: Queryable, attachmentId: string, blobKey: string, size: number): Promise<void> {
  await tx.query(`UPDATE attachments SET blob_key = $2, size = $3 WHERE id = $1 AND blob_key IS NULL`, [attachmentId, blobKey, size]);
}

export interface StoredFile {
  id: string;
  name: string;
  mimeType: string;
  blobKey: string;
}

/** Every stored file of a conversation, by message. */
export async function conversationFiles(tx: Queryable, conversationId: string): Promise<Map<string, StoredFile[]>> {
  const { rows } = await tx.query<StoredFile & { messageId: string }>(
    `SELECT a.id, a.message_id AS "messageId", coalesce(a.name, 'attachment') AS name, coalesce(a.mime_type, 'application/octet-stream') AS "mimeType", a.blob_key AS "blobKey"
     FROM attachments a JOIN messages m ON m.id = a.message_id WHERE m.conversation_id = $1 AND a.blob_key IS NOT NULL ORDER BY a.created_at, a.id`,
    [conversationId],
  );
  const byMessage = new Map<string, StoredFile[]>();
  for (const { messageId, ...f } of rows) byMessage.set(messageId, [...(byMessage.get(messageId) ?? []), f]);
  return byMessage;
}

/** The conversation's customer when they wrote from Slack and we do not know their name yet. */
export async function unnamedSlackCustomer(tx: Queryable, conversationId: string): Promise<{ contactId: string; identityId: string; slackUserId: string; installationId: string } | undefined> {
  return (await tx.query<{ contactId: string; identityId: string; slackUserId: string; installationId: string }>(
    `SELECT ct.id AS "contactId", ci.id AS "identityId", ci.external_id AS "slackUserId", ci.channel_id AS "installationId"
     FROM conversations cv JOIN contacts ct ON ct.id = cv.contact_id JOIN contact_identities ci ON ci.contact_id = ct.id AND ci.channel_id = cv.channel_id
     JOIN channels ch ON ch.id = ci.channel_id AND ch.kind = 'slack'
     WHERE cv.id = $1 AND ct.name IS NULL AND ci.display_name IS NULL LIMIT 1`,
    [conversationId],
  )).rows[0];
}

export async function nameSlackCustomer(tx: Queryable, who: { contactId: string; identityId: string }, name: string): Promise<void> {
  name = displayName(name);
  await tx.query(`UPDATE contact_identities SET display_name = $2 WHERE id = $1 AND display_name IS NULL`, [who.identityId, name]);
  await tx.query(`UPDATE contacts SET name = $2 WHERE id = $1 AND name IS NULL`, [who.contactId, name]);
}

/** Records that a root card is about to be posted; true when an earlier attempt's record was still there (it may have posted). */
export async function markPendingRoot(tx: Queryable, p: { accountId: string; conversationId: string; installationId: string; channel: string }): Promise<{ suspectSince?: string }> {
  const prior = (await tx.query<{ startedAt: string }>(`SELECT started_at::text AS "startedAt" FROM slack_pending_roots WHERE conversation_id = $1 AND channel = $2`, [p.conversationId, p.channel])).rows[0];
  if (!prior) await tx.query(`INSERT INTO slack_pending_roots (account_id, conversation_id, installation_id, channel) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [p.accountId, p.conversationId, p.installationId, p.channel]);
  return prior ? { suspectSince: prior.startedAt } : {};
}

export async function clearPendingRoot(tx: Queryable, conversationId: string, channel: string): Promise<void> {
  await tx.query(`DELETE FROM slack_pending_roots WHERE conversation_id = $1 AND channel = $2`, [conversationId, channel]);
}
