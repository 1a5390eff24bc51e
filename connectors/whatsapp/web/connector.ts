import { join } from 'node:path';
import { ConnectorError, PermanentError, RateLimitError, VerificationError } from '../../core/errors.js';
import type { ChannelInstallation, CheckpointStore, Connector, ConnectorCapabilities, FetchedAttachment, InboundEvent, OutboundMessage, WebhookRequest } from '../../core/types.js';
import { DEFAULT_CHROMIUM, realClientFactory } from './client.js';
import { WA_WEB_MEDIA_REF, notACustomerChat } from './normalize.js';
import { ChatPacer } from './pacing.js';
import { checkWaWebOutbound, isAnimatedWebp, waWebMediaType, WA_WEB_MAX_TEXT } from './limits.js';
import type { WaWebClientFactory, WaWebSessionStore } from './port.js';
import { LINK_KEY, WaWebSession, type LinkRecord } from './session.js';

export { WA_WEB_MAX_FILES, WA_WEB_MAX_FILE_BYTES, WA_WEB_MAX_TEXT } from './limits.js';

export interface WaWebSettings {
  /** System Chromium (HUMMDESK_WHATSAPP_WEB_CHROMIUM). */
  executablePath?: string;
  /** Where LocalAuth keeps browser profiles, one folder per channel. */
  dataDir: string;
  /** RemoteAuth's store for a channel (`config.auth: "remote"`): the hub's database. */
  remoteStore?: (channel: ChannelInstallation) => WaWebSessionStore;
  /** Whether another process runs this channel's session now (its listener lease is live): a send waits for it there. */
  heldElsewhere?: (channel: ChannelInstallation) => Promise<boolean>;
  /** Tests pass a fake; the default is the real library. */
  factory?: WaWebClientFactory;
  connectTimeoutMs?: number;
  backoffMs?: { first: number; max: number };
  log?: (level: 'info' | 'warn', msg: string, data?: Record<string, unknown>) => void;
  /** Sends per chat: at most one per `intervalMs` (1 s; sessions that send faster get numbers banned). */
  pacing?: { intervalMs: number; maxWaitMs: number };
}

/**
 * WhatsApp through a linked phone (whatsapp-web.js driving the system Chromium). Unofficial:
 * WhatsApp may ban numbers used this way; the Cloud API (`whatsapp`) is the supported path. There is
 * no webhook: a leased listener per channel (hub/listeners.ts) runs the session, and sends go through
 * the session this process holds.
 */
export class WhatsAppWebConnector implements Connector {
  readonly kind = 'whatsapp-web' as const;
  readonly unofficial = true;
  readonly capabilities: ConnectorCapabilities = {
    threads: false,
    attachments: true,
    edits: true,
    format: 'plain',
    maxTextLength: WA_WEB_MAX_TEXT,
    idempotentSend: false,
  };
  /** The sessions this process runs, by channel id. */
  readonly sessions = new Map<string, WaWebSession>();
  private readonly pacer: ChatPacer;

  constructor(readonly settings: WaWebSettings) {
    this.pacer = new ChatPacer(settings.pacing?.intervalMs ?? 1_000, settings.pacing?.maxWaitMs ?? 2_000);
  }

  async verify(_req: WebhookRequest): Promise<void> {
    throw new VerificationError('whatsapp-web', 'a linked-phone WhatsApp channel takes no webhooks', 'whatsapp_web_no_webhooks');
  }

  parse(_req: WebhookRequest): InboundEvent[] {
    return [];
  }

  /** The linked phone's session until `signal` aborts; its state is kept in the checkpoint store (`whatsapp-web:link`). */
  async listen(channel: ChannelInstallation, emit: (events: InboundEvent[]) => Promise<void>, checkpoint: CheckpointStore, signal: AbortSignal): Promise<void> {
    const session = this.session(channel, emit, (link) => checkpoint.set(LINK_KEY, link));
    this.sessions.set(channel.id, session);
    try {
      await session.run(signal);
    } finally {
      if (this.sessions.get(channel.id) === session) this.sessions.delete(channel.id);
    }
  }

  /** A session for `channel` (the listener's, or the CLI's own while it links a phone). */
  session(channel: ChannelInstallation, emit: (events: InboundEvent[]) => Promise<void>, onLink: (link: LinkRecord) => Promise<void>, opts: { pairWithPhoneNumber?: string } = {}): WaWebSession {
    const s = this.settings;
    const remote = channel.config.auth === 'remote';
    if (remote && !s.remoteStore) throw new ConnectorError('this hub has no database store for WhatsApp Web sessions', 'whatsapp-web', 'whatsapp_web_remote_auth_unavailable');
    const dataPath = join(s.dataDir, remote ? 'remote' : 'local');
    return new WaWebSession({
      channelId: channel.id,
      factory: s.factory ?? realClientFactory,
      client: {
        executablePath: s.executablePath ?? DEFAULT_CHROMIUM,
        auth: remote ? { kind: 'remote', store: s.remoteStore!(channel), dataPath } : { kind: 'local', dataPath },
        ...(opts.pairWithPhoneNumber ? { pairWithPhoneNumber: opts.pairWithPhoneNumber } : {}),
      },
      emit,
      onLink,
      ...(s.connectTimeoutMs ? { connectTimeoutMs: s.connectTimeoutMs } : {}),
      ...(s.backoffMs ? { backoffMs: s.backoffMs } : {}),
      ...(s.log ? { log: s.log } : {}),
    });
  }

  /**
   * Text and files to the customer's chat through the session this process holds, every message at most
   * one a second per chat. Files go as the library's MessageMedia from the bytes the deliver job read from
   * our blob store, the text as the first file's caption (its own message first when that file is audio,
   * which shows no caption), then one message per further file; the reply is known by its first message.
   */
  async send(msg: OutboundMessage): Promise<{ externalId: string; sentAt: string }> {
    const text = msg.text.trim();
    const files = msg.attachments;
    // Every file against its type's limit before the first message leaves: a reply is never half sent.
    const refusal = checkWaWebOutbound({ text: msg.text, files: files.map((f) => ({ name: f.name, mimeType: f.mimeType, size: f.content.length, animated: isAnimatedWebp(f.content) })) });
    if (refusal) throw new PermanentError('whatsapp-web', `${refusal.code}: ${refusal.message}`, refusal.code);
    const chatId = msg.recipient.externalId;
    const notPerson = notACustomerChat(chatId);
    if (notPerson) throw new PermanentError('whatsapp-web', `whatsapp_web_recipient_invalid: ${notPerson}`, 'whatsapp_web_recipient_invalid');
    const session = this.sessions.get(msg.channel.id);
    if (!session) {
      // Another hub process runs the phone: back to the queue (not a failed attempt) until a process that has it takes the job.
      if (await this.settings.heldElsewhere?.(msg.channel).catch(() => false)) throw new RateLimitError('whatsapp-web', 2_000);
      throw new ConnectorError('whatsapp_web_not_ready: no hub process runs the linked phone of this channel (is a hub with jobs running?)', 'whatsapp-web', 'whatsapp_web_not_ready');
    }
    const key = `${msg.channel.id}:${chatId}`;
    // Only the first message may go back to the queue: once one has left, the rest wait their turn.
    await this.pacer.take(key);
    if (!files.length) return session.send(chatId, msg.text, msg.inReplyToExternalId);
    // Audio and stickers show no caption: the text goes first as its own message.
    const firstType = waWebMediaType(files[0]!.mimeType);
    const captioned = !!text && firstType !== 'audio' && firstType !== 'sticker';
    let first = text && !captioned ? await session.send(chatId, msg.text, msg.inReplyToExternalId) : undefined;
    for (const [i, file] of files.entries()) {
      if (first) await this.pacer.take(key, { queued: true });
      const sent = await session.sendFile(chatId, file, {
        ...(i === 0 && captioned ? { caption: msg.text } : {}),
        ...(!first && msg.inReplyToExternalId ? { quotedMessageId: msg.inReplyToExternalId } : {}),
        as: waWebMediaType(file.mimeType),
      });
      first ??= sent;
    }
    return first!;
  }

  /** A file the first download did not give: downloaded again through the session; nothing means it is gone. */
  async fetchAttachment(channel: ChannelInstallation, ref: string, opts: { maxBytes: number }): Promise<FetchedAttachment> {
    if (!ref.startsWith(WA_WEB_MEDIA_REF)) throw new PermanentError('whatsapp-web', `"${ref}" is not a WhatsApp Web media reference`, 'attachment_ref_invalid');
    const session = this.sessions.get(channel.id);
    if (!session) throw new ConnectorError('whatsapp_web_not_ready: this process does not hold the linked phone of this channel', 'whatsapp-web', 'whatsapp_web_not_ready');
    const media = await session.media(ref.slice(WA_WEB_MEDIA_REF.length));
    if (!media?.data) throw new PermanentError('whatsapp-web', 'whatsapp_web_media_unavailable: the linked phone no longer has this file (WhatsApp gave nothing to download)', 'whatsapp_web_media_unavailable');
    const content = Buffer.from(media.data, 'base64');
    if (content.length > opts.maxBytes) throw new PermanentError('whatsapp-web', `the file has ${content.length} bytes, more than the ${opts.maxBytes} kept`, 'attachment_too_large');
    return { body: content, ...(media.mimetype ? { mimeType: media.mimetype.split(';')[0]!.trim() } : {}) };
  }

  async check(channel: ChannelInstallation): Promise<{ ok: true } | { ok: false; code: string; message: string }> {
    const session = this.sessions.get(channel.id);
    if (!session) return { ok: false, code: 'whatsapp_web_not_ready', message: 'this process does not run the linked phone of this channel' };
    const link = session.current;
    return link.state === 'ready' ? { ok: true } : { ok: false, code: link.code ?? `whatsapp_web_${link.state}`, message: link.reason ?? `the linked phone is ${link.state}` };
  }
}
