/** The normalized shapes every connector speaks; the hub never sees a platform payload. */

export const CHANNEL_KINDS = ['email', 'whatsapp', 'whatsapp-web', 'messenger', 'slack', 'teams', 'webchat'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

export type AttachmentKind = 'image' | 'file' | 'audio' | 'video';

export interface InboundAttachment {
  kind: AttachmentKind;
  name?: string;
  mimeType?: string;
  size?: number;
  /** Where the bytes are: a platform media id/URL, or `inline:<base64>` for bytes carried in the payload. */
  ref: string;
  /** Email Content-ID (no angle brackets): what `<img src="cid:…">` in the message HTML points at. */
  contentId?: string;
  /** The bytes are not in the payload: stored `pending`, then fetched by the connector's fetchAttachment in a job of its own. */
  fetchLater?: boolean;
}

export interface NormalizedMessage {
  /** One installation: mailbox, WhatsApp number, Page, Slack team, web widget. */
  channel: { kind: ChannelKind; channelId: string };
  /** Unique per channel; the dedupe key. */
  externalId: string;
  /** `${kind}:${channelId}:${nativeThread}`; maps to exactly one conversation. */
  threadKey: string;
  inReplyToExternalId?: string;
  /** `outbound` marks an echo of our own send, which the hub must not ingest as new. */
  direction: 'inbound' | 'outbound';
  sender: {
    externalId: string;
    displayName?: string;
    address?: string;
    isBot: boolean;
    verified?: boolean;
    /**
     * Email: the DKIM/DMARC verdict of the channel's own receiving server on this sender (its
     * Authentication-Results header, matched by authserv-id); absent when that server gave none.
     */
    authentication?: 'pass' | 'fail' | 'none';
    /**
     * One of our own people writing on the platform itself (a Slack Connect channel shared with the
     * customer): our side of the conversation (direction `outbound`), never a customer, never answered.
     */
    staff?: boolean;
  };
  /**
   * Our side, sent outside HummDesk (the Page inbox, another Page app, the WhatsApp Business app on
   * the phone): recorded as an outbound message of the conversation when no send of ours matches.
   */
  elsewhere?: { by: string };
  sentAt: string;
  subject?: string;
  text: string;
  html?: string;
  attachments: InboundAttachment[];
  /** Set when the sender is a machine (auto-reply, out-of-office): stored, never answered. */
  autoReply?: boolean;
  /**
   * Fallbacks for channels whose thread headers clients drop (email): ids of earlier messages
   * this one answers, a reply token we embedded in our own outbound, and a reply-subject key.
   */
  threadHints?: { references: string[]; replyToken?: string; subjectKey?: string };
  /** The whole body when `text` is only the visible part (email: quoted history and signature removed). */
  fullText?: string;
  /** Set when the original could not be read or ingested: `text` says so and the original rides along as an attachment. */
  keptRaw?: { code: string; reason: string };
  /** Others the sender copied (email Cc, our own mailbox left out): remembered on the conversation and copied on replies. */
  cc?: string[];
  /** Platform facts kept on the message for agents (WhatsApp: forwarded, ad referral, the reply button's payload, an order). */
  details?: Record<string, unknown>;
  raw: unknown;
}

export type DeliveryStatus = 'sent' | 'delivered' | 'read' | 'failed';

export type InboundEvent =
  | { type: 'message'; message: NormalizedMessage }
  | {
      type: 'status';
      channelId: string;
      externalId: string;
      status: DeliveryStatus;
      error?: string;
      /** Our own message id the send carried (WhatsApp `biz_opaque_callback_data`): reconciles a send cut off before its id was stored. */
      reference?: string;
    }
  /** The author changed a message they wrote on the platform (Slack message_changed): its text is replaced. */
  /** `threadKey`, when known, keeps the change in order behind the message it changes. */
  | { type: 'edited'; channelId: string; externalId: string; text: string; editedAt: string; threadKey?: string }
  /** The author deleted it (Slack message_deleted): the stored message is redacted, its files dropped. */
  | { type: 'deleted'; channelId: string; externalId: string; deletedAt: string; threadKey?: string }
  /**
   * Every outbound message of the thread sent at or before `upTo` has reached this state (Messenger
   * delivery and read watermarks, which name no message): applied like a status, never backwards.
   */
  | { type: 'watermark'; channelId: string; threadKey: string; status: 'delivered' | 'read'; upTo: string }
  /**
   * Who may answer the thread now (Messenger handover protocol): `us` when thread control passed to one
   * of our apps, `other` when another app (the Page inbox, a bot) took or was given it.
   */
  | { type: 'control'; channelId: string; threadKey: string; owner: 'us' | 'other'; appId: string | null; previousAppId: string | null; at: string }
  | { type: 'ignored'; reason: string };

export interface WebhookRequest {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  query: Record<string, string | undefined>;
  /** Exact bytes as received: signatures are computed over them. */
  rawBody: Buffer;
  /** The installation the route resolved, with its decrypted secrets. */
  channel?: ChannelInstallation;
  now?: () => Date;
}

export interface ChannelInstallation {
  id: string;
  accountId: string;
  kind: ChannelKind;
  externalKey: string;
  /** The team new conversations of this installation go to until routing decides otherwise. */
  teamId: string | null;
  config: Record<string, unknown>;
  secrets: Record<string, string>;
}

export interface OutboundAttachment {
  name: string;
  mimeType: string;
  content: Buffer;
}

export interface OutboundMessage {
  channel: ChannelInstallation;
  conversation: {
    id: string;
    threadKey: string;
    subject?: string;
    /** Who owns the thread on the platform (Messenger handover), as the last control event said. */
    control?: { owner: 'us' | 'other'; appId: string | null };
  };
  recipient: { externalId: string; address?: string; displayName?: string };
  author: { displayName?: string };
  text: string;
  html?: string;
  attachments: OutboundAttachment[];
  inReplyToExternalId?: string;
  /** Copied on the reply (email): the conversation's Cc list, or the one the agent set on this reply. */
  cc?: string[];
  /** Blind copies of this reply only (email). */
  bcc?: string[];
  /** Stable per message: channels that accept an idempotency key get this one. */
  idempotencyKey: string;
  /** When the customer last wrote in this conversation: channels with a reply window (WhatsApp 24 h) check it before sending. */
  lastInboundAt?: string;
  /** More than text, for channels that have it (WhatsApp): a quote, buttons, a list, a reaction or a template. */
  rich?: OutboundRich;
}

/** Structured parts of an outbound message; message ids here are the platform's (`external_id`). */
export interface OutboundRich {
  /** The message this one answers visibly (shown quoted). */
  quoteExternalId?: string;
  buttons?: { id: string; title: string }[];
  list?: { button: string; sections: { title?: string; rows: { id: string; title: string; description?: string }[] }[] };
  /** An emoji on a message; empty removes our reaction. */
  reaction?: { externalId: string; emoji: string };
  /** An approved template by name and language, its body variables in order (the only message allowed outside a reply window). */
  template?: OutboundTemplate;
}

/**
 * A template's parameters: body variables in order, the header's (its text variable, or the media type
 * of the message's one file), and button parameters by the button's index in the template.
 */
export interface OutboundTemplate {
  name: string;
  language: string;
  variables: string[];
  header?: { type: 'text'; text: string } | { type: 'image' | 'video' | 'document' };
  buttons?: TemplateButtonParam[];
}

/** A quick-reply button's payload (returned when the customer taps it), or the suffix of a dynamic URL button. */
export type TemplateButtonParam = { index: number; subType: 'quick_reply'; payload: string } | { index: number; subType: 'url'; text: string };


export interface CheckpointStore {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
}

export interface ConnectorCapabilities {
  threads: boolean;
  attachments: boolean;
  edits: boolean;
  format: 'plain' | 'html' | 'mrkdwn' | 'adaptive-card';
  replyWindowHours?: number;
  maxTextLength: number;
  /** Whether the channel deduplicates sends by our idempotency key. */
  idempotentSend: boolean;
}

/** An attachment's bytes as a connector fetched them; the connector never stores them itself. */
export interface FetchedAttachment {
  /** The bytes as they arrive (a download, read no further than `maxBytes`), or whole when the platform gives them whole. */
  body: AsyncIterable<Uint8Array> | Buffer;
  mimeType?: string;
  /**
   * Checks what was read (its size and the SHA-256 computed while storing it) against what the platform
   * said of it, before anything is stored; throws a typed error to refuse the bytes.
   */
  verify?(got: { size: number; sha256: Buffer }): void;
}

export interface Connector {
  readonly kind: ChannelKind;
  readonly capabilities: ConnectorCapabilities;
  /** Platform challenges (Meta hub.challenge, Slack url_verification) answered before verification of content. */
  handshake?(req: WebhookRequest): { status: number; body: string; contentType?: string } | undefined;
  /** The installation's external key (Slack team_id, WhatsApp phone_number_id, Page id) read from the raw payload. */
  locate?(req: WebhookRequest): string | undefined;
  /** Throws VerificationError; pure: no database, no network. */
  verify(req: WebhookRequest): Promise<void>;
  /** Pure and deterministic. */
  parse(req: WebhookRequest): InboundEvent[];
  /** Long-lived inbound (IMAP IDLE, Socket Mode); the checkpoint advances only after emit resolves. */
  listen?(
    channel: ChannelInstallation,
    emit: (events: InboundEvent[]) => Promise<void>,
    checkpoint: CheckpointStore,
    signal: AbortSignal,
  ): Promise<void>;
  send(msg: OutboundMessage): Promise<{ externalId: string; sentAt: string }>;
  /**
   * The bytes of an attachment given by reference (`fetchLater`), as a stream the hub writes to its blob
   * store; `verify` checks them against what the platform said of them (size, checksum) once read.
   * Typed errors: PermanentError when the platform no longer has them.
   */
  fetchAttachment?(channel: ChannelInstallation, ref: string, opts: { maxBytes: number }): Promise<FetchedAttachment>;
  /**
   * The conversation was resolved while our app held the platform's thread (Messenger handover):
   * control goes back to the app that had it before (the Page inbox by default).
   */
  handBack?(channel: ChannelInstallation, recipient: { externalId: string }, to: { appId: string | null }): Promise<void>;
  /** Tells the customer their message (and every earlier one) was read, where the channel shows that. */
  markRead?(channel: ChannelInstallation, externalId: string): Promise<void>;
  /** Releases pooled connections (SMTP pools, API clients) at shutdown. */
  close?(): void | Promise<void>;
  check(channel: ChannelInstallation): Promise<{ ok: true } | { ok: false; code: string; message: string }>;
}
