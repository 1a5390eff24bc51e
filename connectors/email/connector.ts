import type { ChannelInstallation, CheckpointStore, Connector, InboundEvent, OutboundMessage, WebhookRequest } from '../core/types.js';
import { ConnectorError, VerificationError } from '../core/errors.js';
import { mailboxConfig } from './config.js';
import { imapClient } from './imap.js';
import { listenMailbox, type ListenOptions } from './listen.js';
import { EmailSender, smtpError, smtpOptions } from './send.js';
import nodemailer from 'nodemailer';
import { EgressGuard } from '../core/egress.js';

export interface EmailConnectorOptions extends ListenOptions {
  /** The hub's egress guard: every IMAP and SMTP connection goes to an address it checked. Strict when absent. */
  egress?: EgressGuard;
  /** Key for signed return paths (VERP); without it no delivery report changes a message's state. */
  returnPathKey?: Buffer;
}

/** Email: IMAP in (listen), SMTP out (send). It has no webhooks. */
export class EmailConnector implements Connector {
  readonly kind = 'email' as const;
  readonly capabilities = { threads: true, attachments: true, edits: false, format: 'html' as const, maxTextLength: 1_000_000, idempotentSend: false };
  private readonly sender: EmailSender;
  private readonly egress: EgressGuard;

  constructor(private readonly options: EmailConnectorOptions = {}) {
    this.egress = options.egress ?? new EgressGuard();
    this.sender = new EmailSender({ egress: this.egress, returnPathKey: options.returnPathKey });
  }

  async verify(_req: WebhookRequest): Promise<void> {
    throw new VerificationError('email', 'email arrives over IMAP, not by webhook', 'webhook_not_supported');
  }

  parse(_req: WebhookRequest): InboundEvent[] {
    return [{ type: 'ignored', reason: 'email arrives over IMAP, not by webhook' }];
  }

  listen(channel: ChannelInstallation, emit: (events: InboundEvent[]) => Promise<void>, checkpoint: CheckpointStore, signal: AbortSignal): Promise<void> {
    const { egress: _egress, returnPathKey, ...listen } = this.options;
    return listenMailbox(channel, emit, checkpoint, signal, { ...listen, egress: this.egress, parse: { ...listen.parse, ...(returnPathKey ? { returnPathKey } : {}) } });
  }

  send(msg: OutboundMessage): Promise<{ externalId: string; sentAt: string }> {
    return this.sender.send(msg);
  }

  /** Connects and logs in to both servers; the answer is a stable code and our own words, never a server's text. */
  async check(channel: ChannelInstallation): Promise<{ ok: true } | { ok: false; code: string; message: string }> {
    try {
      const cfg = mailboxConfig(channel);
      if (cfg.imap) {
        const s = cfg.imap;
        const client = await imapClient(s, this.egress, { disableAutoIdle: true });
        client.on('error', () => undefined);
        try {
          await client.connect();
        } catch (err) {
          const e = err as { authenticationFailed?: boolean };
          if (e.authenticationFailed) throw new ConnectorError(`channel_auth_failed: the IMAP server ${s.host}:${s.port} refused the login`, 'email', 'channel_auth_failed');
          throw new ConnectorError(`mail_connect_failed: could not connect to the IMAP server ${s.host}:${s.port}`, 'email', 'mail_connect_failed');
        }
        await client.logout().catch(() => client.close());
      }
      if (cfg.smtp) {
        const s = cfg.smtp;
        let t: ReturnType<typeof nodemailer.createTransport> | undefined;
        try {
          const target = await this.egress.check({ protocol: 'smtp', host: s.host, port: s.port });
          t = nodemailer.createTransport(smtpOptions(s, target, this.egress));
          await t.verify();
        } catch (err) {
          throw smtpError(err, s);
        } finally {
          t?.close();
        }
      }
      return { ok: true };
    } catch (err) {
      if (err instanceof ConnectorError) return { ok: false, code: err.code, message: err.message };
      return { ok: false, code: 'mail_connect_failed', message: 'mail_connect_failed: the mailbox could not be checked' };
    }
  }

  close(): void {
    this.sender.close();
  }
}
