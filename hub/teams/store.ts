import { createHash } from 'node:crypto';
import type { ChannelInstallation } from '../../connectors/core/types.js';
import { queryPrepared, type Queryable } from '../../storage/database.js';
import type { DraftRow } from '../../storage/repositories/ai.js';
import { INTENTS_JSON, type Intent } from '../surfaces/intents.js';
import { cardModelOf, cardSelect, type CardRow } from '../surfaces/card-store.js';
import type { CardModel } from '../surfaces/card.js';

/**
 * Teams-side state of the hub. A Teams team the bot is in, once an account claimed it, is a `channels` row
 * of kind 'teams' (external_key = the Teams team id, config = TeamsInstallConfig); a conversation's thread
 * is a `surface_threads` row (surface 'teams', key `<channel>;messageid=<root>`). Functions taking `tx` run
 * inside a tenant transaction; those taking `db` are the named pre-tenant reads (by exact key).
 */

export interface TeamsChannelInfo {
  id: string;
  name: string;
  /** Bots can post only in standard channels. */
  type: 'standard' | 'private' | 'shared';
}

export interface TeamsInstallConfig {
  tenantId: string;
  aadGroupId?: string;
  teamName?: string;
  /** From the latest authenticated activity of this team (allowlisted host). */
  serviceUrl: string;
  channels: TeamsChannelInfo[];
  /** HummDesk team id → Teams channel id. */
  triageChannels?: Record<string, string>;
  /** HummDesk channel (inbox) id → Teams channel id, for conversations whose team has none. */
  inboxTriageChannels?: Record<string, string>;
  defaultTriageChannel?: string;
  /** What an agent's plain thread reply becomes: an internal note (default) or a reply to the customer. */
  threadReplies?: 'notes' | 'replies';
  disconnected?: { reason: string; at: string };
}

export function teamsConfig(install: { config: Record<string, unknown> }): TeamsInstallConfig {
  const c = install.config as Partial<TeamsInstallConfig>;
  return { ...c, tenantId: c.tenantId ?? '', serviceUrl: c.serviceUrl ?? '', channels: Array.isArray(c.channels) ? c.channels : [] } as TeamsInstallConfig;
}

export interface TeamsThreadData {
  installationId: string;
  /** The Teams team id. */
  team: string;
  channel: string;
  rootId: string;
  /** Hash of the root card's last rendering; updated only when it changes. */
  rootHash?: string;
  movedTo?: string;
}

export interface TeamsThread {
  id: string;
  conversationId: string;
  surfaceKey: string;
  data: TeamsThreadData;
  active: boolean;
}

export const threadKey = (channel: string, rootId: string) => `${channel};messageid=${rootId}`;

const THREAD_COLUMNS = `id, conversation_id AS "conversationId", surface_key AS "surfaceKey", data, active`;

export async function threadByKey(tx: Queryable, surfaceKey: string): Promise<TeamsThread | undefined> {
  return (await tx.query<TeamsThread>(`SELECT ${THREAD_COLUMNS} FROM surface_threads WHERE surface = 'teams' AND surface_key = $1`, [surfaceKey])).rows[0];
}

export async function insertThread(tx: Queryable, t: { accountId: string; conversationId: string; data: TeamsThreadData }): Promise<TeamsThread> {
  const { rows } = await tx.query<TeamsThread>(
    `INSERT INTO surface_threads (account_id, conversation_id, surface, surface_key, data) VALUES ($1, $2, 'teams', $3, $4) RETURNING ${THREAD_COLUMNS}`,
    [t.accountId, t.conversationId, threadKey(t.data.channel, t.data.rootId), t.data],
  );
  return rows[0]!;
}

export async function saveRootHash(tx: Queryable, id: string, hash: string): Promise<void> {
  await tx.query(`UPDATE surface_threads SET data = jsonb_set(data, '{rootHash}', to_jsonb($2::text)) WHERE id = $1`, [id, hash]);
}

/** The conversation moved to another team's channel: its old thread stays, inactive, saying where it went. */
export async function retireThread(tx: Queryable, id: string, movedTo: string): Promise<void> {
  await tx.query(`UPDATE surface_threads SET data = jsonb_set(data, '{movedTo}', to_jsonb($2::text)), active = false WHERE id = $1`, [id, movedTo]);
}

// ---------- processed activities (redelivery never doubles) ----------

/**
 * How long a handled activity's id is kept: Bot Framework redelivers within minutes (its retries), so a
 * week is far past any redelivery. Older claims are pruned as new ones are written.
 */
export const ACTIVITY_RETENTION_MS = 7 * 24 * 3600_000;

/**
 * Claims an activity for handling; false when a delivery of it was handled (or is being handled) already.
 * The same statement prunes the account's claims older than the retention (by the (account_id, created_at)
 * index), so the table holds about a week of activities however long the hub runs.
 */
export async function claimActivity(tx: Queryable, p: { accountId: string; installationId: string; activityId: string; retentionMs?: number }): Promise<boolean> {
  const { rows } = await tx.query<{ claimed: boolean }>(
    `WITH pruned AS (DELETE FROM teams_activities WHERE account_id = $1 AND created_at < now() - make_interval(secs => $4::double precision / 1000) RETURNING 1),
          claimed AS (INSERT INTO teams_activities (account_id, channel_id, activity_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1)
     SELECT EXISTS (SELECT 1 FROM claimed) AS claimed, (SELECT count(*) FROM pruned) AS pruned`,
    [p.accountId, p.installationId, p.activityId, p.retentionMs ?? ACTIVITY_RETENTION_MS],
  );
  return rows[0]!.claimed;
}

/**
 * The handling's outcome. A message it made carries `metadata.writtenIn = 'teams'` from its insert on
 * (ReplyInput.writtenIn), which outlives the claim.
 */
export async function settleActivity(tx: Queryable, installationId: string, activityId: string, outcome: string, messageId?: string | null): Promise<void> {
  await tx.query(`UPDATE teams_activities SET outcome = $3, message_id = $4 WHERE channel_id = $1 AND activity_id = $2`, [installationId, activityId, outcome, messageId ?? null]);
}

/** Forgets a claim whose handling failed before anything was done, so Teams' redelivery can do it. */
export async function releaseActivity(tx: Queryable, installationId: string, activityId: string): Promise<void> {
  await tx.query(`DELETE FROM teams_activities WHERE channel_id = $1 AND activity_id = $2 AND outcome IS NULL`, [installationId, activityId]);
}

// ---------- agent links (users.teams_user_id holds the agent's AAD object id) ----------

export interface LinkedAgent {
  id: string;
  name: string;
}

/**
 * The agent linked to a Teams user (by AAD object id). `mri`, the Teams user id the activity came from
 * ("29:…"), is kept with the link in the same statement when it is new: it names the agent in refresh.userIds.
 */
export async function userByAadId(tx: Queryable, aadObjectId: string, mri?: string): Promise<LinkedAgent | undefined> {
  return (await tx.query<LinkedAgent>(
    `WITH u AS (SELECT id, name, teams_mri FROM users WHERE teams_user_id = $1 AND role <> 'viewer' ORDER BY created_at LIMIT 1),
          noted AS (UPDATE users SET teams_mri = $2 FROM u WHERE users.id = u.id AND $2::text IS NOT NULL AND u.teams_mri IS DISTINCT FROM $2 RETURNING 1)
     SELECT id, name FROM u`,
    [aadObjectId, isTeamsMri(mri) ? mri : null],
  )).rows[0];
}

/** A Teams user id as activities and the roster name users ("29:…"); anything else is not kept. */
const isTeamsMri = (v: unknown): v is string => typeof v === 'string' && /^29:[^\s]{1,300}$/.test(v);

/** Links the one non-viewer user with this email (case-insensitive) who is not linked to anyone else yet, with their Teams user id from the roster. */
export async function linkUserByEmail(tx: Queryable, email: string, aadObjectId: string, mri?: string): Promise<LinkedAgent | undefined> {
  return (await tx.query<LinkedAgent>(
    `UPDATE users SET teams_user_id = $2, teams_mri = $3
     WHERE id = (SELECT id FROM users WHERE lower(email) = lower($1) AND role <> 'viewer' AND teams_user_id IS NULL LIMIT 1)
       AND NOT EXISTS (SELECT 1 FROM users WHERE teams_user_id = $2)
     RETURNING id, name`,
    [email, aadObjectId, isTeamsMri(mri) ? mri : null],
  )).rows[0];
}

export async function setUserLink(tx: Queryable, userId: string, aadObjectId: string | null): Promise<boolean> {
  const { rowCount } = await tx.query(`UPDATE users SET teams_mri = CASE WHEN teams_user_id = $2 THEN teams_mri END, teams_user_id = $2 WHERE id = $1`, [userId, aadObjectId]);
  return rowCount > 0;
}

/** Teams refreshes a card per user for at most 60 listed users. */
const REFRESH_USERS = 60;

/**
 * Who gets per-user views of a conversation's card (refresh.userIds): linked agents whose Teams user id is
 * known, the assignee first, at most 60. A scalar subquery, read with a sync's snapshot or on its own.
 */
const REFRESH_USERS_JSON = (assigneeSql: string) =>
  `(SELECT json_agg(r.mri) FROM (SELECT u.teams_mri AS mri FROM users u WHERE u.teams_user_id IS NOT NULL AND u.teams_mri IS NOT NULL AND u.role <> 'viewer'
      ORDER BY (u.id IS NOT DISTINCT FROM ${assigneeSql}) DESC, u.created_at, u.id LIMIT ${REFRESH_USERS}) r)`;

/** Per-user views of a card read with it: linked agents' Teams user ids (the assignee first) and the assignee's. */
const REFRESH_COLUMNS = (assigneeSql: string) =>
  `${REFRESH_USERS_JSON(assigneeSql)} AS "refreshUserIds",
   (SELECT teams_mri FROM users WHERE id = ${assigneeSql} AND teams_user_id IS NOT NULL AND role <> 'viewer') AS "refreshAssignee"`;

/** A card and who gets per-user views of it (`refresh.userIds`, Teams user ids; the assignee's among them). */
export interface CardView {
  model: CardModel | undefined;
  refresh?: { userIds: string[]; assigneeUserId?: string };
}

interface RefreshRow {
  refreshUserIds?: string[] | null;
  refreshAssignee?: string | null;
}

const viewOf = (row: CardRow & RefreshRow, o: CardViewOptions): CardView => {
  const model = cardModelOf(row, o);
  if (!model || !o.perUserViews) return { model };
  const userIds = row.refreshUserIds ?? [];
  return userIds.length ? { model, refresh: { userIds, ...(row.refreshAssignee ? { assigneeUserId: row.refreshAssignee } : {}) } } : { model };
};

export interface CardViewOptions {
  url: (conversationId: string) => string;
  threadReplies: 'notes' | 'replies';
  /** Read who gets per-user views too. */
  perUserViews: boolean;
}

/** A conversation's card with its per-user views, in one statement (a click's answer). */
export async function readCardView(q: Queryable, conversationId: string, o: CardViewOptions): Promise<CardView> {
  const sql = o.perUserViews ? `SELECT card.*, ${REFRESH_COLUMNS('card."assigneeId"')} FROM (${cardSelect('$1')}) card` : cardSelect('$1');
  const { rows } = await queryPrepared<CardRow & RefreshRow>(q, o.perUserViews ? 'teams_card_view' : 'teams_card', sql, [conversationId]);
  return rows[0] ? viewOf(rows[0], o) : { model: undefined };
}

/** What a click needs first, read (and its claim written) in one statement: see readClick. */
export interface ClickRead extends CardView {
  /** The conversation whose thread the click came from; null when it came from no thread we know. */
  threadConversationId: string | null;
  /** The HummDesk agent linked to the clicker's AAD object id. */
  clicker: LinkedAgent | undefined;
  /** The click's once-only key was claimed now. */
  claimed: boolean;
}

/**
 * A card click's first read, one statement: the thread it came from, the clicker (keeping their Teams user id,
 * as userByAadId), the card as it is now (with per-user views when asked) and, for a linked clicker on a
 * conversation that exists and whose thread it is, the click's once-only key `prefix + user id + suffix`
 * (actionClaimKeyParts), claimed as claimAction does (an expired claim of the same key is taken over).
 * The caller releases a claim whose version turns out stale.
 */
export async function readClick(q: Queryable, p: {
  accountId: string;
  conversationId: string;
  /** The thread's key (`<channel>;messageid=<root>`) when the click came from a thread. */
  threadKey: string | null;
  aadObjectId: string | null;
  mri?: string;
  claim: { prefix: string; suffix: string } | null;
} & CardViewOptions): Promise<ClickRead> {
  const sql = `WITH u AS (SELECT id, name, teams_mri FROM users WHERE teams_user_id = $2 AND role <> 'viewer' ORDER BY created_at LIMIT 1),
       noted AS (UPDATE users SET teams_mri = $3 FROM u WHERE users.id = u.id AND $3::text IS NOT NULL AND u.teams_mri IS DISTINCT FROM $3 RETURNING 1),
       thread AS (SELECT conversation_id FROM surface_threads WHERE surface = 'teams' AND surface_key = $4),
       k AS (SELECT $6::text || u.id::text || $7::text AS key FROM u
             WHERE $6::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM thread WHERE conversation_id <> $1::uuid) AND EXISTS (SELECT 1 FROM conversations WHERE id = $1::uuid)),
       pruned AS (DELETE FROM surface_action_claims WHERE conversation_id = $1::uuid AND created_at < now() - interval '1 day' AND claim_key NOT IN (SELECT key FROM k)),
       claimed AS (INSERT INTO surface_action_claims (account_id, surface, claim_key, conversation_id) SELECT $5::uuid, 'teams', key, $1::uuid FROM k
                   ON CONFLICT (account_id, surface, claim_key) DO UPDATE SET created_at = now(), conversation_id = excluded.conversation_id
                   WHERE surface_action_claims.created_at < now() - interval '1 day'
                   RETURNING 1)
     SELECT card.*, ${p.perUserViews ? `${REFRESH_COLUMNS('card."assigneeId"')},` : ''}
            u.id AS "clickerId", u.name AS "clickerName", (SELECT conversation_id FROM thread) AS "threadConversationId", EXISTS (SELECT 1 FROM claimed) AS claimed
     FROM (SELECT 1) one LEFT JOIN (${cardSelect('$1::uuid')}) card ON true LEFT JOIN u ON true`;
  const { rows } = await queryPrepared<CardRow & RefreshRow & { clickerId: string | null; clickerName: string; threadConversationId: string | null; claimed: boolean }>(
    q, p.perUserViews ? 'teams_click_views' : 'teams_click', sql,
    [p.conversationId, p.aadObjectId, isTeamsMri(p.mri) ? p.mri : null, p.threadKey, p.accountId, p.claim?.prefix ?? null, p.claim?.suffix ?? ''],
  );
  const r = rows[0]!;
  return {
    ...viewOf(r, p),
    threadConversationId: r.threadConversationId,
    clicker: r.clickerId ? { id: r.clickerId, name: r.clickerName } : undefined,
    claimed: r.claimed,
  };
}

// ---------- installations ----------

export async function listTeamsInstallations(tx: Queryable): Promise<(Omit<ChannelInstallation, 'secrets'> & { name: string; enabled: boolean })[]> {
  return (await tx.query<Omit<ChannelInstallation, 'secrets'> & { name: string; enabled: boolean }>(
    `SELECT id, account_id AS "accountId", kind, external_key AS "externalKey", team_id AS "teamId", config, name, enabled FROM channels WHERE kind = 'teams' ORDER BY created_at, id`,
  )).rows;
}

/** Pre-tenant: the claimed installation of a Teams team, enabled or not (a reinstall finds its disconnected row). */
export async function installationOfTeam(db: Queryable, teamId: string): Promise<{ id: string; accountId: string; enabled: boolean; config: Record<string, unknown> } | undefined> {
  return (await db.query<{ id: string; accountId: string; enabled: boolean; config: Record<string, unknown> }>(
    `SELECT id, account_id AS "accountId", enabled, config FROM channels WHERE kind = 'teams' AND external_key = $1`,
    [teamId],
  )).rows[0];
}

export interface PendingInstall {
  teamId: string;
  tenantId: string;
  aadGroupId: string | null;
  name: string | null;
  serviceUrl: string;
  channels: TeamsChannelInfo[];
  codeExpiresAt: string | null;
}

const PENDING_COLUMNS = `team_id AS "teamId", tenant_id AS "tenantId", aad_group_id AS "aadGroupId", name, service_url AS "serviceUrl", channels, code_expires_at AS "codeExpiresAt"`;

export const hashCode = (code: string) => createHash('sha256').update(code.replace(/[^A-Z0-9]/gi, '').toUpperCase()).digest('hex');

/** Pre-tenant: a team the bot was added to, waiting for an account to claim it, with a new one-time code. */
export async function upsertPendingInstall(db: Queryable, p: Omit<PendingInstall, 'codeExpiresAt'> & { codeHash: string; codeTtlMs: number }): Promise<void> {
  await db.query(
    `INSERT INTO teams_pending_installs (team_id, tenant_id, aad_group_id, name, service_url, channels, code_hash, code_expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8::double precision / 1000))
     ON CONFLICT (team_id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, aad_group_id = EXCLUDED.aad_group_id, name = EXCLUDED.name,
       service_url = EXCLUDED.service_url, channels = EXCLUDED.channels, code_hash = EXCLUDED.code_hash, code_expires_at = EXCLUDED.code_expires_at`,
    [p.teamId, p.tenantId, p.aadGroupId, p.name, p.serviceUrl, JSON.stringify(p.channels), p.codeHash, p.codeTtlMs],
  );
}

export async function pendingInstall(db: Queryable, teamId: string): Promise<PendingInstall | undefined> {
  return (await db.query<PendingInstall>(`SELECT ${PENDING_COLUMNS} FROM teams_pending_installs WHERE team_id = $1`, [teamId])).rows[0];
}

/** Pre-tenant: takes the pending team a valid (unexpired) code names; the code works once. */
export async function takePendingByCode(db: Queryable, codeHash: string): Promise<PendingInstall | undefined> {
  return (await db.query<PendingInstall>(`DELETE FROM teams_pending_installs WHERE code_hash = $1 AND code_expires_at > now() RETURNING ${PENDING_COLUMNS}`, [codeHash])).rows[0];
}

export async function dropPendingInstall(db: Queryable, teamId: string): Promise<void> {
  await db.query(`DELETE FROM teams_pending_installs WHERE team_id = $1`, [teamId]);
}

// ---------- sync snapshot ----------

export interface TeamsSyncSnapshot {
  conversation: {
    id: string; channelId: string; channelKind: string; sourceName: string; contactId: string; contactName: string | null; teamId: string | null;
    subject: string | null; status: string; priority: string; category: string | null; sentiment: string | null; language: string | null;
    confidence: number | null; snoozedUntil: string | null; assignee: string | null;
  } | null;
  installs: { id: string; accountId: string; externalKey: string; teamId: string | null; config: Record<string, unknown> }[] | null;
  thread: TeamsThread | null;
  threadCount: number;
  intents: Intent[] | null;
  draft: Pick<DraftRow, 'id' | 'text' | 'citations' | 'extractive'> | null;
  /** Messages an agent wrote in a Teams thread: their text is there already. */
  fromTeams: string[] | null;
  /** The shared card's refresh.userIds: linked agents' Teams user ids, the assignee first. */
  refreshUsers: string[] | null;
  /** The conversation's latest sync request number (migration 220) as this read saw it. */
  requestSeq: number | null;
}

export async function readSyncSnapshot(tx: Queryable, conversationId: string): Promise<TeamsSyncSnapshot> {
  const { rows } = await tx.query<TeamsSyncSnapshot>(
    `SELECT
       (SELECT json_build_object('id', c.id, 'channelId', c.channel_id, 'channelKind', ch.kind, 'sourceName', ch.name, 'contactId', c.contact_id, 'contactName', ct.name,
          'teamId', c.team_id, 'subject', c.subject, 'status', c.status, 'priority', c.priority, 'category', c.category, 'sentiment', c.sentiment, 'language', c.language,
          'confidence', c.confidence, 'snoozedUntil', c.snoozed_until, 'assignee', u.name)
        FROM conversations c JOIN channels ch ON ch.id = c.channel_id JOIN contacts ct ON ct.id = c.contact_id LEFT JOIN users u ON u.id = c.assignee_id WHERE c.id = $1) AS conversation,
       (SELECT json_agg(json_build_object('id', id, 'accountId', account_id, 'externalKey', external_key, 'teamId', team_id, 'config', config) ORDER BY created_at, id)
        FROM channels WHERE kind = 'teams' AND enabled) AS installs,
       (SELECT json_build_object('id', id, 'conversationId', conversation_id, 'surfaceKey', surface_key, 'data', data, 'active', active)
        FROM surface_threads WHERE conversation_id = $1 AND surface = 'teams' AND active ORDER BY created_at DESC LIMIT 1) AS thread,
       (SELECT count(*)::int FROM surface_threads WHERE conversation_id = $1 AND surface = 'teams') AS "threadCount",
       ${INTENTS_JSON('$1', "'teams'")} AS intents,
       (SELECT json_build_object('id', id, 'text', text, 'citations', citations, 'extractive', extractive)
        FROM drafts WHERE conversation_id = $1 AND status = 'proposed' ORDER BY created_at DESC LIMIT 1) AS draft,
       (SELECT json_agg(m.id) FROM messages m WHERE m.conversation_id = $1 AND m.metadata->>'writtenIn' = 'teams') AS "fromTeams",
       ${REFRESH_USERS_JSON('(SELECT assignee_id FROM conversations WHERE id = $1)')} AS "refreshUsers",
       (SELECT seq FROM surface_sync_requests WHERE conversation_id = $1)::float8 AS "requestSeq"`,
    [conversationId],
  );
  return rows[0]!;
}

/** Whether the account has any Teams installation to mirror into (checked before a sync claims anything). */
export async function hasTeamsInstall(tx: Queryable): Promise<boolean> {
  return (await tx.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM channels WHERE kind = 'teams' AND enabled) AS any`)).rows[0]!.any;
}
