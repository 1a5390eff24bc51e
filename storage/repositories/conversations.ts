import { createHash } from 'node:crypto';
import { queryPrepared, type Queryable } from '../database.js';

export type ConversationStatus = 'open' | 'pending' | 'snoozed' | 'resolved';
export type Priority = 'low' | 'normal' | 'high' | 'urgent';

export interface ConversationRow {
  id: string;
  accountId: string;
  channelId: string;
  channelKind: string;
  contactId: string;
  contactName: string | null;
  threadKey: string;
  subject: string | null;
  status: ConversationStatus;
  priority: Priority;
  category: string | null;
  language: string | null;
  sentiment: string | null;
  confidence: number | null;
  assigneeId: string | null;
  teamId: string | null;
  snoozedUntil: string | null;
  tags: string[];
  lastMessageAt: string;
  createdAt: string;
  updatedAt: string;
}

const COLUMNS = `c.id, c.account_id AS "accountId", c.channel_id AS "channelId", ch.kind AS "channelKind",
  c.contact_id AS "contactId", ct.name AS "contactName", c.thread_key AS "threadKey", c.subject, c.status,
  c.priority, c.category, c.language, c.sentiment, c.confidence, c.assignee_id AS "assigneeId",
  c.team_id AS "teamId", c.snoozed_until AS "snoozedUntil", c.tags, c.last_message_at AS "lastMessageAt",
  c.created_at AS "createdAt", c.updated_at AS "updatedAt"`;
const FROM = `conversations c JOIN channels ch ON ch.id = c.channel_id JOIN contacts ct ON ct.id = c.contact_id`;

export interface ConversationFilter {
  /** `active`: open or pending (waiting on the customer), what an agent still has on their plate. */
  status?: ConversationStatus | 'active';
  teamId?: string;
  assigneeId?: string | null;
  channelId?: string;
  category?: string;
  priority?: Priority;
  contactId?: string;
  tag?: string;
  /** Full-text search over message text. */
  q?: string;
  /** Most matching messages a search reads through the text index before it walks the list instead (tests lower it). */
  searchIndexMax?: number;
  limit: number;
  /**
   * `recent` (default): latest activity first; `priority`: urgent first, then latest activity; `waiting`:
   * the customer waiting longest first (migration 255), then the conversations nothing waits in, latest activity first.
   */
  sort?: 'recent' | 'priority' | 'waiting';
  /** Opaque cursor: last_message_at and id (and the priority rank, or the waiting key, of its sort) of the previous page's last row. */
  after?: { lastMessageAt: string; id: string; rank?: number; waiting?: string };
}

/** The waiting sort's key: when the customer's wait began, `infinity` when nothing waits. */
const WAITING = `coalesce(c.waiting_since, 'infinity'::timestamptz)`;

/** Priority as a number, highest first in a priority sort. */
const RANK = `(CASE c.priority WHEN 'urgent' THEN 3 WHEN 'high' THEN 2 WHEN 'normal' THEN 1 ELSE 0 END)`;

type ListedRow = ConversationRow & { cursorAt: string; rank: number; waitingKey: string };

/**
 * Filtered, keyset-paginated list; every value is a bound parameter, never spliced into SQL.
 * `cursorAt` is last_message_at at full microsecond precision (a JS Date keeps only milliseconds,
 * and a cursor cut to milliseconds skips rows that fall within the same millisecond).
 */
export async function listConversations(tx: Queryable, f: ConversationFilter): Promise<ListedRow[]> {
  return listPage<ListedRow>(tx, f, async (g, search) => {
    const statement = listStatement(g, search);
    const sql = statement.hits
      ? `SELECT page.*, ${HITS_COLUMNS} FROM ${statement.hits} LEFT JOIN LATERAL (${statement.sql}) page ON true ORDER BY ${statement.order}`
      : statement.sql;
    return (await queryPrepared<ListedRow & SearchAnswer>(tx, statementName('conversation_list', sql), sql, statement.params)).rows;
  });
}

/** A search's slice of the text index's matches (hd_search_conversation_hits, migration 335), asked in the page's own statement. */
interface SearchSlice {
  q: string;
  /** Past this many matching conversations, the list is walked instead. */
  cap: number;
  /** How many of the most recent matches (before `before`) the index names. */
  want: number;
  before: ConversationFilter['after'];
}

/** What a search's statement answers beside its page: how the index answered, on every row (and on one empty row when no conversation matched). */
interface SearchAnswer {
  /** The index named more matches than this slice. */
  searchMore?: boolean;
  /** The slice's last candidate: the next slice's cursor. */
  searchLastAt?: string | null;
  searchLastId?: string | null;
  /** The list was walked (a common word or a negation): the page is the whole answer. */
  searchWalked?: boolean;
}

const HITS_COLUMNS = `h.more AS "searchMore", h.last_at::text AS "searchLastAt", h.last_id AS "searchLastId", h.ids IS NULL AS "searchWalked"`;

/**
 * A page of the list; for a search, in slices of the most recent matching conversations, each slice in one
 * statement with its page (one round trip). The text index names a word's matching conversations in list
 * order (hd_search_conversation_hits): the first slice is about a page, and only a search whose other
 * filters leave too few of them asks for older ones, four times as many each time. A word in more
 * conversations than the cap, or a negation, walks the list in the same statement.
 */
async function listPage<R extends { id: string }>(tx: Queryable, f: ConversationFilter, run: (f: ConversationFilter, search?: SearchSlice) => Promise<(R & SearchAnswer)[]>): Promise<R[]> {
  if (!f.q) return run(f);
  const cap = f.searchIndexMax ?? SEARCH_INDEX_MAX;
  // Other sorts than the list's own order need every candidate at once.
  const inOrder = (f.sort ?? 'recent') === 'recent';
  const filtered = Boolean(f.status || f.teamId || f.assigneeId !== undefined || f.channelId || f.category || f.priority || f.contactId || f.tag);
  let want = inOrder ? f.limit * (filtered ? 4 : 1) + 8 : cap;
  let before = inOrder ? f.after : undefined;
  const rows: R[] = [];
  for (;;) {
    const answer = await run(f, { q: f.q, cap, want, before });
    const hits = answer[0]!;
    const page: R[] = [];
    for (const { searchMore: _more, searchLastAt: _at, searchLastId: _id, searchWalked: _walked, ...row } of answer) if (row.id !== null) page.push(row as unknown as R);
    if (hits.searchWalked) return page;
    rows.push(...page.slice(0, f.limit - rows.length));
    if (rows.length >= f.limit || !hits.searchMore) return rows;
    before = { lastMessageAt: hits.searchLastAt!, id: hits.searchLastId! };
    want *= 4;
  }
}

/** A time as `Date.prototype.toISOString` writes it (UTC, milliseconds), `US` for microseconds. */
const iso = (column: string, fraction: 'MS' | 'US' = 'MS') => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.${fraction}"Z"')`;

/** The list's own columns: the conversation row, its cursor at full precision and both sorts' keys. */
const LIST_COLUMNS = `${COLUMNS}, ${iso('c.last_message_at', 'US')} AS "cursorAt", ${RANK} AS rank, ${WAITING}::text AS "waitingKey"`;

/**
 * The list's statement for a filter (its text depends only on which filters are set). A search's is two
 * branches behind one-time gates on what the text index answered (`h`, the function in the FROM list
 * before it as `hits`): its candidates read by primary key, or the list walked in its order with each
 * conversation checked by its lexemes (a common word shows up within the first conversations). Where the
 * lexemes do not decide (AND, a phrase, a negation) each row is also checked against one message.
 * `columns` is its select list (every sort's cursor keys among them).
 */
function listStatement(f: ConversationFilter, search?: SearchSlice, columns = LIST_COLUMNS): { sql: string; params: unknown[]; order: string; hits?: string } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (p: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (f.status === 'active') where.push(`c.status IN ('open', 'pending')`);
  else if (f.status) add((p) => `c.status = ${p}`, f.status);
  if (f.teamId) add((p) => `c.team_id = ${p}`, f.teamId);
  if (f.assigneeId === null) where.push('c.assignee_id IS NULL');
  else if (f.assigneeId) add((p) => `c.assignee_id = ${p}`, f.assigneeId);
  if (f.channelId) add((p) => `c.channel_id = ${p}`, f.channelId);
  if (f.category) add((p) => `c.category = ${p}`, f.category);
  if (f.priority) add((p) => `c.priority = ${p}`, f.priority);
  if (f.contactId) add((p) => `c.contact_id = ${p}`, f.contactId);
  if (f.tag) add((p) => `c.tags @> ARRAY[${p}::text]`, f.tag);
  const byPriority = f.sort === 'priority';
  const byWaiting = f.sort === 'waiting';
  if (f.after && byWaiting) {
    // Mixed directions (waiting ascending, activity descending) do not fit one row comparison.
    params.push(f.after.waiting ?? 'infinity', f.after.lastMessageAt, f.after.id);
    const [w, at, id] = [params.length - 2, params.length - 1, params.length].map((n) => `$${n}`);
    where.push(`(${WAITING} > ${w}::timestamptz OR (${WAITING} = ${w}::timestamptz AND (c.last_message_at, c.id) < (${at}::timestamptz, ${id}::uuid)))`);
  } else if (f.after && byPriority) {
    params.push(f.after.rank ?? 0, f.after.lastMessageAt, f.after.id);
    where.push(`(${RANK}, c.last_message_at, c.id) < ($${params.length - 2}::int, $${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  } else if (f.after) {
    params.push(f.after.lastMessageAt, f.after.id);
    where.push(`(c.last_message_at, c.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  params.push(f.limit);
  // The outer order of a search's page, by output names (an inbox row's lastMessageAt is cut from its cursor).
  const order = `${byPriority ? 'rank DESC, ' : byWaiting ? '"waitingKey"::timestamptz, ' : ''}"cursorAt"::timestamptz DESC, id DESC`;
  const select = `SELECT ${columns}
     FROM ${FROM}`;
  const tail = `ORDER BY ${byPriority ? `${RANK} DESC, ` : byWaiting ? `${WAITING}, ` : ''}c.last_message_at DESC, c.id DESC LIMIT $${params.length}`;
  const whereOf = (conditions: string[]) => (conditions.length ? `WHERE ${conditions.join(' AND ')}` : '');
  if (!search) return { sql: `${select} ${whereOf(where)}\n     ${tail}`, params, order };
  params.push(search.q, search.cap, search.want, search.before?.lastMessageAt ?? null, search.before?.id ?? null);
  const n = params.length;
  const hits = `hd_search_conversation_hits($${n - 4}::text, $${n - 3}::int, $${n - 2}::int, $${n - 1}::timestamptz, $${n}::uuid) h`;
  // Each check a LATERAL … LIMIT 1 (a nested loop that stops at the first match, never a join of all the
  // account's rows), behind a one-time gate: the messages only where the lexemes do not decide.
  const messages = ` LEFT JOIN LATERAL (SELECT true AS hit FROM messages m WHERE NOT h.exact AND m.conversation_id = c.id AND m.search @@ h.query LIMIT 1) msg ON true`;
  const lexemes = ` LEFT JOIN LATERAL (SELECT true AS hit FROM conversation_search s WHERE h.terms IS NOT NULL AND s.conversation_id = c.id AND s.search @@ h.terms LIMIT 1) lex ON true`;
  const sql = `(${select}${messages} ${whereOf([...where, 'h.ids IS NOT NULL', 'c.id = ANY(h.ids)', '(h.exact OR msg.hit)'])}\n     ${tail})
     UNION ALL
     (${select}${lexemes}${messages} ${whereOf([...where, 'h.ids IS NULL', '(h.terms IS NULL OR lex.hit)', '(h.exact OR msg.hit)'])}\n     ${tail})`;
  return { sql, params, order, hits };
}

/**
 * A prepared statement's name for a statement text: node-postgres keeps one per name and connection,
 * and refuses a name reused for another text. The list's texts are a few per filter combination.
 */
const statementNames = new Map<string, string>();
function statementName(prefix: string, sql: string): string {
  let name = statementNames.get(sql);
  if (!name) {
    name = `${prefix}_${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`;
    if (statementNames.size < 10_000) statementNames.set(sql, name);
  }
  return name;
}

/**
 * Up to this many matching conversations a search takes from the text index; a word in more is common
 * enough that walking the list finds a page of it sooner.
 */
export const SEARCH_INDEX_MAX = 5_000;

export async function getConversation(tx: Queryable, id: string): Promise<ConversationRow | undefined> {
  return (await tx.query<ConversationRow>(`SELECT ${COLUMNS} FROM ${FROM} WHERE c.id = $1`, [id])).rows[0];
}

export async function updateConversation(
  tx: Queryable,
  id: string,
  patch: ConversationPatch,
): Promise<ConversationRow | undefined> {
  const updated = await patchConversation(tx, id, patch);
  return updated ? getConversation(tx, id) : undefined;
}

type ConversationPatch = Partial<Pick<ConversationRow, 'status' | 'priority' | 'category' | 'language' | 'sentiment' | 'confidence' | 'assigneeId' | 'teamId' | 'snoozedUntil' | 'subject' | 'tags'>>;

/** As updateConversation, without reading the row back: whether the conversation exists. One statement. */
export async function patchConversation(tx: Queryable, id: string, patch: ConversationPatch): Promise<boolean> {
  const columns: Record<string, string> = {
    status: 'status', priority: 'priority', category: 'category', language: 'language', sentiment: 'sentiment',
    confidence: 'confidence', assigneeId: 'assignee_id', teamId: 'team_id', snoozedUntil: 'snoozed_until', subject: 'subject', tags: 'tags',
  };
  const sets: string[] = [];
  const params: unknown[] = [id];
  for (const [key, value] of Object.entries(patch)) {
    const column = columns[key];
    if (!column || value === undefined) continue;
    params.push(value);
    sets.push(`${column} = $${params.length}`);
  }
  if (sets.length === 0) return (await tx.query(`SELECT 1 FROM conversations WHERE id = $1`, [id])).rowCount > 0;
  return (await tx.query(`UPDATE conversations SET ${sets.join(', ')}, updated_at = now() WHERE id = $1`, params)).rowCount > 0;
}

/**
 * Adds addresses to the conversation's Cc list (metadata.cc): first-seen order kept, each address
 * once, at most `max`. One statement, so concurrent ingests of one thread cannot drop each other's.
 */
export async function rememberCc(tx: Queryable, id: string, addresses: string[], max = 50): Promise<void> {
  if (addresses.length === 0) return;
  await tx.query(
    `UPDATE conversations c SET metadata = jsonb_set(c.metadata, '{cc}', (
       SELECT coalesce(jsonb_agg(d.a ORDER BY d.pos), '[]'::jsonb) FROM (
         SELECT a, pos FROM (
           SELECT DISTINCT ON (lower(a)) a, pos FROM (
             SELECT e.a, e.n AS pos FROM jsonb_array_elements_text(coalesce(c.metadata->'cc', '[]'::jsonb)) WITH ORDINALITY e(a, n)
             UNION ALL SELECT u.a, 1000000 + u.n FROM unnest($2::text[]) WITH ORDINALITY u(a, n)
           ) merged ORDER BY lower(a), pos
         ) firsts ORDER BY pos LIMIT $3
       ) d))
     WHERE c.id = $1`,
    [id, addresses, max],
  );
}

/** Replaces the conversation's Cc list (an agent edited it on a reply). */
export async function setConversationCc(tx: Queryable, id: string, addresses: string[]): Promise<void> {
  await tx.query(`UPDATE conversations SET metadata = jsonb_set(metadata, '{cc}', $2::jsonb) WHERE id = $1`, [id, JSON.stringify(addresses)]);
}

/** The conversation's Cc list; empty when nobody is copied. */
export async function conversationCc(tx: Queryable, id: string): Promise<string[]> {
  const { rows } = await tx.query<{ cc: unknown }>(`SELECT metadata->'cc' AS cc FROM conversations WHERE id = $1`, [id]);
  const cc = rows[0]?.cc;
  return Array.isArray(cc) ? cc.filter((a): a is string => typeof a === 'string') : [];
}

/** What an inbox row shows beyond the conversation itself. */
export interface InboxSummary {
  conversationId: string;
  channelName: string;
  contactEmail: string | null;
  contactPhone: string | null;
  /** The last public message's first line (agents' private notes are not the conversation's latest word). */
  preview: string | null;
  previewDirection: 'inbound' | 'outbound' | null;
  /** The customer's oldest message no agent has answered since; null when nothing waits. */
  waitingSince: string | null;
  /** A customer message arrived after this user last read the conversation. */
  unread: boolean;
}

type FullInboxRow = Omit<ConversationRow, 'snoozedUntil' | 'lastMessageAt' | 'createdAt' | 'updatedAt'> & Omit<InboxSummary, 'conversationId'> & {
  snoozedUntil: string | null; lastMessageAt: string; createdAt: string; updatedAt: string;
};
/**
 * An inbox row as `listInbox` reads it: times as ISO 8601 text; with `summary`, only INBOX_SUMMARY's fields.
 * `cursorAt` always; `rank` and `waitingKey` with their sorts only.
 */
export type InboxRow = Pick<FullInboxRow, (typeof INBOX_SUMMARY)[number]> & Partial<FullInboxRow> & { cursorAt: string; rank: number; waitingKey: string };

/** How much of a conversation an inbox row carries: all of it, or what a row of the desk shows (see INBOX_SUMMARY). */
export type InboxView = 'full' | 'summary';

/**
 * The inbox's page in one prepared statement, one round trip: the list with each row's summary from the
 * conversation itself (preview and the customer's latest message, kept by migration 330's triggers; the
 * wait's start by migration 255's), so a row costs no lookup into its messages, only its read mark.
 * Times come as ISO 8601 text (milliseconds, as a Date writes them): the hub neither parses nor formats them.
 */
export async function listInbox(tx: Queryable, f: ConversationFilter, userId: string | null, view: InboxView = 'full'): Promise<InboxRow[]> {
  const columns = inboxColumns(view, f.sort);
  const rows = await listPage<InboxRow>(tx, f, (g, search) => inboxPage(tx, listStatement(g, search, columns), userId));
  // The cursor keeps the microseconds (a page boundary inside one millisecond), the row shows milliseconds.
  for (const r of rows) r.lastMessageAt = `${r.cursorAt.slice(0, 23)}Z`;
  return rows;
}

/** What a row of the desk's inbox shows, and what its events hand to the page (`view=summary`). */
export const INBOX_SUMMARY = [
  'id', 'channelId', 'channelKind', 'channelName', 'contactId', 'contactName', 'contactEmail', 'contactPhone', 'subject', 'status', 'priority',
  'category', 'language', 'sentiment', 'confidence', 'assigneeId', 'teamId', 'lastMessageAt', 'preview', 'previewDirection', 'waitingSince', 'unread',
] as const;

/** The calling user's parameter in an inbox column; inboxPage numbers it. */
const USER_PARAM = '$user';

const INBOX_COLUMN_SQL: Record<string, string> = {
  id: 'c.id', accountId: 'c.account_id AS "accountId"', channelId: 'c.channel_id AS "channelId"', channelKind: 'ch.kind AS "channelKind"',
  contactId: 'c.contact_id AS "contactId"', contactName: 'ct.name AS "contactName"', threadKey: 'c.thread_key AS "threadKey"', subject: 'c.subject',
  status: 'c.status', priority: 'c.priority', category: 'c.category', language: 'c.language', sentiment: 'c.sentiment', confidence: 'c.confidence',
  assigneeId: 'c.assignee_id AS "assigneeId"', teamId: 'c.team_id AS "teamId"', snoozedUntil: `${iso('c.snoozed_until')} AS "snoozedUntil"`, tags: 'c.tags',
  createdAt: `${iso('c.created_at')} AS "createdAt"`, updatedAt: `${iso('c.updated_at')} AS "updatedAt"`, channelName: 'ch.name AS "channelName"',
  contactEmail: 'ct.email AS "contactEmail"', contactPhone: 'ct.phone AS "contactPhone"', preview: 'c.preview', previewDirection: 'c.preview_direction AS "previewDirection"',
  waitingSince: `${iso('c.waiting_since')} AS "waitingSince"`,
  // A customer message after the user's last read of it (never read: any customer message).
  unread: `coalesce(c.customer_at > (SELECT r.read_at FROM conversation_reads r WHERE r.conversation_id = c.id AND r.user_id = ${USER_PARAM}::uuid), c.customer_at IS NOT NULL) AS unread`,
};

/** The page's select list: a view's columns, the cursor (lastMessageAt is cut from it), and the sort's own key. */
function inboxColumns(view: InboxView, sort: ConversationFilter['sort']): string {
  const fields = view === 'summary' ? INBOX_SUMMARY : Object.keys(INBOX_COLUMN_SQL);
  const columns = fields.flatMap((k) => INBOX_COLUMN_SQL[k] ?? []);
  columns.push(`${iso('c.last_message_at', 'US')} AS "cursorAt"`);
  if (sort === 'priority') columns.push(`${RANK} AS rank`);
  if (sort === 'waiting') columns.push(`${WAITING}::text AS "waitingKey"`);
  return columns.join(', ');
}

async function inboxPage(tx: Queryable, statement: { sql: string; params: unknown[]; order: string; hits?: string }, userId: string | null): Promise<(InboxRow & SearchAnswer)[]> {
  const params = [...statement.params, userId];
  // A search's statement holds the select list twice (two gated branches): number every use of the user.
  const page = statement.sql.split(USER_PARAM).join(`$${params.length}`);
  const sql = statement.hits ? `SELECT page.*, ${HITS_COLUMNS} FROM ${statement.hits} LEFT JOIN LATERAL (${page}) page ON true ORDER BY ${statement.order}` : page;
  // A view's plan is its index walked in list order whatever the values, a search's the text index's
  // candidates read by primary key or that same walk, behind gates on what the index answered: plan each once.
  return (await queryPrepared<InboxRow & SearchAnswer>(tx, statementName('inbox_page', sql), sql, params, { genericPlan: true })).rows;
}

/** How many conversations each inbox view holds, for one user. */
export interface InboxCounts { mine: number; unassigned: number; open: number; snoozed: number; resolved: number }

/** Past this many counter rows for an account, a read folds them back to one per group (migration 285). */
export const COUNT_ROWS_COMPACT_AT = 500;

/**
 * Sums the account's counter rows (migration 285: a trigger appends +1/-1 per conversation change), so
 * it reads a few hundred rows however many conversations the account has; compacts them when they pile up.
 */
export async function inboxCounts(tx: Queryable, userId: string | null, compactAt = COUNT_ROWS_COMPACT_AT): Promise<InboxCounts> {
  const { rows } = await queryPrepared<InboxCounts & { rows: number }>(tx, 'inbox_counts',
    `SELECT coalesce(sum(n) FILTER (WHERE status IN ('open', 'pending') AND assignee_id = $1), 0)::int AS mine,
            coalesce(sum(n) FILTER (WHERE status IN ('open', 'pending') AND assignee_id IS NULL), 0)::int AS unassigned,
            coalesce(sum(n) FILTER (WHERE status IN ('open', 'pending')), 0)::int AS open,
            coalesce(sum(n) FILTER (WHERE status = 'snoozed'), 0)::int AS snoozed,
            coalesce(sum(n) FILTER (WHERE status = 'resolved'), 0)::int AS resolved,
            count(*)::int AS rows
       FROM conversation_counts WHERE account_id = hd_account()`,
    [userId],
  );
  const { rows: counted, ...counts } = rows[0]!;
  if (counted > compactAt) await tx.query(`SELECT hd_compact_conversation_counts()`);
  return counts;
}

/** Marks the conversation read by the user up to now; false when the conversation is not the tenant's. */
export async function markConversationRead(tx: Queryable, accountId: string, conversationId: string, userId: string): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO conversation_reads (account_id, conversation_id, user_id)
     SELECT $1, c.id, $3 FROM conversations c WHERE c.id = $2
     ON CONFLICT (user_id, conversation_id) DO UPDATE SET read_at = greatest(conversation_reads.read_at, now())`,
    [accountId, conversationId, userId],
  );
  return (rowCount ?? 0) > 0;
}

/** Snoozed conversations whose time has come, in every account (the hub's own connection, not a tenant's). */
export async function dueSnoozes(db: Queryable, limit = 500): Promise<{ id: string; accountId: string }[]> {
  const { rows } = await db.query<{ id: string; accountId: string }>(
    `SELECT id, account_id AS "accountId" FROM conversations WHERE status = 'snoozed' AND snoozed_until <= now() ORDER BY snoozed_until LIMIT $1`,
    [limit],
  );
  return rows;
}

/** Opens a snoozed conversation if it is still due (an agent may have snoozed it again meanwhile). */
export async function wakeIfDue(tx: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE conversations SET status = 'open', snoozed_until = NULL, updated_at = now() WHERE id = $1 AND status = 'snoozed' AND snoozed_until <= now()`,
    [id],
  );
  return (rowCount ?? 0) > 0;
}
