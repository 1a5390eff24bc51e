import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { WaWebClientFactory, WaWebClientOptions, WaWebClientPort, WaWebMedia, WaWebMessage, WaWebOutgoingMedia } from '../port.js';
import { authStrategyOf } from '../client.js';
import { OUR_NUMBER, sentByUs, sentFileByUs } from './recorded.js';

type Raw = Record<string, unknown>;

/** What the library's auth strategies (src/authStrategies) expose; RemoteAuth adds its store and backup. */
export interface LibraryAuthStrategy {
  setup(client: unknown): void;
  beforeBrowserInitialized(): Promise<void>;
  destroy(): Promise<void>;
  clientId?: string;
  dataPath: string;
  store?: unknown;
  userDataDir?: string;
  /** RemoteAuth: zip the profile and hand it to the store (its backup timer does this once linked). */
  storeRemoteSession?(options?: { emit?: boolean }): Promise<void>;
}
type MessageCtor = new (client: unknown, data: Raw) => WaWebMessage;

/** The library's own Message structure (CommonJS), so fields are derived exactly as the real Client derives them. */
export function libraryMessage(): MessageCtor {
  return createRequire(import.meta.url)('whatsapp-web.js/src/structures/Message.js') as MessageCtor;
}

/**
 * A whatsapp-web.js Client without a browser: it emits the library's events with the library's own
 * `Message` objects built from recorded data, and answers `downloadMedia()` through the page call the
 * library makes (`pupPage.evaluate`), so the library's MessageMedia is what comes back.
 */
export class FakeWaWebClient extends EventEmitter implements WaWebClientPort {
  readonly Message = libraryMessage();
  readonly MessageMedia = createRequire(import.meta.url)('whatsapp-web.js/src/structures/MessageMedia.js') as new (mimetype: string, data: string, filename?: string | null, filesize?: number | null) => WaWebMedia;
  info: WaWebClientPort['info'] = undefined;
  initialized = 0;
  destroyed = 0;
  /** Media the page would give per serialized message id (null/undefined: nothing to download). */
  readonly media = new Map<string, { data: string; mimetype: string; filename?: string | null; filesize?: number | null } | null>();
  readonly sent: { chatId: string; content: string; media?: WaWebMedia; options?: unknown; at: number }[] = [];
  readonly messages = new Map<string, WaWebMessage>();
  /** What initialize() does: open and show a QR, open linked (ready), or fail as offline. */
  script: 'qr' | 'ready' | { fail: Error } = 'ready';
  /** The echo of a send arrives before sendMessage's answer, as WhatsApp Web can do. */
  echoBeforeAnswer = true;
  private nextId = 1;

  /** The page whatsapp-web.js's Message.downloadMedia() evaluates in. */
  readonly pupPage = {
    evaluate: async (_fn: unknown, msgId: string) => {
      const m = this.media.get(msgId);
      return m ? { data: m.data, mimetype: m.mimetype, filename: m.filename ?? null, filesize: m.filesize ?? null } : m;
    },
  };

  /** The Client options the auth strategy reads and writes (`puppeteer.userDataDir`), as on the real Client. */
  readonly options: WaWebClientOptions & { puppeteer: Record<string, unknown> };
  /** The library's own LocalAuth or RemoteAuth, built as the real Client's is (client.ts) and set up on this client. */
  readonly authStrategy: LibraryAuthStrategy;
  /** initialize() runs the strategy's beforeBrowserInitialized (profile folder, RemoteAuth restore) as the real Client does; off by default (most tests have no data folder). */
  prepareAuth = false;

  constructor(options: WaWebClientOptions) {
    super();
    this.options = { ...options, puppeteer: {} };
    const lib = createRequire(import.meta.url);
    this.authStrategy = authStrategyOf(
      { LocalAuth: lib('whatsapp-web.js/src/authStrategies/LocalAuth.js'), RemoteAuth: lib('whatsapp-web.js/src/authStrategies/RemoteAuth.js') } as Parameters<typeof authStrategyOf<LibraryAuthStrategy, LibraryAuthStrategy>>[0],
      options,
    );
    this.authStrategy.setup(this);
  }

  async initialize(): Promise<void> {
    this.initialized++;
    if (this.prepareAuth) await this.authStrategy.beforeBrowserInitialized();
    const s = this.script;
    if (typeof s === 'object') throw s.fail;
    // Asked to pair by phone number, the library emits `code` (a pairing code) instead of `qr`.
    if (s === 'qr' && this.options.pairWithPhoneNumber) setImmediate(() => this.emit('code', 'ABCD1234'));
    else if (s === 'qr') setImmediate(() => this.emit('qr', `2@fakeRef${this.initialized},fakeNoiseKey=,fakeIdentityKey=,fakeAdvSecret=`));
    else setImmediate(() => this.link());
  }

  /** The phone scanned the QR. */
  link(): void {
    this.info = { wid: { _serialized: OUR_NUMBER, user: OUR_NUMBER.split('@')[0] }, pushname: 'Acme Support' };
    this.emit('authenticated');
    this.emit('ready');
  }

  async destroy(): Promise<void> {
    this.destroyed++;
    await this.authStrategy.destroy();
  }

  /** A message arriving: the library emits `message_create`, then (not ours) `message`. */
  receive(data: Raw): WaWebMessage {
    const m = new this.Message(this, data);
    this.messages.set(m.id._serialized, m);
    this.emit('message_create', m);
    if (!m.fromMe) this.emit('message', m);
    return m;
  }

  ack(data: Raw, ack: number): void {
    this.emit('message_ack', new this.Message(this, { ...data, ack }), ack);
  }

  /** WhatsApp's servers acknowledging a message this client sent (`message_ack` with its own data). */
  acknowledge(serializedId: string, ack: number): void {
    const m = this.messages.get(serializedId);
    if (!m?._data) throw new Error(`the fake sent no message ${serializedId}`);
    this.ack(m._data, ack);
  }

  revoke(standIn: Raw, before?: Raw): void {
    this.emit('message_revoke_everyone', new this.Message(this, standIn), before ? new this.Message(this, before) : undefined);
  }

  edit(editedData: Raw, newBody: string, prevBody: string): void {
    this.emit('message_edit', new this.Message(this, editedData), newBody, prevBody);
  }

  messageMedia(file: WaWebMedia): WaWebOutgoingMedia {
    return new this.MessageMedia(file.mimetype, file.data, file.filename ?? null, file.filesize ?? null);
  }

  async sendMessage(chatId: string, content: string | WaWebOutgoingMedia, options?: { caption?: string; sendMediaAsDocument?: boolean; sendMediaAsSticker?: boolean }): Promise<WaWebMessage> {
    const local = `3EB0FA4E${String(this.nextId++).padStart(12, '0')}`;
    // As the real Client: a file must be the library's own MessageMedia.
    if (typeof content !== 'string' && !(content instanceof this.MessageMedia)) throw new Error('content is not a MessageMedia');
    this.sent.push({ chatId, content: typeof content === 'string' ? content : options?.caption ?? '', ...(typeof content === 'string' ? {} : { media: content }), options, at: performance.now() });
    const m = new this.Message(this, typeof content === 'string' ? sentByUs(local, chatId, content) : sentFileByUs(local, chatId, content, options?.caption, options?.sendMediaAsDocument ? 'document' : options?.sendMediaAsSticker ? 'sticker' : undefined));
    this.messages.set(m.id._serialized, m);
    if (this.echoBeforeAnswer) this.emit('message_create', m);
    else setImmediate(() => this.emit('message_create', m));
    await new Promise((r) => setImmediate(r));
    return m;
  }

  async getMessageById(id: string): Promise<WaWebMessage | undefined> {
    return this.messages.get(id);
  }

  async requestPairingCode(_phone: string): Promise<string> {
    const code = 'ABCD1234';
    this.emit('code', code);
    return code;
  }
}

/** A factory handing out fake clients; `clients` are the ones made, newest last. */
export function fakeFactory(setup: (c: FakeWaWebClient) => void = () => {}): WaWebClientFactory & { clients: FakeWaWebClient[] } {
  const clients: FakeWaWebClient[] = [];
  const factory = (async (opts: WaWebClientOptions) => {
    const c = new FakeWaWebClient(opts);
    setup(c);
    clients.push(c);
    return c;
  }) as unknown as WaWebClientFactory & { clients: FakeWaWebClient[] };
  factory.clients = clients;
  return factory;
}
