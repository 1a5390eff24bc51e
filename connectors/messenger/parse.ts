import type { AttachmentKind, InboundAttachment, InboundEvent, NormalizedMessage } from '../core/types.js';
import { metaEntries } from '../meta/body.js';

/**
 * Messenger Platform webhooks (`object: "page"`) as normalized events. Pure: no store, no network. One
 * POST may carry entries of several Pages, so a body is first split per Page id
 * (`splitMessengerWebhook`), and each Page's `messaging[]` and `standby[]` items become events of its
 * installation (`messengerEvents`). The customer is named by their page-scoped id (PSID). Nothing
 * unknown throws: it becomes an `ignored` event with a reason.
 */

/** What our sends carry in `metadata`, so their echoes are known as ours: `hummdesk:{our message id}`. */
export const MESSENGER_METADATA_PREFIX = 'hummdesk:';

/** `messenger-url:{url}`: the attachment's bytes are fetched later from the URL Meta gave. */
export const MESSENGER_URL_REF = 'messenger-url:';

export interface MsItem {
  /** From `standby[]`: another app owns the thread, so the item is context only. */
  standby: boolean;
  event: MsEvent;
}

export interface MessengerSplit {
  byPage: Map<string, MsItem[]>;
  ignored: { type: 'ignored'; reason: string }[];
}

interface MsAttachment {
  type?: string;
  title?: string;
  url?: string;
  payload?: { url?: string; sticker_id?: number; title?: string; coordinates?: { lat?: number; long?: number }; [k: string]: unknown } | null;
}

interface MsMessage {
  mid?: string;
  text?: string;
  is_echo?: boolean;
  app_id?: number | string;
  metadata?: string;
  quick_reply?: { payload?: string };
  reply_to?: { mid?: string; story?: unknown };
  attachments?: MsAttachment[];
  referral?: Record<string, unknown>;
  is_deleted?: boolean;
}

export interface MsEvent {
  sender?: { id?: string } | null;
  recipient?: { id?: string } | null;
  timestamp?: number;
  message?: MsMessage | null;
  postback?: { mid?: string; title?: string; payload?: string; referral?: Record<string, unknown> } | null;
  referral?: { ref?: string; source?: string; type?: string; ad_id?: string } | null;
  reaction?: { mid?: string; action?: string; emoji?: string; reaction?: string } | null;
  message_edit?: { mid?: string; text?: string; num_edit?: number } | null;
  delivery?: { mids?: string[]; watermark?: number } | null;
  pass_thread_control?: ThreadControl | null;
  take_thread_control?: ThreadControl | null;
  request_thread_control?: { requested_owner_app_id?: string | number; metadata?: string } | null;
  read?: { watermark?: number } | null;
  [k: string]: unknown;
}

interface ThreadControl {
  new_owner_app_id?: string | number | null;
  previous_owner_app_id?: string | number | null;
  metadata?: string;
}

/** The Page inbox's app id: where thread control goes back when no earlier owner is known. */
export const PAGE_INBOX_APP_ID = '263902037430900';

export function splitMessengerWebhook(body: unknown): MessengerSplit {
  const { entry } = metaEntries('messenger', body, ['page']);
  const byPage = new Map<string, MsItem[]>();
  const ignored: MessengerSplit['ignored'] = [];
  for (const [i, raw] of entry.entries()) {
    const e = raw as { id?: unknown; messaging?: unknown; standby?: unknown; changes?: unknown } | null;
    const page = typeof e?.id === 'string' && e.id ? e.id : typeof e?.id === 'number' ? String(e.id) : undefined;
    if (!page) {
      ignored.push({ type: 'ignored', reason: `entry ${i} names no Page id` });
      continue;
    }
    if (!Array.isArray(e!.messaging) && !Array.isArray(e!.standby)) {
      ignored.push({ type: 'ignored', reason: `entry ${i} of Page ${page} has no messaging or standby list${Array.isArray(e!.changes) ? ' (Page feed changes are not handled)' : ''}` });
      continue;
    }
    const items: MsItem[] = [
      ...list<MsEvent>(e!.messaging).map((event) => ({ standby: false, event })),
      ...list<MsEvent>(e!.standby).map((event) => ({ standby: true, event })),
    ];
    const known = byPage.get(page);
    if (known) known.push(...items);
    else byPage.set(page, items);
  }
  return { byPage, ignored };
}

/** `messenger:{installation}:{psid}`: one conversation per customer and Page. */
export function messengerThreadKey(channelId: string, psid: string): string {
  return `messenger:${channelId}:${psid}`;
}

export function parseMessengerThreadKey(threadKey: string): { channelId: string; psid: string } | undefined {
  const m = /^messenger:([^:]+):(.+)$/.exec(threadKey);
  return m ? { channelId: m[1]!, psid: m[2]! } : undefined;
}

export interface MessengerParseOptions {
  /** Our Meta app ids: an echo sent by one of them is ours. */
  appIds?: readonly string[];
}

/** One Page's items as events of its installation `channelId`. */
export function messengerEvents(channelId: string, pageId: string, items: MsItem[], opts: MessengerParseOptions = {}): InboundEvent[] {
  return items.flatMap(({ standby, event }) => one(channelId, pageId, event, standby, opts));
}

function one(channelId: string, pageId: string, e: MsEvent, standby: boolean, opts: MessengerParseOptions): InboundEvent | InboundEvent[] {
  const from = str(e.sender?.id);
  const to = str(e.recipient?.id);
  const at = isoFromMillis(e.timestamp);
  const m = e.message;
  if (m && m.is_echo) return echo(channelId, pageId, e, m, opts);
  // Everything else is the customer's doing: the sender is the PSID, the recipient our Page.
  if (!from) return { type: 'ignored', reason: `a Messenger ${kindOf(e)} without a sender` };
  if (from === pageId) return { type: 'ignored', reason: `a Messenger ${kindOf(e)} from the Page itself` };
  const base = (externalId: string, content: Content): InboundEvent => ({ type: 'message', message: message(channelId, from, externalId, at, content, standby, e) });
  if (m) {
    if (!str(m.mid)) return { type: 'ignored', reason: 'a Messenger message without mid' };
    if (m.is_deleted) return { type: 'deleted', channelId, externalId: m.mid!, deletedAt: at, threadKey: messengerThreadKey(channelId, from) };
    return base(m.mid!, contentOf(m));
  }
  if (e.postback) {
    const p = e.postback;
    const id = str(p.mid) ?? `postback:${from}:${e.timestamp ?? 0}`;
    return base(id, { text: p.title ?? p.payload ?? 'Pressed a button', attachments: [], details: { postback: { payload: p.payload ?? null, title: p.title ?? null }, ...(p.referral ? { referral: p.referral } : {}) } });
  }
  if (e.reaction) {
    const r = e.reaction;
    const target = str(r.mid);
    const removed = r.action === 'unreact';
    const emoji = r.emoji ?? r.reaction;
    return base(`reaction:${from}:${target ?? ''}:${r.action ?? 'react'}:${e.timestamp ?? 0}`, {
      text: removed ? 'Removed a reaction' : `Reacted ${emoji ?? ''}`.trimEnd(),
      attachments: [],
      inReplyTo: target,
      details: { reaction: { emoji: removed ? null : emoji ?? null, name: r.reaction ?? null, messageId: target ?? null } },
    });
  }
  if (e.referral) {
    const r = e.referral;
    // The customer opened the thread from a link, an ad or a QR code: context for the agent, never answered.
    return base(`referral:${from}:${e.timestamp ?? 0}`, {
      text: `Opened the conversation from ${r.source ?? 'a referral'}${r.ref ? ` (ref ${r.ref})` : ''}`,
      attachments: [],
      autoReply: true,
      details: { referral: r },
    });
  }
  if (e.message_edit) {
    const x = e.message_edit;
    if (!str(x.mid)) return { type: 'ignored', reason: 'a Messenger message_edit without mid' };
    return { type: 'edited', channelId, externalId: x.mid!, text: x.text ?? '', editedAt: at, threadKey: messengerThreadKey(channelId, from) };
  }
  if (e.delivery) {
    const mids = (e.delivery.mids ?? []).filter((x): x is string => typeof x === 'string' && x !== '');
    // The customer's device has every message up to the watermark; those named are the ones Meta lists.
    const statuses = mids.map((externalId): InboundEvent => ({ type: 'status', channelId, externalId, status: 'delivered' }));
    const mark = watermark(channelId, from, 'delivered', e.delivery.watermark);
    return mark ? [...statuses, mark] : statuses.length ? statuses : { type: 'ignored', reason: 'a Messenger delivery naming no message and no watermark' };
  }
  if (e.read) return watermark(channelId, from, 'read', e.read.watermark) ?? { type: 'ignored', reason: 'a Messenger read without a watermark' };
  if (e.pass_thread_control || e.take_thread_control) return control(channelId, from, at, e, opts);
  if (e.request_thread_control)
    return { type: 'ignored', reason: `app ${String(e.request_thread_control.requested_owner_app_id ?? '(unknown)')} asked for the thread; HummDesk passes it back when the conversation is resolved` };
  return { type: 'ignored', reason: `a Messenger ${kindOf(e)} event is not handled` };
}

/**
 * Thread control changed hands (handover protocol). `pass_thread_control` reaches the new owner;
 * `take_thread_control` reaches the app that lost it (newer payloads name the taker too). Either way
 * the thread is ours when the new owner is one of our app ids, and someone else's otherwise.
 */
function control(channelId: string, psid: string, at: string, e: MsEvent, opts: MessengerParseOptions): InboundEvent {
  const c = (e.pass_thread_control ?? e.take_thread_control)!;
  const ours = new Set((opts.appIds ?? []).map(String));
  const next = str(c.new_owner_app_id) ?? null;
  const previous = str(c.previous_owner_app_id) ?? null;
  const owner: 'us' | 'other' = next && ours.has(next) ? 'us' : 'other';
  return { type: 'control', channelId, threadKey: messengerThreadKey(channelId, psid), owner, appId: next, previousAppId: previous, at };
}

/** Every earlier outbound message to `psid` has reached `status` (the watermark is in milliseconds). */
function watermark(channelId: string, psid: string, status: 'delivered' | 'read', at: unknown): InboundEvent | undefined {
  const n = Number(at);
  if (!Number.isFinite(n) || n <= 0) return undefined;
  return { type: 'watermark', channelId, threadKey: messengerThreadKey(channelId, psid), status, upTo: new Date(n).toISOString() };
}

/**
 * A message the Page sent. Ours (sent by one of our app ids, or carrying our message id in
 * `metadata`) confirms our send and never becomes a new message; another app's (the Page inbox, a
 * bot) is recorded as outbound by someone else.
 */
function echo(channelId: string, pageId: string, e: MsEvent, m: MsMessage, opts: MessengerParseOptions): InboundEvent {
  const psid = str(e.recipient?.id);
  if (!str(m.mid) || !psid) return { type: 'ignored', reason: 'a Messenger echo without mid or recipient' };
  const ours = typeof m.metadata === 'string' && m.metadata.startsWith(MESSENGER_METADATA_PREFIX);
  const ourApp = m.app_id !== undefined && (opts.appIds ?? []).includes(String(m.app_id));
  if (ours || ourApp) {
    const status: InboundEvent = { type: 'status', channelId, externalId: m.mid!, status: 'sent' };
    if (ours) status.reference = m.metadata!.slice(MESSENGER_METADATA_PREFIX.length);
    return status;
  }
  const content = contentOf(m);
  const msg: NormalizedMessage = {
    channel: { kind: 'messenger', channelId },
    externalId: m.mid!,
    threadKey: messengerThreadKey(channelId, psid),
    direction: 'outbound',
    sender: { externalId: str(e.sender?.id) ?? pageId, isBot: false },
    sentAt: isoFromMillis(e.timestamp),
    text: content.text,
    attachments: content.attachments,
    raw: e,
    details: { ...content.details, echo: { appId: m.app_id === undefined ? null : String(m.app_id) } },
    elsewhere: { by: m.app_id === undefined ? 'messenger_page' : String(m.app_id) === PAGE_INBOX_APP_ID ? 'messenger_page_inbox' : `messenger_app:${String(m.app_id)}` },
  };
  if (content.inReplyTo) msg.inReplyToExternalId = content.inReplyTo;
  return { type: 'message', message: msg };
}

interface Content {
  text: string;
  attachments: InboundAttachment[];
  details?: Record<string, unknown>;
  inReplyTo?: string;
  keptRaw?: { code: string; reason: string };
  autoReply?: boolean;
}

const MEDIA: Record<string, AttachmentKind> = { image: 'image', video: 'video', audio: 'audio', file: 'file' };

function contentOf(m: MsMessage): Content {
  const details: Record<string, unknown> = {};
  const attachments: InboundAttachment[] = [];
  const lines: string[] = m.text ? [m.text] : [];
  let keptRaw: Content['keptRaw'];
  if (m.quick_reply) details.reply = { kind: 'quick_reply', payload: m.quick_reply.payload ?? null };
  if (m.referral) details.referral = m.referral;
  for (const a of list<MsAttachment>(m.attachments)) {
    const type = a.type ?? '';
    const url = str(a.payload?.url);
    if (type === 'image' && typeof a.payload?.sticker_id === 'number') {
      if (url) attachments.push({ kind: 'image', ref: `${MESSENGER_URL_REF}${url}`, fetchLater: true });
      details.sticker = { id: a.payload.sticker_id };
      if (!m.text) lines.push('Sticker');
    } else if (MEDIA[type]) {
      if (url) attachments.push({ kind: MEDIA[type]!, ref: `${MESSENGER_URL_REF}${url}`, fetchLater: true });
      else keptRaw = { code: 'messenger_unsupported_message', reason: `a ${type} attachment without a URL` };
    } else if (type === 'location') {
      const c = a.payload?.coordinates;
      const where = typeof c?.lat === 'number' && typeof c.long === 'number' ? `${c.lat},${c.long}` : undefined;
      lines.push([`Location: ${a.title ?? where ?? 'unknown'}`, where ? `https://maps.google.com/?q=${where}` : undefined].filter(Boolean).join('\n'));
      details.location = { title: a.title ?? null, lat: c?.lat ?? null, long: c?.long ?? null };
    } else if (type === 'fallback') {
      // A shared link Meta could not describe otherwise.
      const link = str(a.url) ?? url;
      lines.push([a.title ?? a.payload?.title, link].filter(Boolean).join('\n') || 'Shared content');
      details.fallback = { title: a.title ?? a.payload?.title ?? null, url: link ?? null };
    } else {
      keptRaw = { code: 'messenger_unsupported_message', reason: `attachment type "${type || '(none)'}" is not known to HummDesk` };
    }
  }
  const content: Content = { text: lines.join('\n'), attachments };
  if (keptRaw) {
    content.keptRaw = keptRaw;
    if (!content.text && attachments.length === 0) content.text = '[A Messenger message HummDesk cannot show: ask the customer to send it another way]';
  }
  const replyTo = str(m.reply_to?.mid);
  if (replyTo) content.inReplyTo = replyTo;
  if (Object.keys(details).length) content.details = details;
  return content;
}

function message(channelId: string, psid: string, externalId: string, sentAt: string, c: Content, standby: boolean, raw: MsEvent): NormalizedMessage {
  const m: NormalizedMessage = {
    channel: { kind: 'messenger', channelId },
    externalId,
    threadKey: messengerThreadKey(channelId, psid),
    direction: 'inbound',
    sender: { externalId: psid, isBot: false },
    sentAt,
    text: c.text,
    attachments: c.attachments,
    raw,
  };
  const details = { ...c.details, ...(standby ? { standby: true } : {}) };
  if (c.inReplyTo) m.inReplyToExternalId = c.inReplyTo;
  if (c.keptRaw) m.keptRaw = c.keptRaw;
  // Standby: another app owns the thread, so this is context for the agent and nothing answers it.
  if (c.autoReply || standby) m.autoReply = true;
  if (Object.keys(details).length) m.details = details;
  return m;
}

const KINDS = ['message', 'postback', 'reaction', 'referral', 'message_edit', 'delivery', 'read', 'optin', 'account_linking', 'pass_thread_control', 'take_thread_control', 'request_thread_control', 'app_roles', 'policy_enforcement', 'game_play', 'response_feedback', 'messaging_feedback'];

function kindOf(e: MsEvent): string {
  const k = KINDS.find((x) => e[x] !== undefined && e[x] !== null) ?? Object.keys(e).find((x) => !['sender', 'recipient', 'timestamp'].includes(x) && e[x] !== null && e[x] !== false);
  return k ? `"${k}"` : 'item with no content';
}

function list<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as T[]) : [];
}

function str(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Messenger timestamps are milliseconds. */
function isoFromMillis(ts: unknown): string {
  const n = Number(ts);
  return Number.isFinite(n) && n > 0 ? new Date(n).toISOString() : new Date(0).toISOString();
}
