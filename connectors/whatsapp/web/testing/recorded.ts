/**
 * Message data in the shape WhatsApp Web's store serializes it and whatsapp-web.js hands to its own
 * `new Message(client, data)` (the fields `Message._patch` reads). Ids and numbers are made up.
 */

export const OUR_NUMBER = '358401110000@c.us';
export const CUSTOMER = '358409998877@c.us';
/** A customer whose number WhatsApp hides: only a linked-identity id. */
export const LID_CUSTOMER = '201235468790123@lid';
export const GROUP = '120363041234567890@g.us';

type Raw = Record<string, unknown>;

function id(fromMe: boolean, remote: string, local: string) {
  return { fromMe, remote, id: local, _serialized: `${fromMe}_${remote}_${local}` };
}

export function textFromCustomer(local = '3EB0C767D26A1D8A5F7B', body = 'Hi, my order #1234 has not arrived', from = CUSTOMER, t = 1_765_000_000): Raw {
  return { id: id(false, from, local), body, type: 'chat', t, notifyName: 'Maija Meikäläinen', from, to: OUR_NUMBER, ack: 1, isNewMsg: true, star: false, hasReaction: false, isForwarded: false, forwardingScore: 0, mentionedJidList: [], groupMentions: [], links: [] };
}

export function imageFromCustomer(local = '3EB0A0F1C2B3D4E5F601', caption = 'the damaged box', t = 1_765_000_100): Raw {
  return {
    id: id(false, CUSTOMER, local), type: 'image', t, notifyName: 'Maija Meikäläinen', from: CUSTOMER, to: OUR_NUMBER, ack: 1, isNewMsg: true,
    caption, body: '/9j/4AAQSkZJRgABAQ', // WhatsApp Web puts the thumbnail in body; the library shows the caption
    directPath: '/v/t62.7118-24/12345678_1234567890_n.enc?ccb=11-4&oh=01_Q5Aa&oe=68000000&_nc_sid=5e03e0',
    mediaKey: 'Wm2rI7cQqv0o2YF2m8b3v1dC6cHk3Z8nE2f1a0Y9x7w=', mediaKeyTimestamp: t, mimetype: 'image/jpeg', filehash: 'n2v0K8w1E6c9mTq3s8yZ1H5u2pA7d4F0b3C6e9G2h5J=',
    encFilehash: 'k3mP9q2R5t8w1Y4z7B0d3F6h9J2l5N8p1S4v7X0a3C6=', size: 48213, width: 1280, height: 960,
  };
}

export function voiceFromCustomer(local = '3EB0B1B2B3B4B5B6B7B8', t = 1_765_000_200): Raw {
  return {
    id: id(false, CUSTOMER, local), type: 'ptt', t, notifyName: 'Maija Meikäläinen', from: CUSTOMER, to: OUR_NUMBER, ack: 1, isNewMsg: true, body: '',
    directPath: '/v/t62.7117-24/87654321_0987654321_n.enc?ccb=11-4', mediaKey: 'Q2V4YW1wbGVfbWVkaWFfa2V5X2Zvcl9hX3ZvaWNlX25vdGU=', mimetype: 'audio/ogg; codecs=opus', size: 9120, duration: '4',
  };
}

export function fromLidCustomer(local = '3EB05A5B5C5D5E5F5A5B', body = 'Hello from a hidden number'): Raw {
  return { ...textFromCustomer(local, body, LID_CUSTOMER, 1_765_000_300), notifyName: 'Anonymous Buyer' };
}

export function inGroup(local = '3EB0EEEEEEEEEEEEEEEE'): Raw {
  return { ...textFromCustomer(local, 'anyone there?', GROUP, 1_765_000_400), author: CUSTOMER, id: { ...id(false, GROUP, local), participant: CUSTOMER, _serialized: `false_${GROUP}_${local}_${CUSTOMER}` } };
}

/** Typed on the linked phone itself (not through HummDesk). */
export function fromPhone(local = '3EB0F0F1F2F3F4F5F6F7', body = 'We are on it, sorry for the wait', to = CUSTOMER, t = 1_765_000_500): Raw {
  return { id: id(true, to, local), body, type: 'chat', t, from: OUR_NUMBER, to, ack: 0, isNewMsg: true, star: false };
}

/** What WhatsApp Web gives for a message we send through the library's sendMessage. */
export function sentByUs(local: string, to: string, body: string, t = 1_765_000_600): Raw {
  return { id: id(true, to, local), body, type: 'chat', t, from: OUR_NUMBER, to, ack: 0, isNewMsg: true, star: false };
}

/**
 * What WhatsApp Web gives for a file we send (`sendMessage(chat, MessageMedia, { caption })`): its type from the file
 * (or as sent: `sendMediaAsDocument`, `sendMediaAsSticker`), the caption as body.
 */
export function sentFileByUs(local: string, to: string, file: { mimetype: string; filename?: string | null; filesize?: number | null }, caption?: string, as?: 'document' | 'sticker', t = 1_765_000_600): Raw {
  const kind = file.mimetype.split('/')[0];
  const type = as ?? (kind === 'image' ? 'image' : kind === 'video' ? 'video' : kind === 'audio' ? 'audio' : 'document');
  return { id: id(true, to, local), body: caption ?? '', caption, type, t, from: OUR_NUMBER, to, ack: 0, isNewMsg: true, star: false, mimetype: file.mimetype, filename: file.filename ?? undefined, size: file.filesize ?? undefined };
}

/** The stand-in a revoke leaves: type `revoked`, the original's id in `protocolMessageKey`. */
export function revokedStandIn(original: Raw, t = 1_765_000_700): Raw {
  const o = original.id as { fromMe: boolean; remote: string; id: string };
  return { id: id(o.fromMe, o.remote, '3EB0DEADBEEF00000001'), type: 'revoked', t, from: original.from, to: original.to, body: '', subtype: 'sender_revoke', protocolMessageKey: { ...o, _serialized: `${o.fromMe}_${o.remote}_${o.id}` } };
}

/** What the library receives on an edit: the message with its new body and the edit's time. */
export function edited(original: Raw, newBody: string, atMs = 1_765_000_800_000): Raw {
  return { ...original, body: newBody, latestEditSenderTimestampMs: atMs, latestEditMsgKey: { ...(original.id as object) } };
}
