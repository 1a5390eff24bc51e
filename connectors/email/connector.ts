import type { ChannelInstallation, CheckpointStore, Connector, InboundEvent, OutboundMessage, WebhookRequest } from '../core/types.js';
import { VerificationError } from '../core/errors.js';
import { mailboxConfig } from './config.js';
import { imapClient } from './imap.js';
import { listenMailbox, type ListenOptions } from './listen.js';
import { EmailSender, smtpError } from './send.js';
import nodemailer from 'nodemailer';

/** Email: IMAP in (listen), SMTP out (send). It has no webhooks. */
export class EmailConnector implements Connector {
  readonly kind = 'email' as const;
  readonly capabilities = { threads: true, attachments: true, edits: false, format: 'html' as const, maxTextLength: 1_000_000, idempotentSend: false };
  private readonly sender = new EmailSender();

  constructor(private readonly listenOptions: ListenOptions = {}) {}

  async verify(_req: WebhookRequest): Promise<void> {
    throw new VerificationError('email', 'email arrives over IMAP, not by webhook', 'webhook_not_supported');
  }

  parse(_req: WebhookRequest): InboundEvent[] {
    return [{ type: 'ignored', reason: 'email arrives over IMAP, not by webhook' }];
  }

  listen(channel: ChannelInstallation, emit: (events: InboundEvent[]) => Promise<void>, checkpoint: CheckpointStore, signal: AbortSignal): Promise<void> {
    return listenMailbox(channel, emit, checkpoint, signal, this.listenOptions);
  }

  send(msg: OutboundMessage): Promise<{ externalId: string; sentAt: string }> {
    return this.sender.send(msg);
  }

  async check(channel: ChannelInstallation): Promise<{ ok: true } | { ok: false; code: string; message: string }> {
    try {
      const cfg = mailboxConfig(channel);
      if (cfg.imap) {
        const client = imapClient(cfg.imap, { disableAutoIdle: true });
        client.on('error', () => undefined);
        await client.connect();
        await client.logout();
      }
      if (cfg.smtp) {
        const s = cfg.smtp;
        const t = nodemailer.createTransport({ host: s.host, port: s.port, secure: s.secure, requireTLS: s.requireTLS, auth: s.accessToken ? { type: 'OAuth2', user: s.user, accessToken: s.accessToken } : s.password !== undefined ? { user: s.user, pass: s.password } : undefined, tls: { rejectUnauthorized: s.rejectUnauthorized } });
        try {
          await t.verify();
        } catch (err) {
          throw smtpError(err);
        } finally {
          t.close();
        }
      }
      return { ok: true };
    } catch (err) {
      const e = err as { code?: string; message?: string; authenticationFailed?: boolean };
      return { ok: false, code: e.authenticationFailed ? 'channel_auth_failed' : typeof e.code === 'string' ? e.code : 'channel_unavailable', message: e.message ?? String(err) };
    }
  }

  close(): void {
    this.sender.close();
  }
}
