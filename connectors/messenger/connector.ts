import type { ChannelInstallation, Connector, ConnectorCapabilities, FetchedAttachment, InboundEvent, OutboundAttachment, OutboundMessage, WebhookRequest } from '../core/types.js';
import { ConnectorError, PermanentError } from '../core/errors.js';
import { decodeMetaBody } from '../meta/body.js';
import { DEFAULT_GRAPH_VERSION, GraphClient, checkGraphVersion } from '../meta/graph.js';
import { metaHandshake, type HandshakeAnswer } from '../meta/handshake.js';
import { verifyMetaSignature } from '../meta/signature.js';
import type { MetaAppSettings } from '../whatsapp/connector.js';
import { MESSENGER_METADATA_PREFIX, MESSENGER_URL_REF, PAGE_INBOX_APP_ID, messengerEvents, splitMessengerWebhook } from './parse.js';

export const MESSENGER_MAX_TEXT = 2000;
export const MESSENGER_WINDOW_HOURS = 24;
/** How long after the customer's last message a human agent may still answer (MESSAGE_TAG HUMAN_AGENT). */
export const MESSENGER_HUMAN_AGENT_DAYS = 7;
/** The largest file the Send API takes (25 MB). */
export const MESSENGER_MAX_FILE_BYTES = 25 * 1024 * 1024;

/** The Send API's attachment type for a file: image, video and audio play inline, anything else is a file. */
export function attachmentType(mimeType: string): 'image' | 'video' | 'audio' | 'file' {
  const top = mimeType.split('/')[0];
  return top === 'image' || top === 'video' || top === 'audio' ? top : 'file';
}

/** A Page's settings: `externalKey` is its Page id; `secrets.accessToken` its Page access token. */
export function messengerSettings(channel: Pick<ChannelInstallation, 'externalKey' | 'config' | 'secrets'>): { pageId: string; version: string; token: string; humanAgent: boolean } {
  const version = typeof channel.config.graphVersion === 'string' ? channel.config.graphVersion : DEFAULT_GRAPH_VERSION;
  // The human agent tag needs Meta's permission for the app: on unless the installation says it lacks it.
  return { pageId: channel.externalKey, version: checkGraphVersion(version, 'messenger'), token: channel.secrets.accessToken ?? '', humanAgent: channel.config.humanAgentTag !== false };
}

/** A Page id is digits; anything else could not be one. */
export function checkPageId(id: string): string {
  if (!/^\d{5,32}$/.test(id)) throw new ConnectorError(`"${id}" is not a Facebook Page id (digits, as the Page's About section shows it)`, 'messenger', 'messenger_page_id_invalid');
  return id;
}

/**
 * Messenger Platform: webhooks verified with the operator's Meta app secret over the raw bytes, parsed
 * per Page, text sent through the Send API with the Page's token inside the messaging window.
 */
export class MessengerConnector implements Connector {
  readonly kind = 'messenger' as const;
  readonly capabilities: ConnectorCapabilities = {
    threads: false,
    attachments: true,
    edits: false,
    format: 'plain',
    replyWindowHours: MESSENGER_HUMAN_AGENT_DAYS * 24,
    maxTextLength: MESSENGER_MAX_TEXT,
    idempotentSend: false,
  };
  readonly graph: GraphClient;
  private readonly now: () => Date;

  constructor(
    readonly app: MetaAppSettings & { appIds?: string[] },
    opts: { fetch?: typeof fetch; timeoutMs?: number; now?: () => Date } = {},
  ) {
    this.graph = new GraphClient({ baseUrl: app.graphUrl, connector: 'messenger', fetch: opts.fetch, timeoutMs: opts.timeoutMs });
    this.now = opts.now ?? (() => new Date());
  }

  handshake(req: WebhookRequest): HandshakeAnswer | undefined {
    if (req.method !== 'GET') return undefined;
    return metaHandshake(req.query, this.app.verifyTokens) ?? { status: 400, body: 'not a webhook subscription request (hub.mode missing)', contentType: 'text/plain; charset=utf-8' };
  }

  locate(req: WebhookRequest): string | undefined {
    try {
      return splitMessengerWebhook(decodeMetaBody('messenger', req.rawBody)).byPage.keys().next().value;
    } catch {
      return undefined;
    }
  }

  async verify(req: WebhookRequest): Promise<void> {
    verifyMetaSignature({ appSecrets: this.app.appSecrets, headers: req.headers, rawBody: req.rawBody, connector: 'messenger' });
  }

  /** The events of the request's Page; other Pages in the same body are someone else's, and said so. */
  parse(req: WebhookRequest): InboundEvent[] {
    const channel = req.channel;
    if (!channel) throw new ConnectorError('no installation to parse the webhook for', 'messenger', 'channel_missing');
    const split = splitMessengerWebhook(decodeMetaBody('messenger', req.rawBody));
    const events: InboundEvent[] = [...split.ignored];
    for (const [page, items] of split.byPage) {
      if (page === channel.externalKey) events.push(...messengerEvents(channel.id, page, items, { appIds: this.app.appIds }));
      else events.push({ type: 'ignored', reason: `items for Page ${page}, another installation` });
    }
    return events;
  }

  /**
   * Text to the customer (their PSID). Within 24 hours of their last message a RESPONSE; up to 7 days a
   * MESSAGE_TAG HUMAN_AGENT (when the app may use it); later refused before Meta is called
   * (`messenger_window_closed`). Our message id rides in `metadata`, so the echo is known as ours.
   * While another app owns the thread (handover protocol) we take it first; files are uploaded first.
   */
  async send(msg: OutboundMessage): Promise<{ externalId: string; sentAt: string }> {
    const { version, token, humanAgent } = messengerSettings(msg.channel);
    const text = msg.text.trim() ? msg.text : '';
    if (!text && msg.attachments.length === 0) throw new PermanentError('messenger', 'messenger_text_empty: a Messenger message needs text or a file', 'messenger_text_empty');
    const length = [...msg.text].length;
    if (length > MESSENGER_MAX_TEXT) throw new PermanentError('messenger', `messenger_text_too_long: Messenger takes at most ${MESSENGER_MAX_TEXT} characters, this reply has ${length}`, 'messenger_text_too_long');
    for (const a of msg.attachments)
      if (a.content.length > MESSENGER_MAX_FILE_BYTES)
        throw new PermanentError('messenger', `messenger_file_too_large: Messenger takes files up to ${MESSENGER_MAX_FILE_BYTES / 1024 / 1024} MB; "${a.name}" has ${(a.content.length / 1024 / 1024).toFixed(1)} MB`, 'messenger_file_too_large');
    const type = messengerMessagingType(msg.lastInboundAt, this.now(), humanAgent);
    if (!('messaging_type' in type))
      throw new PermanentError(
        'messenger',
        `messenger_window_closed: Messenger replies are allowed within ${MESSENGER_WINDOW_HOURS} hours of the customer's last message${humanAgent ? `, or ${MESSENGER_HUMAN_AGENT_DAYS} days by a human agent` : ''}${'closedAt' in type && type.closedAt ? ` (closed ${type.closedAt})` : ''}`,
        'messenger_window_closed',
      );
    const psid = msg.recipient.externalId;
    // Another app (the Page inbox, a bot) owns the thread: an agent answering takes it over first.
    if (msg.conversation.control?.owner === 'other') {
      await this.graph.call({ token, version, method: 'POST', path: ['me', 'take_thread_control'], installation: true, body: { recipient: { id: psid }, metadata: 'hummdesk: an agent answered' } });
    }
    // Files are uploaded before anything reaches the customer, so a failed upload never leaves the text sent alone.
    const uploaded: { type: string; id: string }[] = [];
    for (const a of msg.attachments) uploaded.push(await this.upload(token, version, a));
    const metadata = `${MESSENGER_METADATA_PREFIX}${msg.idempotencyKey}`;
    const sendOne = async (message: Record<string, unknown>) => {
      const answer = await this.graph.call<{ message_id?: string; recipient_id?: string }>({ token, version, method: 'POST', path: ['me', 'messages'], installation: true, body: { recipient: { id: psid }, ...type, message: { ...message, metadata } } });
      if (!answer.message_id) throw new PermanentError('messenger', 'the Send API accepted the message but named no message id', 'messenger_answer_invalid');
      return answer.message_id;
    };
    // A Messenger message holds text or one file: the text first (its id is the reply's), then each file.
    let first: string | undefined;
    if (text) first = await sendOne({ text });
    for (const u of uploaded) {
      const id = await sendOne({ attachment: { type: u.type, payload: { attachment_id: u.id } } });
      first ??= id;
    }
    return { externalId: first!, sentAt: this.now().toISOString() };
  }

  /** One file to the Attachment Upload API; its id is then sent like a message. */
  private async upload(token: string, version: string, a: OutboundAttachment): Promise<{ type: string; id: string }> {
    const type = attachmentType(a.mimeType);
    const form = new FormData();
    form.set('message', JSON.stringify({ attachment: { type, payload: { is_reusable: false } } }));
    form.set('filedata', new Blob([new Uint8Array(a.content)], { type: a.mimeType }), a.name);
    const answer = await this.graph.call<{ attachment_id?: string }>({ token, version, method: 'POST', path: ['me', 'message_attachments'], installation: true, form });
    if (!answer.attachment_id) throw new PermanentError('messenger', 'the Attachment Upload API named no attachment id', 'messenger_answer_invalid');
    return { type, id: answer.attachment_id };
  }

  /** Passes the customer's thread back to the app that had it (the Page inbox when none is known). */
  async handBack(channel: ChannelInstallation, recipient: { externalId: string }, to: { appId: string | null }): Promise<void> {
    const { version, token } = messengerSettings(channel);
    await this.graph.call({
      token, version, method: 'POST', path: ['me', 'pass_thread_control'], installation: true,
      body: { recipient: { id: recipient.externalId }, target_app_id: to.appId ?? PAGE_INBOX_APP_ID, metadata: 'hummdesk: conversation resolved' },
    });
  }

  /** Attachment bytes from the URL Meta gave in the (signed) webhook: its CDN over https, no token sent there; plain http only to loopback (local emulators). */
  async fetchAttachment(channel: ChannelInstallation, ref: string, opts: { maxBytes: number }): Promise<FetchedAttachment> {
    void channel;
    if (!ref.startsWith(MESSENGER_URL_REF)) throw new PermanentError('messenger', `"${ref}" is not a Messenger attachment reference`, 'attachment_ref_invalid');
    const url = ref.slice(MESSENGER_URL_REF.length);
    if (!/^https:\/\//.test(url) && !/^http:\/\/127\.0\.0\.1[:/]/.test(url)) throw new PermanentError('messenger', 'a Messenger attachment URL must be https', 'attachment_ref_invalid');
    return { body: await this.graph.download(url, '', opts.maxBytes) };
  }

  /**
   * The customer's name from the User Profile API (`GET /{psid}?fields=first_name,last_name` with the Page
   * token). Meta may answer without a name (the person did not allow it): that is an answer too.
   */
  async profile(channel: Pick<ChannelInstallation, 'externalKey' | 'config' | 'secrets'>, psid: string): Promise<{ firstName: string | null; lastName: string | null }> {
    const { version, token } = messengerSettings(channel);
    const p = await this.graph.call<{ first_name?: unknown; last_name?: unknown }>({ token, version, method: 'GET', path: [psid], query: { fields: 'first_name,last_name' } });
    const name = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim().slice(0, 200) : null);
    return { firstName: name(p.first_name), lastName: name(p.last_name) };
  }

  /** The Page the token acts for (`GET /me`): proves the token belongs to that Page id. */
  async page(channel: Pick<ChannelInstallation, 'externalKey' | 'config' | 'secrets'>): Promise<{ id: string; name?: string }> {
    const { pageId, version, token } = messengerSettings(channel);
    const me = await this.graph.call<{ id?: string; name?: string }>({ token, version, method: 'GET', path: ['me'], installation: true, query: { fields: 'id,name' } });
    if (me.id !== pageId) throw new ConnectorError(`the token's Page is ${String(me.id)}, not ${pageId}`, 'messenger', 'messenger_page_mismatch');
    return { id: me.id, ...(me.name ? { name: me.name } : {}) };
  }

  async check(channel: ChannelInstallation): Promise<{ ok: true } | { ok: false; code: string; message: string }> {
    try {
      await this.page(channel);
      return { ok: true };
    } catch (err) {
      if (err instanceof ConnectorError) return { ok: false, code: err.code, message: err.message };
      throw err;
    }
  }
}

/** How a reply may go out now: RESPONSE in 24 h, HUMAN_AGENT tag up to 7 days, else closed (with when). */
export function messengerMessagingType(
  lastInboundAt: string | undefined,
  now: Date,
  humanAgent = true,
): { messaging_type: 'RESPONSE' } | { messaging_type: 'MESSAGE_TAG'; tag: 'HUMAN_AGENT' } | { closedAt?: string } {
  const t = lastInboundAt ? Date.parse(lastInboundAt) : NaN;
  if (!Number.isFinite(t)) return {};
  const age = now.getTime() - t;
  if (age < MESSENGER_WINDOW_HOURS * 3600_000) return { messaging_type: 'RESPONSE' };
  const last = humanAgent ? MESSENGER_HUMAN_AGENT_DAYS * 24 * 3600_000 : MESSENGER_WINDOW_HOURS * 3600_000;
  if (age < last) return { messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' };
  return { closedAt: new Date(t + last).toISOString() };
}
