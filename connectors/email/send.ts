import { createHash } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { OutboundMessage } from '../core/types.js';
import { AuthError, ConnectorError, PermanentError, RateLimitError, TransientError } from '../core/errors.js';
import { EgressError, EgressGuard, type CheckedTarget } from '../core/egress.js';
import { returnPathFor } from './bounce.js';
import { domainOf, mailboxConfig, type MailboxConfig } from './config.js';
import { outboundMessageId, plusAddress, replyTokenFor, rootFromThreadKey } from './thread.js';
import { appendToFolder } from './imap.js';
import { copyList } from './recipients.js';

/** How long to wait before retrying after an SMTP 4xx (the server said: not now). */
const TEMPORARY_RETRY_MS = 60_000;

/**
 * The MIME message for one reply: threading headers, text + HTML, attachments, signature, Cc.
 * `envelope` is everyone it goes to (To, Cc and Bcc); Bcc never appears in the headers.
 */
export async function composeReply(msg: OutboundMessage, cfg: MailboxConfig): Promise<{ raw: Buffer; messageId: string; to: string; cc: string[]; envelope: string[] }> {
  const to = msg.recipient.address ?? msg.recipient.externalId;
  if (!to.includes('@')) throw new PermanentError('email', `recipient "${to}" is not an email address`, 'recipient_invalid');
  // The mailbox is never copied (its copy would come back as mail to itself), nor anyone twice.
  const cc = copyList(msg.cc ?? [], { mailbox: cfg.address, exclude: [to] });
  const bcc = copyList(msg.bcc ?? [], { mailbox: cfg.address, exclude: [to, ...cc] });
  const messageId = outboundMessageId(msg.idempotencyKey, domainOf(cfg.address));
  const root = rootFromThreadKey(msg.conversation.threadKey);
  const references = [...new Set([root, msg.inReplyToExternalId].filter((x): x is string => !!x && x !== messageId))];
  const subject = replySubject(msg.conversation.subject);
  const signature = cfg.signature ? `\n\n-- \n${cfg.signature}` : '';
  const text = `${msg.text}${signature}`;
  const html = msg.html !== undefined || signature ? `${msg.html ?? textToHtml(msg.text)}${cfg.signature ? `<br><br>-- <br>${textToHtml(cfg.signature)}` : ''}` : undefined;
  const fromName = msg.author.displayName ? `${msg.author.displayName}${cfg.displayName ? ` (${cfg.displayName})` : ''}` : cfg.displayName;
  const composer = new MailComposer({
    from: fromName ? { name: fromName, address: cfg.address } : cfg.address,
    to: msg.recipient.displayName ? { name: msg.recipient.displayName, address: to } : to,
    ...(cc.length > 0 ? { cc } : {}),
    ...(cfg.plusAddressing ? { replyTo: plusAddress(cfg.address, replyTokenFor(msg.conversation.id)) } : {}),
    subject,
    messageId: `<${messageId}>`,
    ...(references.length > 0 ? { inReplyTo: `<${references[references.length - 1]}>`, references: references.map((r) => `<${r}>`).join(' ') } : {}),
    date: new Date(),
    text,
    ...(html !== undefined ? { html } : {}),
    attachments: msg.attachments.map((a) => ({ filename: a.name, contentType: a.mimeType, content: a.content })),
    headers: { 'Auto-Submitted': 'no', 'X-HummDesk-Conversation': msg.conversation.id },
  });
  const raw = await composer.compile().build();
  return { raw, messageId, to, cc, envelope: [to, ...cc, ...bcc] };
}

export interface EmailSenderOptions {
  /** Checks every SMTP and IMAP server before a connection; a strict guard (public hosts, protocol ports) by default. */
  egress?: EgressGuard;
  /** Signs each reply's return path (VERP), so only reports sent back to it can change its delivery state. */
  returnPathKey?: Buffer;
}

/** Sends replies over SMTP with one pooled transport per channel (rebuilt when its settings or checked address change). */
export class EmailSender {
  private readonly transports = new Map<string, { key: string; transport: Transporter }>();
  private readonly egress: EgressGuard;

  constructor(private readonly opts: EmailSenderOptions = {}) {
    this.egress = opts.egress ?? new EgressGuard();
  }

  async send(msg: OutboundMessage): Promise<{ externalId: string; sentAt: string }> {
    const cfg = mailboxConfig(msg.channel);
    if (!cfg.smtp) throw new PermanentError('email', 'this mailbox has no SMTP server configured', 'channel_misconfigured');
    const { raw, messageId, envelope } = await composeReply(msg, cfg);
    const from = (this.opts.returnPathKey && returnPathFor(cfg.address, msg.idempotencyKey, this.opts.returnPathKey)) || cfg.address;
    try {
      const transport = await this.transport(msg.channel.id, cfg.smtp);
      await transport.sendMail({ envelope: { from, to: envelope }, raw });
    } catch (err) {
      throw smtpError(err, cfg.smtp);
    }
    const sentAt = new Date().toISOString();
    if (cfg.imap?.sentFolder) {
      // The reply has gone out; a failed copy to Sent must not turn it into a failure, but is reported.
      const folder = cfg.imap.sentFolder;
      await appendToFolder(cfg.imap, this.egress, folder, raw, ['\\Seen']).catch((err: unknown) =>
        process.emitWarning(`could not copy sent reply ${messageId} to "${folder}": ${err instanceof Error ? err.message : String(err)}`, { code: 'HUMMDESK_SENT_COPY_FAILED' }),
      );
    }
    return { externalId: messageId, sentAt };
  }

  private async transport(channelId: string, s: NonNullable<MailboxConfig['smtp']>): Promise<Transporter> {
    // Resolved and checked on every send; the transport connects to that address, never to the name.
    const target = await this.egress.check({ protocol: 'smtp', host: s.host, port: s.port });
    const key = createHash('sha256').update(JSON.stringify([s, target.address])).digest('hex');
    const cached = this.transports.get(channelId);
    if (cached?.key === key) return cached.transport;
    cached?.transport.close();
    const transport = nodemailer.createTransport(smtpOptions(s, target, this.egress, { pool: s.pool, maxConnections: 3, socketTimeout: 120_000 }));
    this.transports.set(channelId, { key, transport });
    return transport;
  }

  close(): void {
    for (const { transport } of this.transports.values()) transport.close();
    this.transports.clear();
  }
}

/** nodemailer options for a checked SMTP target: the checked address, the name only for TLS. */
export function smtpOptions(s: NonNullable<MailboxConfig['smtp']>, target: CheckedTarget, egress: EgressGuard, extra: Record<string, unknown> = {}): SMTPTransport.Options & Record<string, unknown> {
  return {
    host: target.address,
    port: target.port,
    ...(target.servername ? { servername: target.servername } : {}),
    secure: s.secure,
    requireTLS: s.requireTLS,
    ignoreTLS: false,
    auth: s.accessToken ? { type: 'OAuth2', user: s.user, accessToken: s.accessToken } : s.password !== undefined ? { user: s.user, pass: s.password } : undefined,
    tls: { rejectUnauthorized: egress.verifyTls(s.rejectUnauthorized), ...(target.servername ? { servername: target.servername } : {}) },
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    ...extra,
  };
}

/** Short words of our own for the enhanced status codes agents meet most; the server's own text is never shown. */
const STATUS_WORDS: Record<string, string> = {
  '5.1.1': 'recipient address unknown',
  '5.1.2': 'recipient domain unknown',
  '5.1.10': 'recipient address has no mail server',
  '5.2.1': 'recipient mailbox disabled',
  '5.2.2': 'recipient mailbox full',
  '4.2.2': 'recipient mailbox full',
  '5.2.3': 'message too large',
  '5.3.4': 'message too large',
  '5.7.1': 'refused by policy',
  '5.7.26': 'refused: sender authentication failed',
};

/**
 * SMTP failures by what they say about delivery: a 5xx is a verdict (failed); a 4xx or a refused
 * connection means not accepted yet (safe to retry); a connection lost after the message data was
 * sent means the outcome is unknown. Every message is ours, starting with its stable code: the
 * server's own text (its banner, or whatever answers on that port) never reaches a tenant.
 */
export function smtpError(err: unknown, server?: { host: string; port: number }): ConnectorError {
  if (err instanceof EgressError)
    return err.code === 'egress_unresolvable' ? new ConnectorError(`${err.code}: ${err.message}`, 'email', err.code) : new PermanentError('email', `${err.code}: ${err.message}`, err.code);
  const e = err as { code?: string; responseCode?: number; response?: string; command?: string; message?: string };
  const where = server ? ` ${server.host}:${server.port}` : '';
  if (e.code === 'EAUTH' || e.responseCode === 535 || e.responseCode === 534) return new AuthError('email', `channel_auth_failed: the SMTP server${where} refused the login`);
  const status = /\b([245]\.\d{1,3}\.\d{1,3})\b/u.exec(e.response ?? '')?.[1];
  const codes = [e.responseCode, status].filter(Boolean).join(' ');
  const words = status ? STATUS_WORDS[status] : undefined;
  if (typeof e.responseCode === 'number' && e.responseCode >= 500)
    return new PermanentError('email', `mail_rejected: the SMTP server refused the message (${codes}${words ? `, ${words}` : ''})`, 'mail_rejected');
  if (typeof e.responseCode === 'number' && e.responseCode >= 400) return new RateLimitError('email', TEMPORARY_RETRY_MS);
  const afterData = /^(?:DATA|\.|dot|message)$/iu.test(e.command ?? '') || (e.code === 'ETIMEDOUT' && e.command === 'DATA');
  if (afterData) return new TransientError('email', `mail_connection_lost: the connection to the SMTP server${where} was lost while the message was being sent`, 'mail_connection_lost');
  // Nothing was accepted (connection refused, TLS failure, timeout before DATA): retrying is safe.
  if (e.code === 'ETLS' || /certificate|self[- ]signed|tls|ssl/iu.test(e.message ?? '')) return new ConnectorError(`mail_tls_failed: no trusted TLS connection to the SMTP server${where}`, 'email', 'mail_tls_failed');
  if (e.code === 'EPROTOCOL' || e.code === 'EENVELOPE') return new ConnectorError(`mail_protocol_error: the server${where} did not answer as an SMTP server`, 'email', 'mail_protocol_error');
  return new ConnectorError(`mail_connect_failed: could not connect to the SMTP server${where}`, 'email', 'mail_connect_failed');
}

function replySubject(subject: string | undefined): string {
  const s = (subject ?? '').trim();
  if (!s) return 'Re: your message';
  return /^re\s*:/iu.test(s) ? s : `Re: ${s}`;
}

function textToHtml(text: string): string {
  return text.replace(/[&<>"]/gu, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!).replace(/\r?\n/gu, '<br>');
}
