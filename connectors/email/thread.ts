/** Email threading: Message-ID handling, thread keys, reply tokens and subject keys. All pure. */

const MAX_ID = 250;

/** A Message-ID without angle brackets or whitespace; undefined for an empty or absurd value. */
export function cleanMessageId(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /<([^<>]+)>/u.exec(value);
  const id = (m ? m[1]! : value).replace(/\s+/gu, '').trim();
  if (!id || id.length > MAX_ID) return undefined;
  return id;
}

/** Every Message-ID in a References/In-Reply-To value, in order, without duplicates. */
export function messageIdList(value: unknown): string[] {
  const parts = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
  const ids: string[] = [];
  for (const part of parts) {
    const bracketed = part.match(/<[^<>]+>/gu);
    const found = bracketed ?? part.split(/\s+/u);
    for (const f of found) {
      const id = cleanMessageId(f);
      if (id && !ids.includes(id)) ids.push(id);
    }
  }
  return ids;
}

/** The thread root: first References id, else In-Reply-To, else the message itself. */
export function threadRoot(messageId: string, references: string[], inReplyTo?: string): string {
  return references[0] ?? inReplyTo ?? messageId;
}

export function emailThreadKey(channelId: string, root: string): string {
  return `email:${channelId}:${root}`;
}

/** The root Message-ID back out of a thread key (outbound References start with it). */
export function rootFromThreadKey(threadKey: string): string | undefined {
  const m = /^email:[^:]+:(.+)$/u.exec(threadKey);
  return m?.[1];
}

/** The reply token for a conversation: `c` + the uuid's 32 hex digits, safe in an address local part. */
export function replyTokenFor(conversationId: string): string {
  return `c${conversationId.replace(/-/gu, '').toLowerCase()}`;
}

/** The conversation id a reply token stands for, if the token is well formed. */
export function conversationFromToken(token: string): string | undefined {
  const m = /^c([0-9a-f]{32})$/iu.exec(token);
  if (!m) return undefined;
  const h = m[1]!.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** `support+c0123…@example.com` for `support@example.com`. */
export function plusAddress(mailbox: string, token: string): string {
  const at = mailbox.lastIndexOf('@');
  return at < 0 ? mailbox : `${mailbox.slice(0, at)}+${token}${mailbox.slice(at)}`;
}

/** Finds our reply token among recipient addresses (`local+token@domain`). */
export function tokenFromRecipients(addresses: string[], mailbox?: string): string | undefined {
  const [local, domain] = mailbox ? splitAddress(mailbox) : [undefined, undefined];
  for (const a of addresses) {
    const [l, d] = splitAddress(a);
    const plus = l.indexOf('+');
    if (plus < 0) continue;
    if (local !== undefined && (l.slice(0, plus) !== local || d !== domain)) continue;
    const conversation = conversationFromToken(l.slice(plus + 1));
    if (conversation) return conversation;
  }
  return undefined;
}

function splitAddress(a: string): [string, string] {
  const s = a.trim().toLowerCase();
  const at = s.lastIndexOf('@');
  return at < 0 ? [s, ''] : [s.slice(0, at), s.slice(at + 1)];
}

/**
 * Reply/forward prefixes ("Re:", "AW:", "SV:", "VS:", "回复：", "Re[2]:") of one to three
 * characters, repeated. The hub's last-resort thread match strips the same prefixes in SQL.
 */
export const SUBJECT_PREFIX = /^(?:\s*[^\s:：]{1,3}(?:\s*\[\d+\])?\s*[:：])+\s*/u;

/** The subject with reply prefixes removed, lower-cased, whitespace collapsed. */
export function subjectKey(subject: string | undefined): string | undefined {
  if (!subject) return undefined;
  const key = subject.replace(SUBJECT_PREFIX, '').replace(/\s+/gu, ' ').trim().toLowerCase();
  return key || undefined;
}

/** True when the subject carries a reply prefix, i.e. the sender meant to answer something. */
export function looksLikeReply(subject: string | undefined): boolean {
  return !!subject && /^\s*(?:re|aw|sv|vs|antw|odp|ynt|r|rif|res|回复|答复|回覆|отв|ha)\s*(?:\[\d+\])?\s*[:：]/iu.test(subject);
}

/** Our own outbound Message-IDs: `hd-<message id>@<domain>`; used to recognise echoes. */
export function outboundMessageId(idempotencyKey: string, domain: string): string {
  return `hd-${idempotencyKey}@${domain}`;
}

export function isOurMessageId(id: string): boolean {
  return /^hd-[0-9a-f-]{36}@/iu.test(id);
}
