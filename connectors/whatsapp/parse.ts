import type { AttachmentKind, DeliveryStatus, InboundAttachment, InboundEvent, NormalizedMessage } from '../core/types.js';
import { metaEntries } from '../meta/body.js';

/**
 * WhatsApp Cloud API webhooks as normalized events. Pure: no store, no network. One POST may carry
 * several entries and changes for several business numbers (`metadata.phone_number_id`), so a body is
 * first split per number (`splitWhatsAppWebhook`), and each number's changes become events of its
 * installation (`whatsappEvents`). Nothing unknown throws: it becomes an `ignored` event with a reason,
 * or, for a customer's message we cannot show, a stored notice.
 */

/** `whatsapp-media:{id}`: the attachment's bytes are fetched from Graph later by this media id. */
export const WHATSAPP_MEDIA_REF = 'whatsapp-media:';

export type WaValue = Record<string, unknown> & { metadata?: { phone_number_id?: string; display_phone_number?: string } };
export interface WaChange {
  field: string;
  value: WaValue;
}

export interface WhatsAppSplit {
  /** The changes of each business number, in the order received. */
  byNumber: Map<string, WaChange[]>;
  /** Changes that belong to no number (template, account and other WABA-level updates), with why. */
  ignored: { type: 'ignored'; reason: string }[];
}

/** Fields whose changes are about one number's conversations. */
const NUMBER_FIELDS = new Set(['messages', 'smb_message_echoes']);

export function splitWhatsAppWebhook(body: unknown): WhatsAppSplit {
  const { entry } = metaEntries('whatsapp', body, ['whatsapp_business_account']);
  const byNumber = new Map<string, WaChange[]>();
  const ignored: WhatsAppSplit['ignored'] = [];
  for (const [i, e] of entry.entries()) {
    const changes = (e as { changes?: unknown })?.changes;
    if (!Array.isArray(changes)) {
      ignored.push({ type: 'ignored', reason: `entry ${i} has no changes list` });
      continue;
    }
    for (const c of changes as { field?: unknown; value?: unknown }[]) {
      const field = typeof c?.field === 'string' ? c.field : '';
      const value = c?.value && typeof c.value === 'object' && !Array.isArray(c.value) ? (c.value as WaValue) : undefined;
      if (!NUMBER_FIELDS.has(field)) {
        ignored.push({ type: 'ignored', reason: `whatsapp field "${field || '(none)'}" is not handled` });
        continue;
      }
      const number = value?.metadata?.phone_number_id;
      if (!value || typeof number !== 'string' || !number) {
        ignored.push({ type: 'ignored', reason: `a "${field}" change without metadata.phone_number_id` });
        continue;
      }
      const list = byNumber.get(number);
      if (list) list.push({ field, value });
      else byNumber.set(number, [{ field, value }]);
    }
  }
  return { byNumber, ignored };
}

/** `whatsapp:{installation}:{customer}`: one conversation per customer and business number. */
export function whatsappThreadKey(channelId: string, customerId: string): string {
  return `whatsapp:${channelId}:${customerId}`;
}

export function parseWhatsAppThreadKey(threadKey: string): { channelId: string; customerId: string } | undefined {
  const m = /^whatsapp:([^:]+):(.+)$/.exec(threadKey);
  return m ? { channelId: m[1]!, customerId: m[2]! } : undefined;
}

/** One business number's changes as events of its installation `channelId`. */
export function whatsappEvents(channelId: string, changes: WaChange[]): InboundEvent[] {
  const events: InboundEvent[] = [];
  for (const { field, value } of changes) {
    const contacts = list<WaContact>(value.contacts);
    if (field === 'smb_message_echoes') {
      for (const m of list<WaMessage>(value.message_echoes)) events.push(echo(channelId, m, contacts));
      if (!Array.isArray(value.message_echoes)) events.push({ type: 'ignored', reason: 'an smb_message_echoes change without message_echoes' });
      continue;
    }
    for (const m of list<WaMessage>(value.messages)) events.push(inbound(channelId, m, contacts));
    for (const s of list<WaStatus>(value.statuses)) events.push(status(channelId, s));
    for (const err of list<WaError>(value.errors)) events.push({ type: 'ignored', reason: `WhatsApp reported an error: ${describeError(err)}` });
    if (!value.messages && !value.statuses && !value.errors) events.push({ type: 'ignored', reason: 'a messages change with no messages, statuses or errors' });
  }
  return events;
}

interface WaContact {
  profile?: { name?: string; username?: string };
  wa_id?: string;
  user_id?: string;
}

interface WaError {
  code?: number;
  title?: string;
  message?: string;
  error_data?: { details?: string };
}

type WaMedia = { id?: string; mime_type?: string; sha256?: string; caption?: string; filename?: string; voice?: boolean; animated?: boolean; url?: string };

interface WaMessage {
  id?: string;
  from?: string;
  from_user_id?: string;
  to?: string;
  to_user_id?: string;
  timestamp?: string;
  type?: string;
  context?: { id?: string; from?: string; forwarded?: boolean; frequently_forwarded?: boolean; referred_product?: unknown };
  text?: { body?: string };
  image?: WaMedia;
  video?: WaMedia;
  audio?: WaMedia;
  document?: WaMedia;
  sticker?: WaMedia;
  location?: { latitude?: number; longitude?: number; name?: string; address?: string; url?: string };
  contacts?: { name?: { formatted_name?: string; first_name?: string; last_name?: string }; phones?: { phone?: string; wa_id?: string; type?: string }[]; emails?: { email?: string }[] }[];
  interactive?: { type?: string; call_permission_reply?: { response?: string; expiration_timestamp?: number; response_source?: string }; button_reply?: { id?: string; title?: string }; list_reply?: { id?: string; title?: string; description?: string }; nfm_reply?: { name?: string; body?: string; response_json?: string } };
  button?: { payload?: string; text?: string };
  reaction?: { message_id?: string; emoji?: string };
  order?: { catalog_id?: string; text?: string; product_items?: { product_retailer_id?: string; quantity?: number; item_price?: number; currency?: string }[] };
  referral?: Record<string, unknown>;
  system?: { body?: string; type?: string; wa_id?: string; customer?: string };
  edit?: { original_message_id?: string; message?: WaMessage };
  revoke?: { original_message_id?: string };
  errors?: WaError[];
  unsupported?: { type?: string };
}

interface WaStatus {
  id?: string;
  status?: string;
  timestamp?: string;
  recipient_id?: string;
  biz_opaque_callback_data?: string;
  errors?: WaError[];
}

const MEDIA: Record<string, AttachmentKind> = { image: 'image', video: 'video', audio: 'audio', document: 'file', sticker: 'image' };

function list<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as T[]) : [];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function isoFromSeconds(ts: string | undefined): string {
  const n = Number(ts);
  return Number.isFinite(n) && n > 0 ? new Date(n * 1000).toISOString() : new Date(0).toISOString();
}

function describeError(e: WaError): string {
  const details = e.error_data?.details;
  return `${e.code ?? 'unknown'} ${e.title ?? e.message ?? ''}${details ? ` (${details})` : ''}`.trim();
}

/** The customer as WhatsApp names them: the business-scoped user id when given, else the phone (wa_id). */
function customerOf(m: WaMessage, contacts: WaContact[], outbound: boolean): { id?: string; phone?: string; name?: string } {
  const phone = str(outbound ? m.to : m.from);
  const userId = str(outbound ? m.to_user_id : m.from_user_id);
  // The contact entry that names this sender; the only entry stands in only when the message names no one itself.
  const contact = contacts.find((c) => (userId && c.user_id === userId) || (phone && c.wa_id === phone)) ?? (!phone && !userId && contacts.length === 1 ? contacts[0] : undefined);
  const id = userId ?? str(contact?.user_id) ?? phone ?? str(contact?.wa_id);
  return { id, phone: phone ?? str(contact?.wa_id), name: str(contact?.profile?.name) ?? str(contact?.profile?.username) };
}

function inbound(channelId: string, m: WaMessage, contacts: WaContact[]): InboundEvent {
  const who = customerOf(m, contacts, false);
  if (!str(m.id) || !who.id) return { type: 'ignored', reason: 'a WhatsApp message without id or sender' };
  return { type: 'message', message: normalized(channelId, m, who, 'inbound') };
}

/** A message our side sent from the WhatsApp Business app on the phone: recorded as ours, never as the customer's. */
function echo(channelId: string, m: WaMessage, contacts: WaContact[]): InboundEvent {
  const who = customerOf(m, contacts, true);
  if (!str(m.id) || !who.id) return { type: 'ignored', reason: 'a WhatsApp message echo without id or recipient' };
  return { type: 'message', message: { ...normalized(channelId, m, who, 'outbound'), elsewhere: { by: 'whatsapp_business_app' } } };
}

function normalized(channelId: string, m: WaMessage, who: { id?: string; phone?: string; name?: string }, direction: 'inbound' | 'outbound'): NormalizedMessage {
  const content = contentOf(m);
  const details: Record<string, unknown> = { ...content.details };
  if (m.context?.forwarded) details.forwarded = true;
  if (m.context?.frequently_forwarded) details.frequentlyForwarded = true;
  if (m.referral && typeof m.referral === 'object') details.referral = m.referral;
  const message: NormalizedMessage = {
    channel: { kind: 'whatsapp', channelId },
    externalId: m.id!,
    threadKey: whatsappThreadKey(channelId, who.id!),
    direction,
    sender:
      direction === 'inbound'
        ? { externalId: who.id!, isBot: false, ...(who.name ? { displayName: who.name } : {}), ...(who.phone ? { address: who.phone } : {}) }
        : { externalId: str(m.from) ?? 'business', isBot: false },
    sentAt: isoFromSeconds(m.timestamp),
    text: content.text,
    attachments: content.attachments,
    raw: m,
  };
  const replyTo = content.inReplyTo ?? str(m.context?.id);
  if (replyTo) message.inReplyToExternalId = replyTo;
  if (content.keptRaw) message.keptRaw = content.keptRaw;
  if (content.autoReply) message.autoReply = true;
  if (Object.keys(details).length > 0) message.details = details;
  return message;
}

interface Content {
  text: string;
  attachments: InboundAttachment[];
  details?: Record<string, unknown>;
  inReplyTo?: string;
  keptRaw?: { code: string; reason: string };
  /** Written by WhatsApp itself (number changes): stored, never answered. */
  autoReply?: boolean;
}

function contentOf(m: WaMessage): Content {
  const type = m.type ?? '';
  const none: InboundAttachment[] = [];
  switch (type) {
    case 'text':
      return { text: m.text?.body ?? '', attachments: none };
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker': {
      const media = m[type];
      if (!media?.id) return notice(type, `a ${type} message without a media id`);
      const a: InboundAttachment = { kind: MEDIA[type]!, ref: `${WHATSAPP_MEDIA_REF}${media.id}`, fetchLater: true };
      if (media.mime_type) a.mimeType = media.mime_type;
      if (media.filename) a.name = media.filename;
      const details: Record<string, unknown> = { media: { id: media.id, ...(media.sha256 ? { sha256: media.sha256 } : {}) } };
      if (type === 'audio' && media.voice) details.voice = true;
      if (type === 'sticker') details.sticker = { animated: media.animated === true };
      return { text: media.caption ?? '', attachments: [a], details };
    }
    case 'location': {
      const l = m.location ?? {};
      const where = [l.name, l.address].filter(Boolean).join(', ');
      const at = typeof l.latitude === 'number' && typeof l.longitude === 'number' ? `${l.latitude},${l.longitude}` : undefined;
      const lines = [`Location: ${where || at || 'unknown'}`, at ? `https://maps.google.com/?q=${at}` : undefined, l.url].filter(Boolean);
      return { text: lines.join('\n'), attachments: none, details: { location: l } };
    }
    case 'contacts': {
      const cards = m.contacts ?? [];
      const lines = cards.map((c) => {
        const name = c.name?.formatted_name ?? [c.name?.first_name, c.name?.last_name].filter(Boolean).join(' ');
        const phones = (c.phones ?? []).map((p) => p.phone).filter(Boolean);
        const emails = (c.emails ?? []).map((e) => e.email).filter(Boolean);
        return `Contact: ${name || 'unnamed'}${[...phones, ...emails].length ? ` (${[...phones, ...emails].join(', ')})` : ''}`;
      });
      return { text: lines.join('\n') || 'Contact card', attachments: none, details: { contacts: cards } };
    }
    case 'interactive': {
      const i = m.interactive;
      if (i?.type === 'button_reply' && i.button_reply) return { text: i.button_reply.title ?? '', attachments: none, details: { reply: { kind: 'button', id: i.button_reply.id } } };
      if (i?.type === 'list_reply' && i.list_reply) {
        const r = i.list_reply;
        return { text: [r.title, r.description].filter(Boolean).join('\n'), attachments: none, details: { reply: { kind: 'list', id: r.id } } };
      }
      if (i?.type === 'call_permission_reply' && i.call_permission_reply) {
        const answer = i.call_permission_reply.response;
        return { text: `Call permission: ${answer === 'accept' ? 'accepted' : answer === 'reject' ? 'declined' : answer ?? 'answered'}`, attachments: none, details: { callPermission: i.call_permission_reply } };
      }
      if (i?.type === 'nfm_reply' && i.nfm_reply) return { text: i.nfm_reply.body ?? 'Form submitted', attachments: none, details: { flow: { name: i.nfm_reply.name, response: i.nfm_reply.response_json } } };
      return notice('interactive', i?.type ? `an interactive reply of type "${i.type}"` : 'an interactive message without its reply');
    }
    case 'button':
      return { text: m.button?.text ?? '', attachments: none, details: { reply: { kind: 'quick_reply', payload: m.button?.payload } } };
    case 'reaction': {
      const emoji = m.reaction?.emoji;
      const target = str(m.reaction?.message_id);
      return { text: emoji ? `Reacted ${emoji}` : 'Removed a reaction', attachments: none, inReplyTo: target, details: { reaction: { emoji: emoji || null, messageId: target ?? null } } };
    }
    case 'order': {
      const o = m.order ?? {};
      const items = (o.product_items ?? []).map((p) => `${p.quantity ?? 1} × ${p.product_retailer_id ?? '?'}${p.item_price !== undefined ? ` at ${p.item_price} ${p.currency ?? ''}`.trimEnd() : ''}`);
      return { text: [`Order (catalog ${o.catalog_id ?? '?'}):`, ...items, o.text || undefined].filter(Boolean).join('\n'), attachments: none, details: { order: o } };
    }
    case 'system': {
      const s = m.system ?? {};
      return { text: s.body ?? `WhatsApp system message (${s.type ?? 'unknown'})`, attachments: none, autoReply: true, details: { system: { type: s.type, ...(s.wa_id ? { newWaId: s.wa_id } : {}) } } };
    }
    case 'edit': {
      const original = str(m.edit?.original_message_id);
      const edited = m.edit?.message ? contentOf(m.edit.message) : { text: '', attachments: none };
      return { ...edited, text: `Edited: ${edited.text}`.trimEnd(), inReplyTo: original, details: { ...edited.details, edit: { originalMessageId: original ?? null } } };
    }
    case 'revoke': {
      const original = str(m.revoke?.original_message_id);
      return { text: 'Deleted a message', attachments: none, inReplyTo: original, autoReply: true, details: { revoke: { originalMessageId: original ?? null } } };
    }
    case 'unsupported': {
      const errors = (m.errors ?? []).map(describeError).join('; ');
      const sub = m.unsupported?.type;
      return notice(sub ? `unsupported (${sub})` : 'unsupported', errors || 'WhatsApp does not deliver this message type to the Cloud API');
    }
    default:
      return notice(type || '(none)', `message type "${type || '(none)'}" is not known to HummDesk`);
  }
}

/** A customer's message we cannot show is kept as a notice, so the agent knows something arrived. */
function notice(type: string, reason: string): Content {
  return {
    text: `[A WhatsApp message of type ${type} that HummDesk cannot show: ask the customer to send it another way]`,
    attachments: [],
    keptRaw: { code: 'whatsapp_unsupported_message', reason },
  };
}

const STATUSES: Record<string, DeliveryStatus> = { sent: 'sent', delivered: 'delivered', read: 'read', played: 'read', failed: 'failed' };

function status(channelId: string, s: WaStatus): InboundEvent {
  const mapped = s.status ? STATUSES[s.status] : undefined;
  if (!str(s.id) || !mapped) return { type: 'ignored', reason: `a WhatsApp status "${s.status ?? '(none)'}" that is not a delivery state` };
  const event: Extract<InboundEvent, { type: 'status' }> = { type: 'status', channelId, externalId: s.id!, status: mapped };
  const errors = list<WaError>(s.errors);
  if (mapped === 'failed') event.error = errors.length ? errors.map(describeError).join('; ') : 'WhatsApp reported the message failed without a reason';
  if (str(s.biz_opaque_callback_data)) event.reference = s.biz_opaque_callback_data;
  return event;
}
