import type { ChannelInstallation } from '../../connectors/core/types.js';
import { queryPrepared, type Queryable } from '../../storage/database.js';
import type { SecretBox } from '../../storage/secret-box.js';
import type { DraftRow } from '../../storage/repositories/ai.js';
import { MESSAGES_JSON, type MessageRow } from '../../storage/repositories/messages.js';
import { INTENTS_JSON, type Intent } from '../surfaces/intents.js';
import { displayName } from '../../connectors/core/text.js';

/** Slack-side state of the hub: installations, conversation threads, agent posts. Every call runs inside a tenant transaction. */

export interface SlackThreadData {
  installationId: string;
  slackTeam: string;
  channel: string;
  ts: string;
  /** Hash of the root's last rendering; chat.update only when it changes. */
  rootHash?: string;
  /**
   * The root's own message (`root`) and, in threads recorded before intents (migration 130), each
   * mirrored message: HummDesk message id → its Slack reply and the state it last showed. Posts since
   * are surface_intents rows.
   */
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

const THREAD_COLUMNS = `id, conversation_id AS "conversationId", surface_key AS "surfaceKey", data, active`;

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

/** The root card was brought up to date with this rendering. */
export async function saveRootHash(tx: Queryable, id: string, hash: string): Promise<void> {
  await tx.query(`UPDATE surface_threads SET data = jsonb_set(data, '{rootHash}', to_jsonb($2::text)) WHERE id = $1`, [id, hash]);
}

/** The conversation moved to another channel: its old thread stays, inactive, saying where it went. */
export async function retireThread(tx: Queryable, id: string, movedTo: string): Promise<void> {
  await tx.query(`UPDATE surface_threads SET data = jsonb_set(data, '{movedTo}', to_jsonb($2::text)), active = false WHERE id = $1`, [id, movedTo]);
}

export async function saveThread(tx: Queryable, id: string, data: SlackThreadData, active = true): Promise<void> {
  await tx.query(`UPDATE surface_threads SET data = $2, active = $3 WHERE id = $1`, [id, data, active]);
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

export async function userBySlackId(tx: Queryable, slackUserId: string): Promise<{ id: string; name: string } | undefined> {
  return (await tx.query<{ id: string; name: string }>(`SELECT id, name FROM users WHERE slack_user_id = $1 AND role <> 'viewer' ORDER BY created_at LIMIT 1`, [slackUserId])).rows[0];
}

export async function linkUserByEmail(tx: Queryable, email: string, slackUserId: string): Promise<{ id: string; name: string } | undefined> {
  return (await tx.query<{ id: string; name: string }>(
    `UPDATE users SET slack_user_id = $2 WHERE id = (SELECT id FROM users WHERE lower(email) = lower($1) AND role <> 'viewer' LIMIT 1) RETURNING id, name`,
    [email, slackUserId],
  )).rows[0];
}

export async function setFileBlob(tx: Queryable, attachmentId: string, blobKey: string, size: number): Promise<void> {
  await tx.query(`UPDATE attachments SET blob_key = $2, size = $3 WHERE id = $1 AND blob_key IS NULL`, [attachmentId, blobKey, size]);
}

export async function nameSlackCustomer(tx: Queryable, who: { contactId: string; identityId: string }, name: string): Promise<void> {
  name = displayName(name);
  await tx.query(`UPDATE contact_identities SET display_name = $2 WHERE id = $1 AND display_name IS NULL`, [who.identityId, name]);
  await tx.query(`UPDATE contacts SET name = $2 WHERE id = $1 AND name IS NULL`, [who.contactId, name]);
}


export interface StoredFile {
  id: string;
  name: string;
  mimeType: string;
  blobKey: string;
}

/** Everything a Slack sync of one conversation reads, its messages included: one statement. */
export interface SlackSyncSnapshot {
  conversation: {
    id: string; channelId: string; channelKind: string; sourceName: string; contactId: string; contactName: string | null; teamId: string | null;
    subject: string | null; status: string; priority: string; category: string | null; sentiment: string | null; language: string | null;
    confidence: number | null; snoozedUntil: string | null; assignee: string | null;
    /** Messenger: false when the Page may not use the HUMAN_AGENT tag (its reply window is 24 hours). */
    humanAgentTag?: boolean | null;
  } | null;
  installs: { id: string; accountId: string; externalKey: string; teamId: string | null; config: Record<string, unknown>; secretsEnc: string | null }[] | null;
  thread: SlackThread | null;
  /** Slack threads this conversation has had (active or not): numbers a new root, so a move back to a channel posts a new one. */
  threadCount: number;
  intents: Intent[] | null;
  draft: Pick<DraftRow, 'id' | 'text' | 'citations' | 'extractive'> | null;
  /** Stored files by message. */
  files: Record<string, StoredFile[]> | null;
  /** Messages written in Slack: their text (and files) are in the thread already. */
  fromSlack: string[] | null;
  /** The customer, when they wrote from Slack and we do not know their name yet. */
  unnamed: { contactId: string; identityId: string; slackUserId: string; installationId: string } | null;
  /** Files of the conversation's Slack messages whose bytes are still only in Slack. */
  unfetched: { id: string; ref: string; installationId: string }[] | null;
  /** The conversation's latest surface.sync request number (migration 220): a run that mirrors this read covers it. */
  requestSeq: number | null;
  /** Its first SYNC_MESSAGES messages, oldest first (times as ISO strings). */
  messages: MessageRow[] | null;
}

/** Messages a sync reads of one conversation. */
export const SYNC_MESSAGES = 1000;

export async function readSyncSnapshot(tx: Queryable, conversationId: string): Promise<SlackSyncSnapshot> {
  // Prepared: planning this statement cost more than running it (1.5 ms against 0.8 ms).
  const { rows } = await queryPrepared<SlackSyncSnapshot>(tx, 'hd_slack_sync_snapshot_v4',
    `SELECT
       (SELECT seq FROM surface_sync_requests WHERE conversation_id = $1)::float8 AS "requestSeq",
       (SELECT json_build_object('id', c.id, 'channelId', c.channel_id, 'channelKind', ch.kind, 'sourceName', ch.name, 'contactId', c.contact_id, 'contactName', ct.name,
          'teamId', c.team_id, 'subject', c.subject, 'status', c.status, 'priority', c.priority, 'category', c.category, 'sentiment', c.sentiment, 'language', c.language,
          'confidence', c.confidence, 'snoozedUntil', c.snoozed_until, 'assignee', u.name, 'humanAgentTag', ch.config->'humanAgentTag')
        FROM conversations c JOIN channels ch ON ch.id = c.channel_id JOIN contacts ct ON ct.id = c.contact_id LEFT JOIN users u ON u.id = c.assignee_id WHERE c.id = $1) AS conversation,
       (SELECT json_agg(json_build_object('id', id, 'accountId', account_id, 'externalKey', external_key, 'teamId', team_id, 'config', config, 'secretsEnc', secrets_enc) ORDER BY created_at, id)
        FROM channels WHERE kind = 'slack' AND enabled) AS installs,
       (SELECT json_build_object('id', id, 'conversationId', conversation_id, 'surfaceKey', surface_key, 'data', data, 'active', active)
        FROM surface_threads WHERE conversation_id = $1 AND surface = 'slack' AND active ORDER BY created_at DESC LIMIT 1) AS thread,
       (SELECT count(*)::int FROM surface_threads WHERE conversation_id = $1 AND surface = 'slack') AS "threadCount",
       ${INTENTS_JSON('$1', "'slack'")} AS intents,
       (SELECT json_build_object('id', id, 'text', text, 'citations', citations, 'extractive', extractive)
        FROM drafts WHERE conversation_id = $1 AND status = 'proposed' ORDER BY created_at DESC LIMIT 1) AS draft,
       (SELECT json_object_agg(f.message_id, f.files) FROM (
          SELECT a.message_id, json_agg(json_build_object('id', a.id, 'name', coalesce(a.name, 'attachment'), 'mimeType', coalesce(a.mime_type, 'application/octet-stream'), 'blobKey', a.blob_key) ORDER BY a.created_at, a.id) AS files
          FROM attachments a JOIN messages m ON m.id = a.message_id WHERE m.conversation_id = $1 AND a.blob_key IS NOT NULL GROUP BY a.message_id) f) AS files,
       -- A post whose message id is not recorded yet (its reply committed a moment ago) is matched by author and text.
       (SELECT json_agg(DISTINCT m.id) FROM messages m JOIN slack_agent_posts p ON p.conversation_id = m.conversation_id
        WHERE m.conversation_id = $1 AND (p.message_id = m.id OR (p.message_id IS NULL AND p.user_id = m.author_user_id AND p.text = m.text))) AS "fromSlack",
       (SELECT json_build_object('contactId', ct.id, 'identityId', ci.id, 'slackUserId', ci.external_id, 'installationId', ci.channel_id)
        FROM conversations cv JOIN contacts ct ON ct.id = cv.contact_id JOIN contact_identities ci ON ci.contact_id = ct.id AND ci.channel_id = cv.channel_id
        JOIN channels ch ON ch.id = ci.channel_id AND ch.kind = 'slack'
        WHERE cv.id = $1 AND ct.name IS NULL AND ci.display_name IS NULL LIMIT 1) AS unnamed,
       (SELECT json_agg(json_build_object('id', a.id, 'ref', a.source_ref, 'installationId', m.channel_id) ORDER BY a.created_at)
        FROM attachments a JOIN messages m ON m.id = a.message_id JOIN channels ch ON ch.id = m.channel_id
        WHERE m.conversation_id = $1 AND ch.kind = 'slack' AND a.blob_key IS NULL AND a.source_ref IS NOT NULL) AS unfetched,
       ${MESSAGES_JSON('$1', SYNC_MESSAGES)} AS messages`,
    [conversationId],
  );
  return rows[0]!;
}

/** The account's enabled Slack installations with their secrets open (the file fetch job reads tokens here). */
export async function listSlackInstallations(tx: Queryable, box: SecretBox): Promise<ChannelInstallation[]> {
  const { rows } = await tx.query<{ id: string; accountId: string; externalKey: string; teamId: string | null; config: Record<string, unknown>; secretsEnc: string | null }>(
    `SELECT id, account_id AS "accountId", external_key AS "externalKey", team_id AS "teamId", config, secrets_enc AS "secretsEnc"
     FROM channels WHERE kind = 'slack' AND enabled ORDER BY created_at, id`,
  );
  return rows.map((r) => ({ id: r.id, accountId: r.accountId, kind: 'slack', externalKey: r.externalKey, teamId: r.teamId, config: r.config, secrets: box.open(r.secretsEnc) }));
}
