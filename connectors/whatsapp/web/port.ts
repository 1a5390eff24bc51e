/**
 * The part of whatsapp-web.js's `Client` HummDesk uses, so the normalisation and the session loop
 * run against the real library (client.ts) or a fake that emits the library's own objects
 * (testing/fake-client.ts). Field names are the library's.
 */

/** A message id as the library gives it (`Message.id`). */
export interface WaWebMessageId {
  fromMe: boolean;
  /** The chat: `358401234567@c.us`, `123456789012345@lid`, `…@g.us` (a group), `status@broadcast`. */
  remote: string | { _serialized: string };
  id: string;
  _serialized: string;
}

/** A file as `downloadMedia()` returns it (the library's MessageMedia). */
export interface WaWebMedia {
  mimetype: string;
  /** Base64. */
  data: string;
  filename?: string | null;
  filesize?: number | null;
}

/** A file to send: the library's MessageMedia instance (only `messageMedia` makes one). */
export type WaWebOutgoingMedia = WaWebMedia & { readonly __messageMedia?: never };

/** The fields of the library's `Message` read here. */
export interface WaWebMessage {
  id: WaWebMessageId;
  body: string;
  type: string;
  /** Unix seconds. */
  timestamp: number;
  from: string;
  to: string;
  /** The sender inside a group. */
  author?: string;
  fromMe: boolean;
  hasMedia: boolean;
  hasQuotedMsg: boolean;
  isForwarded?: boolean;
  isStatus?: boolean;
  broadcast?: boolean;
  ack?: number;
  /** The revoked message's own id, on the `message_revoke_everyone` stand-in. */
  protocolMessageKey?: WaWebMessageId;
  latestEditSenderTimestampMs?: number;
  location?: { latitude: number | string; longitude: number | string; name?: string; address?: string; url?: string };
  vCards?: string[];
  /** The library's raw data (`notifyName`, `quotedStanzaID`, `mimetype`, `filename`, `size`). */
  _data?: Record<string, unknown>;
  downloadMedia(): Promise<WaWebMedia | undefined | null>;
}

/** The library's MessageAck values. */
export const WA_ACK = { error: -1, pending: 0, server: 1, device: 2, read: 3, played: 4 } as const;

export type LinkState = 'starting' | 'qr_required' | 'ready' | 'disconnected' | 'logged_out';

/** What the session listens to: the library's event names and arguments. */
export interface WaWebClientEvents {
  qr: [qr: string];
  code: [code: string];
  authenticated: [];
  auth_failure: [message: string];
  ready: [];
  disconnected: [reason: string];
  message: [message: WaWebMessage];
  message_create: [message: WaWebMessage];
  message_ack: [message: WaWebMessage, ack: number];
  message_revoke_everyone: [after: WaWebMessage, before?: WaWebMessage];
  message_edit: [message: WaWebMessage, newBody: string, prevBody: string];
}

export interface WaWebClientPort {
  on<E extends keyof WaWebClientEvents>(event: E, listener: (...args: WaWebClientEvents[E]) => void): unknown;
  removeAllListeners(event?: string): unknown;
  /** Launches the browser and opens WhatsApp Web; rejects when it cannot be reached. */
  initialize(): Promise<void>;
  /** Closes the browser (and every Chromium process it started). */
  destroy(): Promise<void>;
  /** Text, or a file built by `messageMedia` (the library checks it is its own MessageMedia). */
  sendMessage(chatId: string, content: string | WaWebOutgoingMedia, options?: { quotedMessageId?: string; linkPreview?: boolean; caption?: string; sendMediaAsDocument?: boolean; sendMediaAsSticker?: boolean }): Promise<WaWebMessage>;
  /** The library's `new MessageMedia(mimetype, data, filename, filesize)`. */
  messageMedia(file: WaWebMedia): WaWebOutgoingMedia;
  getMessageById(id: string): Promise<WaWebMessage | undefined | null>;
  requestPairingCode(phoneNumber: string, showNotification?: boolean): Promise<string>;
  /** The linked account (`info.wid._serialized`), once ready. */
  readonly info?: { wid?: { _serialized?: string; user?: string }; pushname?: string };
}

/** Builds a client for one channel; the real one lives in client.ts, tests pass a fake. */
export type WaWebClientFactory = (opts: WaWebClientOptions) => Promise<WaWebClientPort>;

export interface WaWebClientOptions {
  /** The channel id: the session's name in the auth store. */
  clientId: string;
  /** System Chromium; never a downloaded browser. */
  executablePath: string;
  auth: { kind: 'local'; dataPath: string } | { kind: 'remote'; store: WaWebSessionStore; dataPath: string; backupSyncIntervalMs?: number };
  /** Pairing by code instead of QR: the phone number in international digits. */
  pairWithPhoneNumber?: string;
  /** Where failures the library would otherwise leave unhandled (its cache write, RemoteAuth's backups) are reported, each with a stable code. */
  log?: (level: 'info' | 'warn', msg: string, data?: Record<string, unknown>) => void;
}

/** RemoteAuth's store, in the library's own shape (`session` is RemoteAuth's session name). */
export interface WaWebSessionStore {
  sessionExists(opts: { session: string }): Promise<boolean>;
  save(opts: { session: string }): Promise<void>;
  extract(opts: { session: string; path: string }): Promise<void>;
  delete(opts: { session: string }): Promise<void>;
}

/** The serialized chat id of a message id (`remote` is an object in some library versions). */
export function remoteOf(id: WaWebMessageId): string {
  return typeof id.remote === 'string' ? id.remote : id.remote._serialized;
}
