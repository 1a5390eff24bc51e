import type { Queryable } from '../../storage/database.js';
import type { CardModel } from './card.js';
import { humanAgentAllowed, replyWindowOf } from './channel-window.js';

/** A card's row as `cardSelect` reads it (every column null when a statement joins it and the conversation is gone). */
export interface CardRow {
  id: string | null; channelKind: string; sourceName: string | null; contactId: string; contactName: string | null; subject: string | null; status: string; priority: string;
  category: string | null; sentiment: string | null; language: string | null; confidence: number | null; snoozedUntil: Date | string | null; assignee: string | null; assigneeId: string | null;
  draft: { id: string; text: string; extractive: boolean; citations: NonNullable<CardModel['draft']>['citations'] | null } | null;
  firstText: string | null; firstAuthor: string | null;
  /** WhatsApp and Messenger only: the channel's config and the customer's last message, for the reply window. */
  windowConfig: Record<string, unknown> | null; lastInboundAt: Date | string | null;
}

/**
 * What a conversation's card shows, as one SELECT of the conversation named by `idParam` (a parameter such as
 * `$1`), so a surface can read it inside a larger statement (a Teams click reads its clicker and claim with it).
 */
export const cardSelect = (idParam: string): string =>
  `SELECT c.id, ch.kind AS "channelKind", ch.name AS "sourceName", c.contact_id AS "contactId", ct.name AS "contactName", c.subject, c.status, c.priority,
            c.category, c.sentiment, c.language, c.confidence, c.snoozed_until AS "snoozedUntil", u.name AS assignee, c.assignee_id AS "assigneeId",
            (SELECT json_build_object('id', d.id, 'text', d.text, 'extractive', d.extractive, 'citations', d.citations)
             FROM drafts d WHERE d.conversation_id = c.id AND d.status = 'proposed' ORDER BY d.created_at DESC LIMIT 1) AS draft,
            f.text AS "firstText", f.author AS "firstAuthor",
            -- The reply window (readReplyWindow in channel-window.ts) in the same read, on the channels that have one.
            CASE WHEN ch.kind IN ('whatsapp', 'messenger') THEN ch.config END AS "windowConfig",
            CASE WHEN ch.kind IN ('whatsapp', 'messenger') THEN
              (SELECT max(m.sent_at) FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'inbound' AND m.external_id IS NOT NULL) END AS "lastInboundAt"
     FROM conversations c JOIN channels ch ON ch.id = c.channel_id JOIN contacts ct ON ct.id = c.contact_id LEFT JOIN users u ON u.id = c.assignee_id
     -- The customer's own first message (customersFirst in mirror.ts, as one index read): theirs before anyone who joined the thread.
     LEFT JOIN LATERAL (
       SELECT m.text, CASE WHEN si.id IS NULL THEN ct.name ELSE coalesce(sc.name, si.display_name, si.address, si.external_id) END AS author
       FROM messages m LEFT JOIN contact_identities si ON si.id = m.sender_identity_id LEFT JOIN contacts sc ON sc.id = si.contact_id
       WHERE m.conversation_id = c.id AND m.direction = 'inbound' AND m.author_kind = 'contact'
       ORDER BY (si.id IS NULL OR si.contact_id = c.contact_id) DESC, m.sent_at, m.id LIMIT 1
     ) f ON true
     WHERE c.id = ${idParam}`;

/** The card model of a row `cardSelect` read; undefined when there was none. */
export function cardModelOf(c: CardRow, o: { url: (conversationId: string) => string; threadReplies: 'notes' | 'replies' }): CardModel | undefined {
  if (!c.id) return undefined;
  const replyWindow = replyWindowOf(c.channelKind, c.lastInboundAt, { humanAgent: humanAgentAllowed(c.windowConfig) });
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
    customer: c.contactName ?? c.firstAuthor ?? 'Customer',
    source: { kind: c.channelKind, name: c.sourceName ?? c.channelKind },
    firstLines: c.firstText ?? '',
    assignee: c.assignee,
    assigneeId: c.assigneeId,
    threadReplies: o.threadReplies,
    ...(replyWindow ? { replyWindow } : {}),
    ...(c.draft ? { draft: { id: c.draft.id, text: c.draft.text, extractive: c.draft.extractive, citations: c.draft.citations ?? [] } } : {}),
  };
}

/** What a conversation's card shows, read in one statement (Slack reads the same fields with its sync snapshot). */
export async function readCardModel(
  tx: Queryable,
  conversationId: string,
  o: { url: (conversationId: string) => string; threadReplies: 'notes' | 'replies' },
): Promise<CardModel | undefined> {
  const { rows } = await tx.query<CardRow>(cardSelect('$1'), [conversationId]);
  return rows[0] ? cardModelOf(rows[0], o) : undefined;
}
