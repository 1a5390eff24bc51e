import type { InboundEvent, NormalizedMessage } from '../../connectors/core/types.js';
import { displayName, withoutNul } from '../../connectors/core/text.js';

/**
 * An inbound event as it can be stored and shown: no NUL anywhere Postgres would refuse it (a customer's
 * message is kept, not lost to a 500), and the sender's and files' names without bidi controls.
 */
export function storableEvent(e: InboundEvent): InboundEvent {
  if (e.type === 'status')
    return { ...e, externalId: withoutNul(e.externalId), ...(e.error === undefined ? {} : { error: withoutNul(e.error) }), ...(e.reference === undefined ? {} : { reference: withoutNul(e.reference) }) };
  if (e.type === 'edited') return { ...e, externalId: withoutNul(e.externalId), text: withoutNul(e.text) };
  if (e.type === 'deleted') return { ...e, externalId: withoutNul(e.externalId) };
  if (e.type !== 'message') return e;
  return { ...e, message: storableMessage(e.message) };
}

function storableMessage(m: NormalizedMessage): NormalizedMessage {
  const out: NormalizedMessage = {
    ...m,
    externalId: withoutNul(m.externalId),
    threadKey: withoutNul(m.threadKey),
    sender: { ...m.sender, externalId: withoutNul(m.sender.externalId) },
    text: withoutNul(m.text),
    attachments: m.attachments.map((a) => {
      const c = { ...a, ref: withoutNul(a.ref) };
      if (a.name !== undefined) c.name = displayName(a.name);
      if (a.mimeType !== undefined) c.mimeType = withoutNul(a.mimeType);
      if (a.contentId !== undefined) c.contentId = withoutNul(a.contentId);
      return c;
    }),
  };
  // Only the fields a message has: an added `key: undefined` would read as present.
  if (m.sender.displayName !== undefined) out.sender.displayName = displayName(m.sender.displayName);
  if (m.sender.address !== undefined) out.sender.address = withoutNul(m.sender.address);
  if (m.inReplyToExternalId !== undefined) out.inReplyToExternalId = withoutNul(m.inReplyToExternalId);
  if (m.subject !== undefined) out.subject = withoutNul(m.subject);
  if (m.html !== undefined) out.html = withoutNul(m.html);
  if (m.fullText !== undefined) out.fullText = withoutNul(m.fullText);
  if (m.cc !== undefined) out.cc = m.cc.map(withoutNul);
  if (m.threadHints !== undefined) {
    const h = { ...m.threadHints, references: m.threadHints.references.map(withoutNul) };
    if (h.replyToken !== undefined) h.replyToken = withoutNul(h.replyToken);
    if (h.subjectKey !== undefined) h.subjectKey = withoutNul(h.subjectKey);
    out.threadHints = h;
  }
  if (m.details !== undefined) out.details = withoutNulDeep(m.details) as Record<string, unknown>;
  return out;
}

/** Platform details go into a jsonb column, which refuses U+0000 in any string, key or value. */
function withoutNulDeep(v: unknown): unknown {
  if (typeof v === 'string') return withoutNul(v);
  if (Array.isArray(v)) return v.map(withoutNulDeep);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [withoutNul(k), withoutNulDeep(x)]));
  return v;
}
