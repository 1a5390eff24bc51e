import type { Queryable } from '../database.js';

export async function insertAiResult(
  tx: Queryable,
  r: { accountId: string; conversationId: string; messageId: string | null; provider: string; model: string; latencyMs: number;
       category?: string | null; priority?: string | null; sentiment?: string | null; language?: string | null; confidence?: number | null;
       evidence?: Record<string, unknown> },
): Promise<string> {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO ai_results (account_id, conversation_id, message_id, provider, model, latency_ms, category, priority, sentiment, language, confidence, evidence)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
    [r.accountId, r.conversationId, r.messageId, r.provider, r.model, r.latencyMs, r.category ?? null, r.priority ?? null,
      r.sentiment ?? null, r.language ?? null, r.confidence ?? null, r.evidence ?? {}],
  );
  return rows[0]!.id;
}

export interface DraftRow {
  id: string;
  conversationId: string;
  messageId: string | null;
  aiResultId: string | null;
  text: string;
  extractive: boolean;
  citations: unknown[];
  status: 'proposed' | 'accepted' | 'edited' | 'rejected' | 'superseded';
  finalText: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  createdAt: string;
}

const DRAFT_COLUMNS = `id, conversation_id AS "conversationId", message_id AS "messageId", ai_result_id AS "aiResultId", text,
  extractive, citations, status, final_text AS "finalText", decided_by AS "decidedBy", decided_at AS "decidedAt", created_at AS "createdAt"`;

type NewDraft = { accountId: string; conversationId: string; messageId: string | null; aiResultId: string | null; text: string; extractive: boolean; citations: unknown[] };

/** A new draft replaces the conversation's open proposals. */
export async function insertDraft(tx: Queryable, d: NewDraft): Promise<string> {
  return (await insertDrafts(tx, [d]))[0]!;
}

/**
 * One analysis's proposals, first choice first, as alternatives of one set: they supersede the
 * conversation's earlier open proposals once, then all stay open together. created_at steps back a
 * microsecond per rank, so the newest-first listing keeps their order within the one transaction.
 */
export async function insertDrafts(tx: Queryable, drafts: NewDraft[]): Promise<string[]> {
  if (!drafts.length) return [];
  // One statement: the conversation's open proposals retire and the new ones go in (the UPDATE sees only
  // rows from before the statement); ranks are kept in created_at, a microsecond apart, best first.
  const { rows } = await tx.query<{ id: string }>(
    `WITH retired AS (UPDATE drafts SET status = 'superseded' WHERE conversation_id = $1 AND status = 'proposed'),
     added AS (
       INSERT INTO drafts (account_id, conversation_id, message_id, ai_result_id, text, extractive, citations, created_at)
       SELECT d.account_id, $1, d.message_id, d.ai_result_id, d.text, d.extractive, d.citations, now() - (d.rank - 1)::int * interval '1 microsecond'
       FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::boolean[], $7::jsonb[]) WITH ORDINALITY
         AS d(account_id, message_id, ai_result_id, text, extractive, citations, rank)
       RETURNING id, created_at)
     SELECT id FROM added ORDER BY created_at DESC`,
    [drafts[0]!.conversationId, drafts.map((d) => d.accountId), drafts.map((d) => d.messageId), drafts.map((d) => d.aiResultId),
      drafts.map((d) => d.text), drafts.map((d) => d.extractive), drafts.map((d) => JSON.stringify(d.citations))],
  );
  return rows.map((r) => r.id);
}

/**
 * Retires the conversation's open proposals: the agent answered by hand, resolved it, or a newer
 * analysis has nothing to propose. Returns how many were open.
 */
export async function retireDrafts(tx: Queryable, conversationId: string): Promise<number> {
  return (await tx.query(`UPDATE drafts SET status = 'superseded' WHERE conversation_id = $1 AND status = 'proposed'`, [conversationId])).rowCount;
}

/**
 * Whether an analysis of the message `param` (an SQL parameter) may still propose drafts: not once the
 * conversation is resolved, an agent has answered after the message, or a newer customer message (whose
 * own analysis follows) came in; false for no such message. An SQL expression: the AI stage reads it
 * with the rest of its write's state in one statement.
 */
export const DRAFTS_WANTED = (param: string) => `coalesce((SELECT mc.status <> 'resolved'
       AND NOT EXISTS (SELECT 1 FROM messages o WHERE o.conversation_id = m.conversation_id AND o.direction = 'outbound' AND NOT o.is_private AND o.created_at > m.created_at)
       AND NOT EXISTS (SELECT 1 FROM messages n WHERE n.conversation_id = m.conversation_id AND n.direction = 'inbound' AND NOT n.is_private AND (n.sent_at, n.id) > (m.sent_at, m.id))
     FROM messages m JOIN conversations mc ON mc.id = m.conversation_id WHERE m.id = ${param}), false)`;

export async function listDrafts(tx: Queryable, conversationId: string): Promise<DraftRow[]> {
  return (await tx.query<DraftRow>(`SELECT ${DRAFT_COLUMNS} FROM drafts WHERE conversation_id = $1 ORDER BY created_at DESC`, [conversationId])).rows;
}

export async function getDraft(tx: Queryable, id: string): Promise<DraftRow | undefined> {
  return (await tx.query<DraftRow>(`SELECT ${DRAFT_COLUMNS} FROM drafts WHERE id = $1`, [id])).rows[0];
}

export async function decideDraft(
  tx: Queryable,
  id: string,
  d: { status: 'accepted' | 'edited' | 'rejected'; finalText: string | null; userId: string | null },
): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE drafts SET status = $2, final_text = $3, decided_by = $4, decided_at = now() WHERE id = $1 AND status = 'proposed'`,
    [id, d.status, d.finalText, d.userId],
  );
  // Sending one alternative (as is or edited) supersedes the rest of its conversation's open proposals; rejecting one leaves the others open.
  if (rowCount > 0 && d.status !== 'rejected')
    await tx.query(
      `UPDATE drafts SET status = 'superseded' WHERE conversation_id = (SELECT conversation_id FROM drafts WHERE id = $1) AND id <> $1 AND status = 'proposed'`,
      [id],
    );
  return rowCount > 0;
}

export async function latestAiResult(tx: Queryable, conversationId: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await tx.query(
    `SELECT id, provider, model, latency_ms AS "latencyMs", category, priority, sentiment, language, confidence, evidence, created_at AS "createdAt"
     FROM ai_results WHERE conversation_id = $1 ORDER BY created_at DESC LIMIT 1`,
    [conversationId],
  );
  return rows[0];
}
