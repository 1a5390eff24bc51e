import { createHash } from 'node:crypto';
import type { OutboundActivity } from '../../connectors/teams/client.js';
import type { MessageRow } from '../../storage/repositories/messages.js';
import { cardVersion, via, type CardModel } from '../surfaces/card.js';
import { cardAttachment, teamsConversationCard, teamsNoticeCard } from './card.js';

/**
 * What the Teams surface posts: the root card (an Adaptive Card) and the thread's plain-text posts. Thread
 * posts go out with textFormat "plain": Teams reads no markdown, mention or link markup from them, so a
 * customer's words show as written and can mention no one.
 */

export type { CardModel };

/** Longest customer or agent text a thread post shows; longer text is cut with a link to the conversation. */
export const THREAD_TEXT_MAX = 3000;

const oneLine = (s: string) => s.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
function cut(s: string, max: number): { text: string; truncated: boolean } {
  const chars = Array.from(s);
  return chars.length <= max ? { text: s, truncated: false } : { text: `${chars.slice(0, Math.max(0, max - 1)).join('').trimEnd()}…`, truncated: true };
}
const plain = (text: string): OutboundActivity => ({ type: 'message', textFormat: 'plain', text });

/** A long text, cut with where to read the rest. */
function body(text: string, url: string): string {
  const t = cut(text.trim(), THREAD_TEXT_MAX);
  return t.truncated ? `${t.text}\n(Shortened here. Read the whole message in HummDesk: ${url})` : t.text;
}

function hhmm(iso: string): string {
  const d = new Date(iso);
  return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')} UTC`;
}

/** Files cannot be uploaded into channels by bots: they are named, with the conversation's link. */
function files(msg: MessageRow, url: string): string {
  if (!msg.attachments.length) return '';
  return `\n📎 ${msg.attachments.map((a) => oneLine(a.name ?? '') || a.kind).join(', ')}: open in HummDesk ${url}`;
}

/** The delivery line of a reply: sent / delivered / read / failed with the reason. */
export function deliveryLine(msg: MessageRow, kind: string): string {
  const by = msg.authorName ? ` by ${oneLine(msg.authorName)}` : '';
  switch (msg.deliveryStatus) {
    case 'sent':
    case 'delivered':
    case 'read':
      return `✅ Sent ${via(kind)}${by} at ${hhmm(msg.sentAt)}${msg.deliveryStatus === 'sent' ? '' : ` · ${msg.deliveryStatus}`}`;
    case 'failed':
      return `⚠️ Not delivered ${via(kind)}: ${oneLine(msg.deliveryError ?? 'unknown reason')}`;
    case 'unknown':
      return `❔ Delivery unknown ${via(kind)}: ${oneLine(msg.deliveryError ?? 'the send was interrupted')}. Check before sending again.`;
    default:
      return `⏳ Sending ${via(kind)}${by}…`;
  }
}

/**
 * A thread post mirroring one message, with the state it shows (a later state updates it in place), or
 * undefined when nothing should show. `writtenInTeams`: an agent wrote it in this thread, so its text is
 * there already; only the confirmation (or the note's acknowledgement) is posted.
 */
export function threadPost(msg: MessageRow, kind: string, url: string, writtenInTeams: boolean): { activity: OutboundActivity; state: string } | undefined {
  const author = oneLine(msg.authorName ?? '') || (msg.direction === 'inbound' ? 'Customer' : 'HummDesk');
  if (msg.notice === 'participant_joined') return { state: 'notice', activity: plain(`👥 ${oneLine(msg.text)} · not a participant, so replies are not copied to them. Add them in HummDesk: ${url}`) };
  if (msg.direction === 'inbound') {
    const sender = author + (msg.sender?.address && msg.sender.address !== msg.authorName ? ` (${oneLine(msg.sender.address)})` : '');
    const unverified = msg.authentication === 'fail' ? ' ⚠️ sender not verified' : '';
    return { state: 'inbound', activity: plain(`💬 ${sender} wrote ${via(kind)}${unverified}:\n${body(msg.text, url)}${files(msg, url)}`) };
  }
  if (msg.isPrivate) {
    if (writtenInTeams) return { state: 'note', activity: plain(`🔒 Saved as an internal note by ${author}: the customer does not see it. Use Reply on the card to answer them.`) };
    return { state: 'note', activity: plain(`🔒 Internal note by ${author} (the customer does not see this):\n${body(msg.text, url)}${files(msg, url)}`) };
  }
  const status = deliveryLine(msg, kind);
  const head = writtenInTeams ? '' : `↩️ ${author} replied:\n${body(msg.text, url)}${files(msg, url)}\n`;
  return { state: `out:${msg.deliveryStatus}:${msg.deliveryError ?? ''}`, activity: plain(`${head}${status}`) };
}

/** Several customer messages of one sender as one post. */
export function combine(posts: { activity: OutboundActivity; state: string }[]): { activity: OutboundActivity; state: string } {
  if (posts.length === 1) return posts[0]!;
  const texts = posts.map((p, i) => (i === 0 ? String(p.activity.text) : String(p.activity.text).replace(/^💬 [^\n]*\n/, '')));
  return { state: posts[0]!.state, activity: plain(cut(texts.join('\n'), THREAD_TEXT_MAX * 2).text) };
}

// ---------- the root card (hub/teams/card.ts renders the surface-neutral model) ----------

/** The root card activity: the shared card, with the version its buttons carry. */
export function rootCardActivity(m: CardModel, refreshUserIds?: string[]): OutboundActivity {
  const title = oneLine(m.subject ?? '') || oneLine(m.firstLines.split('\n')[0] ?? '') || 'New conversation';
  return { type: 'message', summary: cut(`${oneLine(m.customer)}: ${title}`, 200).text, attachments: [cardAttachment(teamsConversationCard(m, { version: cardVersion(m), ...(refreshUserIds?.length ? { userIds: refreshUserIds } : {}) }))] };
}

/** The old root once the conversation moved to another channel. */
export function movedCardActivity(m: CardModel, toChannelName: string): OutboundActivity {
  return { type: 'message', attachments: [cardAttachment(teamsNoticeCard(`${oneLine(m.customer)} (#${m.ref}) moved to ${oneLine(toChannelName)}. Continue there.`, { url: m.url, title: 'Open in HummDesk' }))] };
}

export function hashActivity(a: OutboundActivity): string {
  return createHash('sha256').update(JSON.stringify(a)).digest('hex').slice(0, 32);
}
