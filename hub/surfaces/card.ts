import { createHash } from 'node:crypto';
import type { ReplyWindow } from './channel-window.js';

/**
 * The conversation card, surface-neutral: what a card shows and which actions it offers. Block Kit
 * (hub/slack/blocks.ts) and Adaptive Cards (hub/teams/card.ts) are two renderers of this one model.
 */

export interface CardCitation {
  id?: string;
  title?: string;
  url?: string;
  excerpt?: string;
}

export interface CardModel {
  conversationId: string;
  ref: string;
  url: string;
  subject: string | null;
  status: string;
  priority: string;
  category: string | null;
  sentiment: string | null;
  language: string | null;
  confidence: number | null;
  snoozedUntil: string | null;
  customer: string;
  source: { kind: string; name: string };
  firstLines: string;
  assignee: string | null;
  /** The assignee's HummDesk user id, when known: a per-agent view says "assigned to you" and drops "Assign to me". */
  assigneeId?: string | null;
  draft?: { id: string; text: string; extractive: boolean; citations: CardCitation[] };
  /** What a plain reply in the card's thread becomes on this installation. */
  threadReplies: 'notes' | 'replies';
  /** WhatsApp and Messenger: how long the customer can be answered (hub/surfaces/channel-window.ts). */
  replyWindow?: ReplyWindow;
}

/** Every action a card can offer, by its surface-neutral name. */
export const CARD_ACTIONS = ['sendDraft', 'editDraft', 'reply', 'note', 'assignMe', 'resolve', 'reopen', 'snooze'] as const;
export type CardAction = (typeof CARD_ACTIONS)[number];
export const isCardAction = (v: unknown): v is CardAction => typeof v === 'string' && (CARD_ACTIONS as readonly string[]).includes(v);

export interface OfferedAction {
  action: CardAction;
  label: string;
  style?: 'primary' | 'danger';
  /** Actions that ask for text first (a compose modal, a ShowCard input). */
  needsText?: boolean;
}

/** Snooze choices: label and hours. */
export const SNOOZE_CHOICES: readonly (readonly [string, number])[] = [['1 hour', 1], ['4 hours', 4], ['1 day', 24], ['1 week', 168]];
export const MAX_SNOOZE_HOURS = 24 * 30;

/** Who is looking at a card: a linked agent (per-agent views) or anyone in the channel (the shared card). */
export interface CardViewer {
  userId: string;
}

/**
 * The actions a card offers in its current state, in the order they show. Anyone linked to an agent
 * (not a viewer) may use every offered action; the shared card (no viewer) offers "Assign to me" always,
 * an agent's own view not when the conversation is theirs already.
 */
export function offeredActions(m: CardModel, viewer?: CardViewer): OfferedAction[] {
  const out: OfferedAction[] = [];
  if (m.draft) out.push({ action: 'sendDraft', label: 'Send draft', style: 'primary' }, { action: 'editDraft', label: 'Edit draft', needsText: true });
  out.push({ action: 'reply', label: m.threadReplies === 'notes' ? 'Reply to customer' : 'Reply', needsText: true });
  out.push({ action: 'note', label: 'Add note', needsText: true });
  if (!viewer || !m.assigneeId || m.assigneeId !== viewer.userId) out.push({ action: 'assignMe', label: 'Assign to me' });
  out.push(m.status === 'resolved' ? { action: 'reopen', label: 'Reopen' } : { action: 'resolve', label: 'Resolve', style: 'danger' });
  out.push({ action: 'snooze', label: 'Snooze' });
  return out;
}

/** The card's title: the subject, else the customer's first line. */
export function cardTitle(m: CardModel, oneLine: (s: string) => string): string {
  return oneLine(m.subject ?? '') || oneLine(m.firstLines.split('\n')[0] ?? '') || 'New conversation';
}

const VIA: Record<string, string> = { email: 'by email', whatsapp: 'on WhatsApp', messenger: 'on Messenger', slack: 'in Slack', teams: 'in Teams', webchat: 'in web chat' };
export const via = (kind: string) => VIA[kind] ?? `on ${kind}`;

/**
 * The card's version: changes whenever what its actions act on changes (status, snooze, assignee, the
 * draft). Buttons carry it, so a click on an older rendering is recognised as stale, and a second click on
 * the same one as a repeat. A new classification alone does not make earlier buttons stale.
 */
export function cardVersion(m: CardModel): string {
  const until = m.snoozedUntil ? Math.floor(Date.parse(m.snoozedUntil) / 1000) : null;
  const state = [m.conversationId, m.status, until, m.assignee ?? null, m.draft?.id ?? null, m.draft ? createHash('sha256').update(m.draft.text).digest('base64url') : null];
  return createHash('sha256').update(JSON.stringify(state)).digest('base64url').slice(0, 12);
}
