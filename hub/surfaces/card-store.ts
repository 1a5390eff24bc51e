import type { Queryable } from '../../storage/database.js';
import { listMessages } from '../../storage/repositories/messages.js';
import type { CardModel } from './card.js';
import { readReplyWindow } from './channel-window.js';
import { customersFirst } from './mirror.js';

/** What a conversation's card shows, read in one tenant transaction (Slack reads the same fields with its sync snapshot). */
export async function readCardModel(
  tx: Queryable,
  conversationId: string,
  o: { url: (conversationId: string) => string; threadReplies: 'notes' | 'replies' },
): Promise<CardModel | undefined> {
  const { rows } = await tx.query<{
    id: string; channelKind: string; sourceName: string | null; contactId: string; contactName: string | null; subject: string | null; status: string; priority: string;
    category: string | null; sentiment: string | null; language: string | null; confidence: number | null; snoozedUntil: Date | string | null; assignee: string | null; assigneeId: string | null;
    draft: { id: string; text: string; extractive: boolean; citations: NonNullable<CardModel['draft']>['citations'] | null } | null;
  }>(
    `SELECT c.id, ch.kind AS "channelKind", ch.name AS "sourceName", c.contact_id AS "contactId", ct.name AS "contactName", c.subject, c.status, c.priority,
            c.category, c.sentiment, c.language, c.confidence, c.snoozed_until AS "snoozedUntil", u.name AS assignee, c.assignee_id AS "assigneeId",
            (SELECT json_build_object('id', d.id, 'text', d.text, 'extractive', d.extractive, 'citations', d.citations)
             FROM drafts d WHERE d.conversation_id = c.id AND d.status = 'proposed' ORDER BY d.created_at DESC LIMIT 1) AS draft
     FROM conversations c JOIN channels ch ON ch.id = c.channel_id JOIN contacts ct ON ct.id = c.contact_id LEFT JOIN users u ON u.id = c.assignee_id
     WHERE c.id = $1`,
    [conversationId],
  );
  const c = rows[0];
  if (!c) return undefined;
  const first = customersFirst(await listMessages(tx, conversationId, { limit: 200 }), c.contactId);
  return {
    conversationId: c.id,
    ref: c.id.slice(0, 8),
    url: o.url(c.id),
    subject: c.subject,
    status: c.status,
    priority: c.priority,
    category: c.category,
    sentiment: c.sentiment,
    language: c.language,
    confidence: c.confidence === null ? null : Number(c.confidence),
    snoozedUntil: c.snoozedUntil ? new Date(c.snoozedUntil).toISOString() : null,
    customer: c.contactName ?? first?.authorName ?? 'Customer',
    source: { kind: c.channelKind, name: c.sourceName ?? c.channelKind },
    firstLines: first?.text ?? '',
    assignee: c.assignee,
    assigneeId: c.assigneeId,
    threadReplies: o.threadReplies,
    ...(c.channelKind === 'whatsapp' || c.channelKind === 'messenger' ? { replyWindow: await readReplyWindow(tx, conversationId) } : {}),
    ...(c.draft ? { draft: { id: c.draft.id, text: c.draft.text, extractive: c.draft.extractive, citations: c.draft.citations ?? [] } } : {}),
  };
}
