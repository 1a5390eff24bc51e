import { createHash } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { OutboundMessage } from '../core/types.js';
import { AuthError, ConnectorError, PermanentError, RateLimitError, TransientError } from '../core/errors.js';
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

/** Sends replies over SMTP with one pooled transport per channel (rebuilt when its settings change). */
export class EmailSender {
  private readonly transports = new Map<string, { key: string; transport: Transporter }>();

  async send(msg: OutboundMessage): Promise<{ externalId: string; sentAt: string }> {
    const cfg = mailboxConfig(msg.channel);
    if (!cfg.smtp) throw new PermanentError('email', 'this mailbox has no SMTP server configured', 'channel_misconfigured');
    const { raw, messageId, envelope } = await composeReply(msg, cfg);
    try {
      await this.transport(msg.channel.id, cfg).sendMail({ envelope: { from: cfg.address, to: envelope }, raw });
    } catch (err) {
      throw smtpError(err);
    }
    const sentAt = new Date().toISOString();
    if (cfg.imap?.sentFolder) {
      // The reply has gone out; a failed copy to Sent must not turn it into a failure, but is reported.
      const folder = cfg.imap.sentFolder;
      await appendToFolder(cfg.imap, folder, raw, ['\\Seen']).catch((err: unknown) =>
        process.emitWarning(`could not copy sent reply ${messageId} to "${folder}": ${err instanceof Error ? err.message : String(err)}`, { code: 'HUMMDESK_SENT_COPY_FAILED' }),
      );
    }
    return { externalId: messageId, sentAt };
  }

  private transport(channelId: string, cfg: MailboxConfig): Transporter {
    const s = cfg.smtp!;
    const key = createHash('sha256').update(JSON.stringify(s)).digest('hex');
    const cached = this.transports.get(channelId);
    if (cached?.key === key) return cached.transport;
    cached?.transport.close();
    const transport = nodemailer.createTransport({
      pool: s.pool,
      maxConnections: 3,
      host: s.host,
      port: s.port,
      secure: s.secure,
      requireTLS: s.requireTLS,
      ignoreTLS: false,
      auth: s.accessToken ? { type: 'OAuth2', user: s.user, accessToken: s.accessToken } : s.password !== undefined ? { user: s.user, pass: s.password } : undefined,
      tls: { rejectUnauthorized: s.rejectUnauthorized },
      connectionTimeout: 30_000,
      greetingTimeout: 30_000,
      socketTimeout: 120_000,
    });
    this.transports.set(channelId, { key, transport });
    return transport;
  }

  close(): void {
    for (const { transport } of this.transports.values()) transport.close();
    this.transports.clear();
  }
}

/**
 * SMTP failures by what they say about delivery: a 5xx is a verdict (failed, with the server's
 * text); a 4xx or a refused connection means not accepted yet (safe to retry); a connection lost
 * after the message data was sent means the outcome is unknown.
 */
export function smtpError(err: unknown): ConnectorError {
  const e = err as { code?: string; responseCode?: number; response?: string; command?: string; message?: string };
  const text = (e.response ?? e.message ?? String(err)).trim();
  if (e.code === 'EAUTH' || e.responseCode === 535 || e.responseCode === 534) return new AuthError('email', `SMTP login failed: ${text}`);
  if (typeof e.responseCode === 'number' && e.responseCode >= 500) return new PermanentError('email', text);
  if (typeof e.responseCode === 'number' && e.responseCode >= 400) return new RateLimitError('email', TEMPORARY_RETRY_MS);
  const afterData = /^(?:DATA|\.|dot|message)$/iu.test(e.command ?? '') || (e.code === 'ETIMEDOUT' && e.command === 'DATA');
  if (afterData) return new TransientError('email', `the connection was lost while the message was being sent: ${text}`);
  // Nothing was accepted (connection refused, TLS failure, timeout before DATA): retrying is safe.
  return new ConnectorError(`SMTP unavailable: ${text}`, 'email', 'channel_unavailable');
}

function replySubject(subject: string | undefined): string {
  const s = (subject ?? '').trim();
  if (!s) return 'Re: your message';
  return /^re\s*:/iu.test(s) ? s : `Re: ${s}`;
}

function textToHtml(text: string): string {
  return text.replace(/[&<>"]/gu, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!).replace(/\r?\n/gu, '<br>');
}
