import { ConnectorError, TransientError } from '../../core/errors.js';
import type { InboundEvent } from '../../core/types.js';
import { ackEvent, editEvent, messageEvent, notACustomerChat, revokeEvent } from './normalize.js';
import type { LinkState, WaWebClientFactory, WaWebClientOptions, WaWebClientPort, WaWebMessage, WaWebOutgoingMedia } from './port.js';
import type { WaWebMediaType } from './limits.js';

/** What the hub stores and shows of a linked phone (channel API, CLI, admin). */
export interface LinkRecord {
  state: LinkState;
  /** The QR WhatsApp wants scanned (state `qr_required`), as the raw string the phone's camera reads. */
  qr?: string;
  /** A pairing code to type on the phone instead (Linked devices → Link with phone number). */
  pairingCode?: string;
  /** The linked account (`358401234567@c.us`) once ready. */
  account?: string;
  /** Why the session is not ready: a stable code and a sentence. */
  code?: string;
  reason?: string;
  updatedAt: string;
}

export const LINK_KEY = 'whatsapp-web:link';

export interface SessionOptions {
  channelId: string;
  client: Omit<WaWebClientOptions, 'clientId'>;
  factory: WaWebClientFactory;
  emit: (events: InboundEvent[]) => Promise<void>;
  /** Called on every state change; the listener stores it (channel_checkpoints). */
  onLink: (link: LinkRecord) => Promise<void>;
  log?: (level: 'info' | 'warn', msg: string, data?: Record<string, unknown>) => void;
  /** Longest wait for WhatsApp Web to open before the attempt counts as unreachable. */
  connectTimeoutMs?: number;
  /** Reconnect backoff: first wait and ceiling. */
  backoffMs?: { first: number; max: number };
  now?: () => Date;
  /** How a reconnect waits (a test records the waits instead of sleeping); resolves early when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Jitter source in [0, 1): a reconnect waits its backoff plus up to a fifth more. */
  random?: () => number;
}

const SENT_IDS_KEPT = 5_000;

/**
 * One linked phone: starts the client, follows its events and keeps it running (reconnecting with
 * growing delays) until `signal` aborts. Events are handed to `emit` one at a time, in the order the
 * library gave them. A message the phone sends is told apart from our own sends by the ids our sends
 * returned (a send in flight to that chat is waited for first), so an echo never becomes a second message.
 */
export class WaWebSession {
  private client: WaWebClientPort | undefined;
  private link: LinkRecord;
  private chain: Promise<void> = Promise.resolve();
  private readonly inFlight = new Map<string, Set<Promise<unknown>>>();
  private readonly sentIds = new Set<string>();
  private readonly now: () => Date;

  constructor(private readonly opts: SessionOptions) {
    this.now = opts.now ?? (() => new Date());
    this.link = { state: 'starting', updatedAt: this.now().toISOString() };
  }

  get state(): LinkState {
    return this.link.state;
  }

  get current(): LinkRecord {
    return { ...this.link };
  }

  /** Runs until `signal` aborts; never throws for a connection problem (it is a state, retried). */
  async run(signal: AbortSignal): Promise<void> {
    const backoff = this.opts.backoffMs ?? { first: 2_000, max: 5 * 60_000 };
    let wait = backoff.first;
    while (!signal.aborted) {
      const ended = await this.once(signal);
      if (signal.aborted) break;
      if (ended === 'ready-then-lost') wait = backoff.first;
      // Jitter keeps a fleet of hubs from reconnecting in step after an outage.
      await (this.opts.sleep ?? sleep)(wait + Math.floor((this.opts.random ?? Math.random)() * wait * 0.2), signal);
      wait = Math.min(backoff.max, wait * 2);
    }
    // A linked phone stays linked while no hub runs it: the account is kept for whoever looks.
    const account = this.link.account;
    await this.setLink({ state: 'disconnected', code: 'whatsapp_web_stopped', reason: 'the listener stopped (hub shutting down, channel disabled, or the link command done)', ...(account ? { account } : {}) }).catch(() => undefined);
  }

  /** One client's life: start, wait for its end (disconnect, logout, failure, abort), close its browser. */
  private async once(signal: AbortSignal): Promise<'failed' | 'ready-then-lost'> {
    let wasReady = false;
    let client: WaWebClientPort;
    try {
      client = await this.opts.factory({ ...this.opts.client, clientId: this.opts.channelId, ...(this.opts.log ? { log: this.opts.log } : {}) });
    } catch (err) {
      await this.failed(err);
      return 'failed';
    }
    this.client = client;
    const ended = new Promise<string>((resolve) => {
      client.on('qr', (qr) => void this.setLink({ state: 'qr_required', qr }));
      client.on('code', (code) => void this.setLink({ state: 'qr_required', pairingCode: code }));
      client.on('auth_failure', (message) => void this.setLink({ state: 'logged_out', code: 'whatsapp_web_auth_failed', reason: `WhatsApp refused the stored session: ${message}` }));
      client.on('ready', () => {
        wasReady = true;
        const account = client.info?.wid?._serialized;
        void this.setLink({ state: 'ready', ...(account ? { account } : {}) });
      });
      client.on('disconnected', (reason) => resolve(String(reason)));
      client.on('message', (m) => this.enqueue(() => this.inbound(m)));
      client.on('message_create', (m) => {
        if (m.fromMe) this.enqueue(() => this.fromUs(m));
      });
      client.on('message_ack', (m, ack) => this.enqueue(() => this.emit([ackEvent(this.opts.channelId, m, ack)])));
      client.on('message_revoke_everyone', (after, before) => this.enqueue(() => this.emit([revokeEvent(this.opts.channelId, after, before)])));
      client.on('message_edit', (m, newBody) => this.enqueue(() => this.emit([editEvent(this.opts.channelId, m, newBody)])));
      signal.addEventListener('abort', () => resolve('aborted'), { once: true });
    });
    const timeoutMs = this.opts.connectTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const started = Promise.race([
      client.initialize().then(() => undefined),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TransientError('whatsapp-web', `WhatsApp Web did not open within ${timeoutMs} ms`, 'whatsapp_web_unreachable')), timeoutMs);
      }),
      ended.then(() => undefined),
    ]).finally(() => clearTimeout(timer));
    try {
      await started;
      const reason = await ended;
      if (reason !== 'aborted') {
        const loggedOut = /LOGOUT|UNPAIRED|CONFLICT/i.test(reason);
        await this.setLink(
          loggedOut
            ? { state: 'logged_out', code: 'whatsapp_web_logged_out', reason: `the phone unlinked this device (${reason}); link it again` }
            : { state: 'disconnected', code: 'whatsapp_web_disconnected', reason: `WhatsApp Web disconnected (${reason}); reconnecting` },
        );
      }
    } catch (err) {
      await this.failed(err);
    } finally {
      this.client = undefined;
      client.removeAllListeners();
      await client.destroy().catch((err: unknown) => this.opts.log?.('warn', 'closing WhatsApp Web failed', { err: String(err) }));
      await this.chain;
    }
    return wasReady ? 'ready-then-lost' : 'failed';
  }

  private async failed(err: unknown): Promise<void> {
    const code = err instanceof ConnectorError ? err.code : 'whatsapp_web_unreachable';
    const detail = err instanceof Error ? err.message : String(err);
    this.opts.log?.('warn', 'WhatsApp Web could not start', { code, detail });
    await this.setLink({ state: 'disconnected', code, reason: code === 'whatsapp_web_unreachable' ? `WhatsApp Web could not be reached: ${detail}` : detail });
  }

  /**
   * Text to a chat, paced by the caller. Throws when the phone is not linked and ready here; a send
   * that throws inside the library may or may not have left (TransientError).
   */
  async send(chatId: string, text: string, quotedMessageId?: string): Promise<{ externalId: string; sentAt: string }> {
    return this.deliver(chatId, () => text, { linkPreview: false, ...(quotedMessageId ? { quotedMessageId } : {}) });
  }

  /**
   * A file to a chat as the library's MessageMedia (images, videos and audio as themselves, WebP as a
   * sticker, anything else as a document), with the caption if any; paced by the caller like text.
   */
  async sendFile(chatId: string, file: { name: string; mimeType: string; content: Buffer }, o: { caption?: string; quotedMessageId?: string; as?: WaWebMediaType } = {}): Promise<{ externalId: string; sentAt: string }> {
    return this.deliver(chatId, (client) => client.messageMedia({ mimetype: file.mimeType, data: file.content.toString('base64'), filename: file.name, filesize: file.content.length }), {
      ...(o.caption ? { caption: o.caption } : {}),
      ...(o.quotedMessageId ? { quotedMessageId: o.quotedMessageId } : {}),
      ...(o.as === 'document' ? { sendMediaAsDocument: true } : {}),
      ...(o.as === 'sticker' ? { sendMediaAsSticker: true } : {}),
    });
  }

  private async deliver(chatId: string, content: (client: WaWebClientPort) => string | WaWebOutgoingMedia, options: Parameters<WaWebClientPort['sendMessage']>[2]): Promise<{ externalId: string; sentAt: string }> {
    const client = this.client;
    if (!client || this.link.state !== 'ready')
      throw new ConnectorError(`whatsapp_web_not_ready: the linked phone is ${this.link.state}${this.link.reason ? ` (${this.link.reason})` : ''}`, 'whatsapp-web', 'whatsapp_web_not_ready');
    const sending = client.sendMessage(chatId, content(client), options);
    const set = this.inFlight.get(chatId) ?? new Set();
    set.add(sending);
    this.inFlight.set(chatId, set);
    try {
      const m = await sending;
      this.remember(m.id._serialized);
      return { externalId: m.id._serialized, sentAt: new Date((m.timestamp || this.now().getTime() / 1000) * 1000).toISOString() };
    } catch (err) {
      throw new TransientError('whatsapp-web', `whatsapp_web_send_failed: ${err instanceof Error ? err.message : String(err)}`, 'whatsapp_web_send_failed');
    } finally {
      set.delete(sending);
      if (set.size === 0) this.inFlight.delete(chatId);
    }
  }

  /** A message's file again (the first download gave nothing): the library's own `downloadMedia()`. */
  async media(messageId: string): Promise<{ mimetype: string; data: string; filename?: string | null } | undefined> {
    const client = this.client;
    if (!client || this.link.state !== 'ready') throw new ConnectorError(`whatsapp_web_not_ready: the linked phone is ${this.link.state}`, 'whatsapp-web', 'whatsapp_web_not_ready');
    const m = await client.getMessageById(messageId);
    if (!m) return undefined;
    return (await m.downloadMedia()) ?? undefined;
  }

  /** Pairing by code while a QR is wanted (the CLI's `--phone`). */
  async requestPairingCode(phone: string): Promise<string> {
    const client = this.client;
    if (!client || this.link.state !== 'qr_required') throw new ConnectorError(`a pairing code can be asked for only while the phone is unlinked (now ${this.link.state})`, 'whatsapp-web', 'whatsapp_web_not_linking');
    const code = await client.requestPairingCode(phone, true);
    await this.setLink({ state: 'qr_required', pairingCode: code });
    return code;
  }

  private async inbound(m: WaWebMessage): Promise<void> {
    await this.emit([await messageEvent(this.opts.channelId, m)]);
  }

  /** Ours (a send we made) only confirms the send; anything else was typed on the phone: our side of the chat. */
  private async fromUs(m: WaWebMessage): Promise<void> {
    const chatId = m.to;
    const pending = this.inFlight.get(chatId);
    if (pending?.size) await Promise.allSettled([...pending]);
    if (this.sentIds.has(m.id._serialized)) {
      if (notACustomerChat(chatId, m)) return;
      await this.emit([{ type: 'status', channelId: this.opts.channelId, externalId: m.id._serialized, status: 'sent' }]);
      return;
    }
    await this.emit([await messageEvent(this.opts.channelId, m)]);
  }

  private remember(id: string): void {
    this.sentIds.add(id);
    if (this.sentIds.size > SENT_IDS_KEPT) this.sentIds.delete(this.sentIds.values().next().value!);
  }

  /** In the library's order, one at a time; a failure is retried a few times, then logged (the event is live only). */
  private enqueue(work: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          await work();
          return;
        } catch (err) {
          if (attempt >= 5) {
            this.opts.log?.('warn', 'a WhatsApp Web event could not be stored; dropped', { err: String(err) });
            return;
          }
          await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
        }
      }
    });
  }

  private async emit(events: InboundEvent[]): Promise<void> {
    await this.opts.emit(events);
  }

  private async setLink(patch: Omit<LinkRecord, 'updatedAt'>): Promise<void> {
    // A pairing code stays beside the QR state until the state moves on.
    const keepCode = patch.state === 'qr_required' && this.link.state === 'qr_required' && !patch.pairingCode && this.link.pairingCode;
    this.link = { ...patch, ...(keepCode ? { pairingCode: this.link.pairingCode } : {}), updatedAt: this.now().toISOString() };
    const link = this.current;
    // Stored in the order the states came: a QR written late must never overwrite "ready".
    this.linkChain = this.linkChain.then(() =>
      this.opts.onLink(link).catch((err: unknown) => this.opts.log?.('warn', 'the WhatsApp Web link state could not be stored', { err: String(err) })),
    );
    await this.linkChain;
  }

  private linkChain: Promise<void> = Promise.resolve();
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
