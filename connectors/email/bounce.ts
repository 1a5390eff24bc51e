import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ParsedMail } from 'mailparser';
import { domainOf } from './config.js';
import { cleanMessageId, outboundMessageId } from './thread.js';

/** What a delivery report says about one of our messages. */
export interface DeliveryReport {
  outcome: 'failed' | 'delayed' | 'delivered' | 'read' | 'complaint';
  /** The Message-ID of the message the report is about, when the report carries it. */
  originalMessageId?: string;
  recipient?: string;
  /** Human-readable reason (Diagnostic-Code, status, or the report's own words). */
  reason: string;
}

const BOUNCE_SENDER = /^(?:mailer-daemon|postmaster|mail-daemon|mailer|bounce[s]?|mdaemon)(?:[+@]|$)/iu;
const BOUNCE_SUBJECT = /undeliver|undelivered|delivery (?:status|failure|failed|notification|problem|has failed)|returned mail|failure notice|mail delivery|non[- ]?delivery|could not be delivered|delivery report|returned to sender|nondeliverable|rejected|mail system error|unzustellbar|olevererbart|non remis|no se puede entregar|ei voitu toimittaa|delivery incomplete|warning: could not send/iu;

/**
 * Recognises DSNs (RFC 3464 multipart/report), MDNs (read receipts), ARF complaints and the
 * older free-form bounces of MTAs that send no report part (qmail, old Sendmail, Exchange 2003).
 */
export function deliveryReport(mail: ParsedMail, raw: string, ownMessageId: string | undefined): DeliveryReport | undefined {
  const ct = mail.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  const type = ct?.value?.toLowerCase();
  const reportType = ct?.params?.['report-type']?.toLowerCase();
  const parts = mail.attachments ?? [];
  const partText = (pred: (t: string) => boolean) => {
    const p = parts.find((a) => pred(a.contentType.toLowerCase()));
    return p ? p.content.toString('utf8') : undefined;
  };
  const original = () =>
    originalId(partText((t) => t === 'message/rfc822' || t === 'text/rfc822-headers' || t === 'message/rfc822-headers' || t === 'message/global' || t === 'message/global-headers'), ownMessageId) ??
    originalId(raw, ownMessageId);

  if (type === 'multipart/report' && reportType === 'disposition-notification') {
    const mdn = partText((t) => t === 'message/disposition-notification') ?? '';
    const id = cleanMessageId(field(mdn, 'Original-Message-ID')) ?? original();
    const disposition = field(mdn, 'Disposition') ?? '';
    return { outcome: /displayed/iu.test(disposition) ? 'read' : 'delivered', originalMessageId: id, reason: disposition || 'disposition notification' };
  }
  if (type === 'multipart/report' && reportType === 'feedback-report') {
    const arf = partText((t) => t === 'message/feedback-report') ?? '';
    return { outcome: 'complaint', originalMessageId: original(), reason: `abuse report: ${field(arf, 'Feedback-Type') ?? 'unknown'}` };
  }
  const dsn = partText((t) => t === 'message/delivery-status' || t === 'message/global-delivery-status');
  if (dsn !== undefined || (type === 'multipart/report' && reportType === 'delivery-status')) {
    const text = dsn ?? '';
    // Per-recipient blocks follow the per-message block; the first failed one decides.
    const blocks = text.split(/\r?\n\s*\r?\n/u);
    const recipients = blocks.filter((b) => /^(?:final|original)-recipient\s*:/imu.test(b));
    const failed = recipients.find((b) => /^action\s*:\s*failed/imu.test(b));
    const chosen = failed ?? recipients[0] ?? text;
    const action = (field(chosen, 'Action') ?? (failed ? 'failed' : '')).toLowerCase();
    const status = field(chosen, 'Status');
    const diagnostic = field(chosen, 'Diagnostic-Code')?.replace(/^\s*smtp\s*;\s*/iu, '');
    const recipient = field(chosen, 'Final-Recipient')?.replace(/^\s*rfc822\s*;\s*/iu, '').trim();
    const outcome: DeliveryReport['outcome'] = action.startsWith('delayed') ? 'delayed' : action === 'delivered' || action === 'relayed' || action === 'expanded' ? 'delivered' : 'failed';
    const reason = [diagnostic, status && !diagnostic?.includes(status) ? `status ${status}` : undefined].filter(Boolean).join('; ') || firstReason(mail.text) || 'delivery failed';
    return { outcome, originalMessageId: original(), recipient, reason: oneLine(reason) };
  }
  // Free-form bounces: a daemon sender and a failure subject.
  const from = mail.from?.value[0]?.address ?? '';
  const subject = mail.subject ?? '';
  if ((BOUNCE_SENDER.test(from) || /mail delivery (?:subsystem|system)/iu.test(mail.from?.text ?? '')) && BOUNCE_SUBJECT.test(subject)) {
    return { outcome: /delay|warning/iu.test(subject) ? 'delayed' : 'failed', originalMessageId: original(), reason: oneLine(firstReason(mail.text) ?? subject) };
  }
  return undefined;
}

/** One header-style field from a report block, with folded continuation lines joined. */
function field(block: string, name: string): string | undefined {
  const m = new RegExp(`^${name}\\s*:[ \\t]*(.*(?:\\r?\\n[ \\t]+.*)*)`, 'imu').exec(block);
  return m ? m[1]!.replace(/\r?\n[ \t]+/gu, ' ').trim() : undefined;
}

/** The first Message-ID header in a returned message (or the raw report) that is not the report's own. */
function originalId(text: string | undefined, own: string | undefined): string | undefined {
  if (!text) return undefined;
  const re = /^message-id\s*:\s*(?:\r?\n[ \t]+)?(<[^>\r\n]+>|\S+)/gimu;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const id = cleanMessageId(m[1]);
    if (id && id !== own) return id;
  }
  return undefined;
}

/** The line of a bounce body that states the reason (an SMTP reply or enhanced status code). */
function firstReason(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const lines = text.split(/\r?\n/u).map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /\b[45]\d\d[ -]|\b[45]\.\d{1,3}\.\d{1,3}\b/u.test(l)) ?? lines.find((l) => /unknown|no such|does not exist|rejected|refused|quota|full|denied|not found|invalid/iu.test(l));
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/gu, ' ').trim();
  return t.length > 500 ? `${t.slice(0, 497)}...` : t;
}

// VERP: every reply goes out with its own envelope sender, `local+bounce-<token>@domain`, so a
// delivery report is accepted only when it comes back to the return path of the message it is
// about. The token is the message's uuid and an HMAC over its outbound Message-ID with the hub's
// key: knowing a Message-ID (it is in every later reply) is not enough to forge a report for it.
const RETURN_PATH_TAG = 'bounce-';
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const MAC_BYTES = 8;

function base32(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

function unbase32(text: string, length: number): Buffer | undefined {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const c of text) {
    const i = BASE32.indexOf(c);
    if (i < 0) return undefined;
    value = ((value << 5) | i) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return out.length === length ? Buffer.from(out) : undefined;
}

const ID_CHARS = Math.ceil((16 * 8) / 5);
const MAC_CHARS = Math.ceil((MAC_BYTES * 8) / 5);

function returnPathMac(key: Buffer, messageId: string): Buffer {
  return createHmac('sha256', key).update(`email return path\0${messageId}`).digest().subarray(0, MAC_BYTES);
}

/** The envelope sender for one reply, or undefined when its key is not a uuid (then the plain mailbox is used). */
export function returnPathFor(mailbox: string, idempotencyKey: string, key: Buffer): string | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/iu.test(idempotencyKey)) return undefined;
  const at = mailbox.lastIndexOf('@');
  const messageId = outboundMessageId(idempotencyKey.toLowerCase(), domainOf(mailbox));
  const token = `${base32(Buffer.from(idempotencyKey.replace(/-/gu, ''), 'hex'))}${base32(returnPathMac(key, messageId))}`;
  return `${mailbox.slice(0, at)}+${RETURN_PATH_TAG}${token}${mailbox.slice(at)}`;
}

/**
 * The outbound Message-ID whose signed return path is among `addresses` (a report's To and
 * delivery headers), or undefined: no such address, another mailbox's, or a token that does not verify.
 */
export function messageIdFromReturnPath(addresses: string[], mailbox: string, key: Buffer): string | undefined {
  const at = mailbox.lastIndexOf('@');
  const prefix = `${mailbox.slice(0, at).toLowerCase()}+${RETURN_PATH_TAG}`;
  const domain = domainOf(mailbox);
  for (const a of addresses) {
    const address = a.trim().toLowerCase();
    const aAt = address.lastIndexOf('@');
    if (aAt < 0 || address.slice(aAt + 1) !== domain || !address.startsWith(prefix)) continue;
    const token = address.slice(prefix.length, aAt);
    if (token.length !== ID_CHARS + MAC_CHARS) continue;
    const id = unbase32(token.slice(0, ID_CHARS), 16);
    const mac = unbase32(token.slice(ID_CHARS), MAC_BYTES);
    if (!id || !mac) continue;
    const h = id.toString('hex');
    const messageId = outboundMessageId(`${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`, domain);
    if (timingSafeEqual(mac, returnPathMac(key, messageId))) return messageId;
  }
  return undefined;
}
