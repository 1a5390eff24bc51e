import type { ParsedMail } from 'mailparser';
import { cleanMessageId } from './thread.js';

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
