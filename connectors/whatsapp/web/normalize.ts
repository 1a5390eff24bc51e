import type { AttachmentKind, DeliveryStatus, InboundAttachment, InboundEvent, NormalizedMessage } from '../../core/types.js';
import { WA_ACK, remoteOf, type WaWebMessage } from './port.js';

/**
 * whatsapp-web.js events as the same normalized events the Cloud API connector gives: a linked
 * phone's chats become conversations keyed by chat id (`358401234567@c.us`, or `…@lid` when WhatsApp
 * hides the number: that id is the identity, no phone is looked up per message). Groups, broadcasts,
 * status updates and channels are not support conversations and are ignored with a reason.
 */

export const WA_WEB_KIND = 'whatsapp-web' as const;
/** `whatsapp-web-media:{serialized message id}`: the file is fetched later through the linked session. */
export const WA_WEB_MEDIA_REF = 'whatsapp-web-media:';

export function waWebThreadKey(channelId: string, chatId: string): string {
  return `${WA_WEB_KIND}:${channelId}:${chatId}`;
}

/** Why a chat is not a one-to-one customer chat, or undefined when it is one. */
export function notACustomerChat(chatId: string, m?: Pick<WaWebMessage, 'isStatus' | 'broadcast'>): string | undefined {
  if (chatId.endsWith('@g.us')) return `group chat ${chatId}: groups are not support conversations`;
  if (m?.isStatus || chatId === 'status@broadcast') return 'a status update, not a message';
  if (chatId.endsWith('@broadcast') || m?.broadcast) return `broadcast list ${chatId}`;
  if (chatId.endsWith('@newsletter')) return `WhatsApp channel ${chatId}`;
  if (!/@(c\.us|lid|s\.whatsapp\.net)$/.test(chatId)) return `chat ${chatId} is not a person`;
  return undefined;
}

/** The phone number in a `…@c.us` id (digits, as the Cloud API's wa_id); a `@lid` id hides it. */
export function phoneOf(chatId: string): string | undefined {
  const m = /^(\d{5,20})@(c\.us|s\.whatsapp\.net)$/.exec(chatId);
  return m?.[1];
}

const MEDIA_KIND: Record<string, AttachmentKind> = { image: 'image', video: 'video', audio: 'audio', ptt: 'audio', document: 'file', sticker: 'image', ptv: 'video' };
/** Message types that are protocol noise, not something a person wrote. */
const NOT_MESSAGES = new Set(['e2e_notification', 'notification_template', 'gp2', 'protocol', 'call_log', 'ciphertext', 'revoked', 'broadcast_notification', 'notification', 'pinned_message']);

/**
 * A message in a customer chat. `message` (theirs) → inbound; `message_create` from us → outbound,
 * our own side typed on the phone (an echo of a send of ours is told apart by the caller, who knows
 * what it sent). Media is downloaded here through the library (`downloadMedia()`); when it gives nothing
 * the attachment is fetched later by reference, and a file that still cannot be had is marked unavailable.
 */
export async function messageEvent(channelId: string, m: WaWebMessage): Promise<InboundEvent> {
  const chatId = m.fromMe ? m.to : m.from;
  const skip = notACustomerChat(chatId, m);
  if (skip) return { type: 'ignored', reason: skip };
  if (NOT_MESSAGES.has(m.type)) return { type: 'ignored', reason: `whatsapp-web message type "${m.type}" is not a message` };
  const data = m._data ?? {};
  const notifyName = typeof data.notifyName === 'string' && data.notifyName.trim() ? data.notifyName.trim() : undefined;
  const phone = phoneOf(chatId);
  const { text, attachments, details } = await contentOf(m);
  const msg: NormalizedMessage = {
    channel: { kind: WA_WEB_KIND, channelId },
    externalId: m.id._serialized,
    threadKey: waWebThreadKey(channelId, chatId),
    direction: m.fromMe ? 'outbound' : 'inbound',
    sender: m.fromMe
      ? { externalId: 'phone', displayName: 'Linked phone', isBot: false, staff: true }
      : { externalId: chatId, ...(notifyName ? { displayName: notifyName } : {}), ...(phone ? { address: phone } : {}), isBot: false },
    sentAt: isoFromSeconds(m.timestamp),
    text,
    attachments,
    raw: { id: m.id._serialized, type: m.type, from: m.from, to: m.to, timestamp: m.timestamp },
  };
  const quoted = typeof data.quotedStanzaID === 'string' && data.quotedStanzaID ? data.quotedStanzaID : undefined;
  // A quoted message is named by its serialized id: `{fromMe}_{chat}_{id}`, fromMe as seen from our side.
  if (m.hasQuotedMsg && quoted && data.quotedParticipant) msg.inReplyToExternalId = `${sameUser(data.quotedParticipant, chatId) ? 'false' : 'true'}_${chatId}_${quoted}`;
  const all = { ...details, ...(m.isForwarded ? { forwarded: true } : {}) };
  if (Object.keys(all).length) msg.details = all;
  return { type: 'message', message: msg };
}

/** `message_ack` → a delivery status; pending (0) says nothing new. The hub keeps statuses from going backwards. */
export function ackEvent(channelId: string, m: WaWebMessage, ack: number): InboundEvent {
  const status = ackStatus(ack);
  if (!status) return { type: 'ignored', reason: `ack ${ack} of ${m.id._serialized} is not a delivery state` };
  if (!m.fromMe) return { type: 'ignored', reason: `ack of a message we did not send (${m.id._serialized})` };
  const skip = notACustomerChat(remoteOf(m.id), m);
  if (skip) return { type: 'ignored', reason: skip };
  return { type: 'status', channelId, externalId: m.id._serialized, status, ...(status === 'failed' ? { error: 'whatsapp_web_send_failed: WhatsApp reported the message as not sent' } : {}) };
}

export function ackStatus(ack: number): DeliveryStatus | undefined {
  if (ack === WA_ACK.error) return 'failed';
  if (ack === WA_ACK.server) return 'sent';
  if (ack === WA_ACK.device) return 'delivered';
  if (ack === WA_ACK.read || ack === WA_ACK.played) return 'read';
  return undefined;
}

/**
 * `message_revoke_everyone`: the stand-in `after` carries the revoked message's own id in
 * `protocolMessageKey` (else `before`, the original, when the library caught it).
 */
export function revokeEvent(channelId: string, after: WaWebMessage, before?: WaWebMessage): InboundEvent {
  const id = after.protocolMessageKey ?? before?.id;
  if (!id) return { type: 'ignored', reason: `a revoke (${after.id._serialized}) that names no message` };
  const chatId = remoteOf(id);
  const skip = notACustomerChat(chatId);
  if (skip) return { type: 'ignored', reason: skip };
  return { type: 'deleted', channelId, externalId: id._serialized, deletedAt: isoFromSeconds(after.timestamp), threadKey: waWebThreadKey(channelId, chatId) };
}

/** `message_edit`: the new text of the message it names. */
export function editEvent(channelId: string, m: WaWebMessage, newBody: string): InboundEvent {
  const chatId = remoteOf(m.id);
  const skip = notACustomerChat(chatId);
  if (skip) return { type: 'ignored', reason: skip };
  const at = m.latestEditSenderTimestampMs ? new Date(m.latestEditSenderTimestampMs).toISOString() : isoFromSeconds(m.timestamp);
  return { type: 'edited', channelId, externalId: m.id._serialized, text: newBody, editedAt: at, threadKey: waWebThreadKey(channelId, chatId) };
}

async function contentOf(m: WaWebMessage): Promise<{ text: string; attachments: InboundAttachment[]; details?: Record<string, unknown> }> {
  const data = m._data ?? {};
  if (m.type === 'location' && m.location) {
    const l = m.location;
    const label = [l.name, l.address].filter(Boolean).join(', ');
    return { text: `📍 ${label ? `${label} ` : ''}(${l.latitude}, ${l.longitude})`, attachments: [], details: { location: { latitude: Number(l.latitude), longitude: Number(l.longitude), ...(l.name ? { name: l.name } : {}), ...(l.address ? { address: l.address } : {}) } } };
  }
  if ((m.type === 'vcard' || m.type === 'multi_vcard') && m.vCards?.length) {
    const names = m.vCards.map((v) => /^FN[^:]*:(.*)$/m.exec(v)?.[1]?.trim()).filter(Boolean);
    return { text: `Contact card${m.vCards.length > 1 ? 's' : ''}: ${names.join(', ') || '(no name)'}`, attachments: [], details: { contacts: m.vCards } };
  }
  const kind = MEDIA_KIND[m.type];
  if (!m.hasMedia || !kind) {
    if (m.type !== 'chat' && !m.body) return { text: `(a WhatsApp ${m.type} message that cannot be shown here)`, attachments: [], details: { unsupported: m.type } };
    return { text: m.body, attachments: [] };
  }
  const declared = {
    name: typeof data.filename === 'string' && data.filename ? data.filename : undefined,
    mimeType: typeof data.mimetype === 'string' && data.mimetype ? data.mimetype.split(';')[0]!.trim() : undefined,
    size: typeof data.size === 'number' ? data.size : undefined,
  };
  const media = await m.downloadMedia().catch(() => undefined);
  const attachment: InboundAttachment = media?.data
    ? {
        kind,
        ref: `inline:${media.data}`,
        ...(media.filename || declared.name ? { name: (media.filename || declared.name)! } : {}),
        mimeType: (media.mimetype || declared.mimeType || 'application/octet-stream').split(';')[0]!.trim(),
      }
    : {
        // Nothing now (still downloading on the phone, or gone): stored `pending`, fetched again by a job, marked failed when still nothing.
        kind,
        ref: `${WA_WEB_MEDIA_REF}${m.id._serialized}`,
        fetchLater: true,
        ...(declared.name ? { name: declared.name } : {}),
        ...(declared.mimeType ? { mimeType: declared.mimeType } : {}),
        ...(declared.size !== undefined ? { size: declared.size } : {}),
      };
  return { text: m.body, attachments: [attachment], ...(m.type === 'ptt' ? { details: { voice: true } } : {}) };
}

function sameUser(a: unknown, b: string): boolean {
  const s = typeof a === 'object' && a && '_serialized' in a ? String((a as { _serialized: unknown })._serialized) : String(a);
  return s === b;
}

function isoFromSeconds(t: number | undefined): string {
  return new Date(Number.isFinite(t) && t ? t * 1000 : Date.now()).toISOString();
}
