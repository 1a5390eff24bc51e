import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { AddressObject, ParsedMail } from 'mailparser';
import type SanitizeHtml from 'sanitize-html';
import type { AttachmentKind, InboundAttachment, InboundEvent, NormalizedMessage } from '../core/types.js';
import { senderAuthentication } from './auth-results.js';
import { autoReplyReason } from './auto-reply.js';
import { deliveryReport, messageIdFromReturnPath, type DeliveryReport } from './bounce.js';
import { copyList } from './recipients.js';
import { splitReply } from './reply.js';
import { cleanMessageId, emailThreadKey, isOurMessageId, looksLikeReply, messageIdList, subjectKey, threadRoot, tokenFromRecipients } from './thread.js';

// mailparser and sanitize-html (a few hundred modules between them) load through require, not import:
// under the TypeScript loader of bin/hummdesk.js (tsx) every imported module costs a round trip to
// its hooks thread, and `hummdesk email parse` must start in well under a second. Same packages and
// versions (their CommonJS builds); sanitize-html (with postcss) only once a message has HTML.
// Both load on the first message parsed, not with the hub.
const require = createRequire(import.meta.url);
const mailparser = () => require('mailparser') as typeof import('mailparser');
let sanitizeHtmlModule: typeof SanitizeHtml | undefined;

export interface EmailParseOptions {
  channelId: string;
  /** The mailbox's own address: recognises our echoes and plus-address reply tokens. */
  mailbox?: string;
  /** IMAP INTERNALDATE, used when the Date header is missing or invalid. */
  receivedAt?: Date;
  /** Bound on one parse; a message that takes longer is kept raw and reported. */
  timeoutMs?: number;
  /** Larger messages are not parsed (kept raw, reported). */
  maxMessageBytes?: number;
  /** Attachments up to this size travel inline to the hub; larger ones are listed with their size only. */
  maxAttachmentBytes?: number;
  /** The authserv-id of the mailbox's own receiving server: whose Authentication-Results header is believed. */
  authservId?: string;
  /** Where the raw message lives (e.g. `imap:INBOX/<uidvalidity>/<uid>`), for refs of omitted parts. */
  sourceRef?: string;
  /**
   * The key our replies' return paths are signed with (VERP). A delivery report or read receipt
   * changes a message's state only when it came back to that message's signed return path; without
   * the key, or without such an address, a report is ignored with the reason.
   */
  returnPathKey?: Buffer;
}

export const PARSE_DEFAULTS = { timeoutMs: 10_000, maxMessageBytes: 40 * 1024 * 1024, maxAttachmentBytes: 10 * 1024 * 1024 };

/** Everything the CLI shows; the event is what the hub ingests. */
export interface ParsedEmail {
  event: InboundEvent;
  messageId: string;
  inReplyTo?: string;
  references: string[];
  from?: { address?: string; name?: string };
  to: string[];
  cc: string[];
  subject?: string;
  date?: string;
  visibleText: string;
  text: string;
  elidedText: string;
  html?: string;
  attachments: { name?: string; mimeType?: string; size: number; inline: boolean; contentId?: string }[];
  autoReply: boolean;
  autoReplyReason?: string;
  bounce?: DeliveryReport;
  replyToken?: string;
  /** Set when the message could not be parsed: it is kept raw and this says why. */
  rejected?: string;
}

export class EmailParseError extends Error {
  constructor(
    readonly code: 'email_too_large' | 'email_parse_timeout' | 'email_unparseable',
    message: string,
  ) {
    super(message);
    this.name = 'EmailParseError';
  }
}

/**
 * Raw RFC 822 bytes → one inbound event: a message, a delivery status (bounce, read receipt) or
 * `ignored`. Never throws for bad input: unparseable mail becomes a message carrying the raw bytes.
 */
export async function parseEmail(raw: Buffer, opts: EmailParseOptions): Promise<ParsedEmail> {
  const o = { ...PARSE_DEFAULTS, ...opts };
  try {
    if (raw.length > o.maxMessageBytes) throw new EmailParseError('email_too_large', `message is ${raw.length} bytes (limit ${o.maxMessageBytes})`);
    const mail = await withTimeout(
      mailparser().simpleParser(raw, { keepDeliveryStatus: true, skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true, maxHtmlLengthToParse: 2 * 1024 * 1024 }),
      o.timeoutMs,
    );
    return fromParsed(mail, raw, o);
  } catch (err) {
    return keptRawEmail(raw, o, err instanceof Error ? err.message : String(err), err instanceof EmailParseError ? err.code : 'email_unparseable');
  }
}

function fromParsed(mail: ParsedMail, raw: Buffer, o: EmailParseOptions & typeof PARSE_DEFAULTS): ParsedEmail {
  const ownId = cleanMessageId(mail.messageId);
  const messageId = ownId ?? syntheticId(raw);
  const references = messageIdList(mail.references);
  const inReplyTo = messageIdList(mail.inReplyTo)[0];
  const from = firstAddress(mail.from) ?? firstAddress(mail.headers.get('sender') as AddressObject | undefined) ?? firstAddress(mail.replyTo);
  const to = addresses(mail.to);
  const cc = addresses(mail.cc);
  const subject = noNul(mail.subject)?.trim() || undefined;
  const date = mail.date && !Number.isNaN(mail.date.getTime()) ? mail.date.toISOString() : (o.receivedAt ?? new Date()).toISOString();
  // Postgres text cannot hold NUL; one stray byte must not make a mail unstorable.
  const fullText = noNul(mail.text ?? '')!.replace(/\r\n?/gu, '\n');
  const split = splitReply(fullText);
  const visibleText = split.visible || fullText.trim();
  const html = typeof mail.html === 'string' && mail.html ? sanitize(noNul(mail.html)!) : undefined;
  const rawText = raw.toString('latin1');
  const report = deliveryReport(mail, rawText, ownId);
  const autoReason = report ? `delivery report (${report.outcome})` : autoReplyReason(mail.headers as Map<string, unknown>, from?.address, subject);
  const deliveredTo = headerAddresses(mail, ['delivered-to', 'x-original-to', 'envelope-to']);
  const replyToken = tokenFromRecipients([...to, ...cc, ...deliveredTo], o.mailbox);

  const parts = mail.attachments.filter((a) => !/^message\/(?:global-)?delivery-status$|^message\/disposition-notification$|^message\/feedback-report$/iu.test(a.contentType));
  let budget = o.maxAttachmentBytes * 2;
  const attachments: InboundAttachment[] = parts.map((a, i) => {
    const size = a.size ?? a.content.length;
    const fits = size <= o.maxAttachmentBytes && size <= budget;
    if (fits) budget -= size;
    return {
      kind: attachmentKind(a.contentType),
      name: a.filename,
      mimeType: a.contentType,
      size,
      ref: fits ? `inline:${a.content.toString('base64')}` : `${o.sourceRef ?? 'email'}#part=${a.partId ?? i}`,
      ...(a.cid ? { contentId: a.cid } : {}),
    };
  });
  const info: Omit<ParsedEmail, 'event'> = {
    messageId,
    inReplyTo,
    references,
    from,
    to,
    cc,
    subject,
    date,
    visibleText,
    text: fullText,
    elidedText: split.elided,
    html,
    attachments: parts.map((a) => ({ name: a.filename, mimeType: a.contentType, size: a.size ?? a.content.length, inline: a.related ?? a.contentDisposition === 'inline', contentId: a.cid })),
    autoReply: autoReason !== undefined,
    autoReplyReason: autoReason,
    bounce: report,
    replyToken,
  };

  if (report) {
    // A report changes a message's state only through that message's own signed return path: a
    // Message-ID is public (every later reply carries it), so the report's own claim is not enough.
    const signedFor = o.returnPathKey && o.mailbox ? messageIdFromReturnPath([...to, ...deliveredTo], o.mailbox, o.returnPathKey) : undefined;
    const about = signedFor ?? report.originalMessageId;
    const what = `${report.outcome === 'complaint' ? 'complaint' : `delivery report (${report.outcome})`}${about ? ` for ${about}` : ' without the original Message-ID'}`;
    if (!signedFor && report.outcome !== 'complaint')
      return { ...info, event: { type: 'ignored', reason: `${what} not addressed to that message's signed return path, so it changes nothing: ${report.reason}` } };
    if (signedFor && (report.outcome === 'failed' || report.outcome === 'delivered' || report.outcome === 'read')) {
      const error = report.outcome === 'failed' ? (report.recipient ? `${report.recipient}: ${report.reason}` : report.reason) : undefined;
      return { ...info, event: { type: 'status', channelId: o.channelId, externalId: signedFor, status: report.outcome, ...(error ? { error } : {}) } };
    }
    return { ...info, event: { type: 'ignored', reason: `${what}: ${report.reason}` } };
  }

  const address = from?.address?.toLowerCase();
  const authentication = senderAuthentication(
    mail.headerLines.filter((h) => h.key === 'authentication-results').map((h) => h.line.slice(h.line.indexOf(':') + 1)),
    o.authservId,
    address,
  );
  // Replies copy these people; the mailbox itself and the sender are never among them.
  const copied = copyList(cc, { mailbox: o.mailbox, exclude: address ? [address] : [] });
  const ours = isOurMessageId(messageId) && !!o.mailbox && address === o.mailbox.toLowerCase();
  const hintRefs = [...references, ...(inReplyTo && !references.includes(inReplyTo) ? [inReplyTo] : [])];
  const message: NormalizedMessage = {
    channel: { kind: 'email', channelId: o.channelId },
    externalId: messageId,
    threadKey: emailThreadKey(o.channelId, threadRoot(messageId, references, inReplyTo)),
    ...(inReplyTo ? { inReplyToExternalId: inReplyTo } : {}),
    direction: ours ? 'outbound' : 'inbound',
    sender: { externalId: address ?? 'unknown', displayName: noNul(from?.name) || undefined, address, isBot: autoReason !== undefined, ...(authentication ? { authentication } : {}) },
    sentAt: date,
    subject,
    text: visibleText,
    ...(html ? { html } : {}),
    ...(fullText !== visibleText ? { fullText } : {}),
    attachments,
    autoReply: autoReason !== undefined,
    ...(copied.length > 0 ? { cc: copied } : {}),
    threadHints: {
      references: hintRefs,
      ...(replyToken ? { replyToken } : {}),
      ...(looksLikeReply(subject) && subjectKey(subject) ? { subjectKey: subjectKey(subject) } : {}),
    },
    raw: { messageId, inReplyTo, references, to, cc, fullText: fullText === visibleText ? undefined : fullText },
  };
  return { ...info, event: { type: 'message', message } };
}

/**
 * Mail we cannot read (or, after repeated failures, cannot store) still reaches an agent: the raw
 * bytes ride along as an .eml attachment and `keptRaw` says why.
 */
export function keptRawEmail(raw: Buffer, opts: EmailParseOptions, reason: string, code: string): ParsedEmail {
  const o = { ...PARSE_DEFAULTS, ...opts };
  const { messageId, address, subject } = headerSummary(raw);
  const fits = raw.length <= o.maxAttachmentBytes;
  const text = `This email could not be ${code === 'ingest_failed' ? 'stored as a message' : 'read'} (${noNul(reason)}). The original message is attached.`;
  const message: NormalizedMessage = {
    channel: { kind: 'email', channelId: o.channelId },
    externalId: messageId,
    threadKey: emailThreadKey(o.channelId, messageId),
    direction: 'inbound',
    sender: { externalId: address ?? 'unknown', address, isBot: false },
    sentAt: (o.receivedAt ?? new Date()).toISOString(),
    subject,
    text,
    attachments: [{ kind: 'file', name: 'original.eml', mimeType: 'message/rfc822', size: raw.length, ref: fits ? `inline:${raw.toString('base64')}` : `${o.sourceRef ?? 'email'}#raw` }],
    keptRaw: { code, reason: noNul(reason)! },
    raw: { rejected: reason },
  };
  return {
    event: { type: 'message', message },
    messageId,
    references: [],
    from: address ? { address } : undefined,
    to: [],
    cc: [],
    subject,
    visibleText: text,
    text: '',
    elidedText: '',
    attachments: [{ name: 'original.eml', mimeType: 'message/rfc822', size: raw.length, inline: false }],
    autoReply: false,
    rejected: reason,
  };
}

/**
 * A message too large to fetch: only its first bytes (`head`, the header) were read. It becomes a
 * notice in its thread saying so, and the mail itself stays on the server, so the folder moves on.
 */
export function tooLargeEmail(head: Buffer, size: number, opts: EmailParseOptions & { location: string }): ParsedEmail {
  const o = { ...PARSE_DEFAULTS, ...opts };
  const { messageId, address, name, subject, references, inReplyTo } = headerSummary(head, `${o.sourceRef ?? o.location}#too-large`);
  const mb = (size / (1024 * 1024)).toFixed(1);
  const limit = (o.maxMessageBytes / (1024 * 1024)).toFixed(1);
  const reason = `message is ${size} bytes (limit ${o.maxMessageBytes})`;
  const text = `This email is too large (${mb} MB; the limit is ${limit} MB) and was not fetched. It is kept on the server, in ${o.location}.`;
  const message: NormalizedMessage = {
    channel: { kind: 'email', channelId: o.channelId },
    externalId: messageId,
    threadKey: emailThreadKey(o.channelId, threadRoot(messageId, references, inReplyTo)),
    ...(inReplyTo ? { inReplyToExternalId: inReplyTo } : {}),
    direction: 'inbound',
    sender: { externalId: address ?? 'unknown', ...(name ? { displayName: name } : {}), address, isBot: false },
    sentAt: (o.receivedAt ?? new Date()).toISOString(),
    subject,
    text,
    attachments: [],
    keptRaw: { code: 'email_too_large', reason },
    raw: { tooLarge: { size, location: o.location } },
  };
  return {
    event: { type: 'message', message },
    messageId,
    inReplyTo,
    references,
    from: address ? { address, ...(name ? { name } : {}) } : undefined,
    to: [],
    cc: [],
    subject,
    visibleText: text,
    text: '',
    elidedText: '',
    attachments: [],
    autoReply: false,
    rejected: reason,
  };
}

/** The few header fields a message we do not parse still needs, read with plain patterns from its first 64 KB. */
function headerSummary(raw: Buffer, fallbackId?: string) {
  const head = noNul(raw.subarray(0, 64 * 1024).toString('latin1').split(/\r?\n\r?\n/u)[0] ?? '')!;
  const header = (name: string) => new RegExp(`^${name}:[ \\t]*(.*(?:\\r?\\n[ \\t]+.*)*)`, 'imu').exec(head)?.[1]?.replace(/\r?\n[ \t]+/gu, ' ').trim();
  const messageId = cleanMessageId(header('Message-ID')) ?? (fallbackId ? syntheticId(Buffer.from(fallbackId)) : syntheticId(raw));
  const fromHeader = header('From') ?? '';
  const address = /[^\s<>"]+@[^\s<>"]+/u.exec(fromHeader)?.[0]?.toLowerCase();
  const name = /^\s*"?([^"<]+?)"?\s*</u.exec(fromHeader)?.[1]?.replace(/[\x00-\x1f\x7f]/gu, '').trim() || undefined;
  const subject = header('Subject')?.replace(/[\x00-\x08\x0b-\x1f\x7f]/gu, '');
  const references = messageIdList(header('References'));
  const inReplyTo = messageIdList(header('In-Reply-To'))[0];
  return { messageId, address, name, subject, references, inReplyTo };
}

function noNul(s: string | undefined): string | undefined {
  return s?.includes('\u0000') ? s.replace(/\u0000/gu, '') : s;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new EmailParseError('email_parse_timeout', `parsing took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** A stable id for mail without a Message-ID: the same bytes fetched twice dedupe. */
function syntheticId(raw: Buffer): string {
  return `sha256-${createHash('sha256').update(raw).digest('hex').slice(0, 40)}@hummdesk.invalid`;
}

function firstAddress(a: AddressObject | AddressObject[] | undefined): { address?: string; name?: string } | undefined {
  const list = Array.isArray(a) ? a : a ? [a] : [];
  for (const obj of list)
    for (const v of obj.value) {
      const one = v.address ? v : v.group?.find((g) => g.address);
      if (one?.address) return { address: one.address.toLowerCase(), name: one.name || undefined };
    }
  return undefined;
}

function addresses(a: AddressObject | AddressObject[] | undefined): string[] {
  const list = Array.isArray(a) ? a : a ? [a] : [];
  return list.flatMap((obj) => obj.value.flatMap((v) => (v.group ?? [v]).map((g) => g.address?.toLowerCase()).filter((x): x is string => !!x)));
}

function headerAddresses(mail: ParsedMail, names: string[]): string[] {
  const out: string[] = [];
  for (const n of names) {
    const v = mail.headers.get(n);
    const vals = Array.isArray(v) ? v : v === undefined ? [] : [v];
    for (const x of vals) {
      if (typeof x === 'string') out.push(...(x.match(/[^\s<>",;]+@[^\s<>",;]+/gu) ?? []));
      else if (x && typeof x === 'object' && 'value' in x && Array.isArray((x as AddressObject).value)) out.push(...addresses(x as AddressObject));
    }
  }
  return out.map((s) => s.toLowerCase());
}

function attachmentKind(mime: string): AttachmentKind {
  const t = mime.toLowerCase();
  if (t.startsWith('image/')) return 'image';
  if (t.startsWith('audio/')) return 'audio';
  if (t.startsWith('video/')) return 'video';
  return 'file';
}

/** Email HTML is hostile: only formatting survives; images keep cid:, data: and https: sources. */
export function sanitize(html: string): string {
  const sanitizeHtml = (sanitizeHtmlModule ??= require('sanitize-html') as typeof SanitizeHtml);
  return sanitizeHtml(html, {
    allowedTags: [...sanitizeHtml.defaults.allowedTags, 'img', 'font', 'center', 'span'],
    allowedAttributes: { ...sanitizeHtml.defaults.allowedAttributes, img: ['src', 'alt', 'width', 'height'], '*': ['style', 'align', 'dir'], a: ['href', 'name', 'title'], td: ['colspan', 'rowspan', 'align', 'valign'], font: ['color', 'size', 'face'] },
    allowedSchemesByTag: { img: ['cid', 'data', 'https', 'http'] },
    allowedSchemes: ['http', 'https', 'mailto', 'tel'],
    disallowedTagsMode: 'discard',
  });
}
