import type { Queryable } from '../../storage/database.js';
import { MESSENGER_HUMAN_AGENT_DAYS, MESSENGER_WINDOW_HOURS } from '../../connectors/messenger/connector.js';
import { WHATSAPP_WINDOW_HOURS } from '../../connectors/whatsapp/connector.js';

/**
 * How long a customer can be answered after their last message, on the channels that limit it: WhatsApp
 * (24 hours, then approved templates only) and Messenger (24 hours of standard messaging, `RESPONSE`;
 * then, if the Page may use it, up to 7 days by a human agent with the `HUMAN_AGENT` tag; then nothing).
 * One model for the conversation API and the cards (Slack and Teams render it).
 */
export interface ReplyWindow {
  kind: 'whatsapp' | 'messenger';
  /** When the last reply can go out (WhatsApp: 24 h; Messenger: 7 days with HUMAN_AGENT, else 24 h); null when the customer never wrote. */
  closesAt: string | null;
  /** Messenger with the HUMAN_AGENT tag: when standard messaging ends; replies after it go tagged, sent by a person. */
  responseClosesAt?: string | null;
}

/** `open`: free replies; `human_agent`: Messenger replies by a person (HUMAN_AGENT tag); `closed`: WhatsApp templates only, Messenger nothing. */
export type ReplyWindowState = 'open' | 'human_agent' | 'closed';

const HOUR = 3600_000;

/** The window of a conversation on `kind` whose customer last wrote at `lastInboundAt`; undefined for channels without one. */
export function replyWindowOf(kind: string, lastInboundAt: string | Date | null | undefined, o: { humanAgent?: boolean } = {}): ReplyWindow | undefined {
  if (kind !== 'whatsapp' && kind !== 'messenger') return undefined;
  const t = lastInboundAt ? new Date(lastInboundAt).getTime() : NaN;
  const at = (ms: number) => (Number.isFinite(t) ? new Date(t + ms).toISOString() : null);
  if (kind === 'whatsapp') return { kind, closesAt: at(WHATSAPP_WINDOW_HOURS * HOUR) };
  if (o.humanAgent === false) return { kind, closesAt: at(MESSENGER_WINDOW_HOURS * HOUR) };
  return { kind, closesAt: at(MESSENGER_HUMAN_AGENT_DAYS * 24 * HOUR), responseClosesAt: at(MESSENGER_WINDOW_HOURS * HOUR) };
}

export function replyWindowState(w: ReplyWindow, now: number = Date.now()): ReplyWindowState {
  if (!w.closesAt || Date.parse(w.closesAt) <= now) return 'closed';
  if (w.responseClosesAt && Date.parse(w.responseClosesAt) <= now) return 'human_agent';
  return 'open';
}

/** A Messenger Page may use the HUMAN_AGENT tag unless its channel says otherwise (`config.humanAgentTag: false`). */
export const humanAgentAllowed = (config: Record<string, unknown> | null | undefined): boolean => config?.humanAgentTag !== false;

/** The conversation's reply window, read in its tenant transaction (undefined for channels without one). */
export async function readReplyWindow(tx: Queryable, conversationId: string): Promise<ReplyWindow | undefined> {
  const { rows } = await tx.query<{ kind: string; config: Record<string, unknown> | null; last: Date | string | null }>(
    `SELECT ch.kind, ch.config,
            (SELECT max(m.sent_at) FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'inbound' AND m.external_id IS NOT NULL) AS last
     FROM conversations c JOIN channels ch ON ch.id = c.channel_id WHERE c.id = $1 AND ch.kind IN ('whatsapp', 'messenger')`,
    [conversationId],
  );
  const r = rows[0];
  return r ? replyWindowOf(r.kind, r.last, { humanAgent: humanAgentAllowed(r.config) }) : undefined;
}
