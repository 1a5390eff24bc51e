import type { ChannelInstallation, Connector, ConnectorCapabilities, FetchedAttachment, InboundEvent, OutboundMessage, WebhookRequest } from '../core/types.js';
import { ConnectorError, NotSentError, PermanentError, TransientError } from '../core/errors.js';
import { decodeMetaBody } from '../meta/body.js';
import { DEFAULT_GRAPH_VERSION, GraphClient, checkGraphVersion } from '../meta/graph.js';
import { metaHandshake, type HandshakeAnswer } from '../meta/handshake.js';
import { verifyMetaSignature } from '../meta/signature.js';
import { WHATSAPP_MEDIA_REF, splitWhatsAppWebhook, whatsappEvents } from './parse.js';
import { checkWhatsAppOutbound, templateBodyParams, templatePart, whatsappMediaType, whatsappMessagePart } from './outbound.js';

/** An approved message template as the hub keeps it: `body` is the BODY component's text, `params` its placeholders. */
export interface WhatsAppTemplate {
  id: string;
  name: string;
  language: string;
  category: string | null;
  components: unknown[];
  body: string;
  params: number;
}
type RawTemplate = { id?: unknown; name?: unknown; language?: unknown; status?: unknown; category?: unknown; components?: { type?: string; text?: string }[] };

export const WHATSAPP_MAX_TEXT = 4096;
export const WHATSAPP_WINDOW_HOURS = 24;

/** The operator's Meta app (per hub, never per tenant): who may sign webhooks, the handshake token, and where Graph is. */
export interface MetaAppSettings {
  appSecrets: string[];
  verifyTokens: string[];
  /** The Graph API base URL; tenants never set it (their tokens would go there). */
  graphUrl?: string;
}

/** A WhatsApp number's settings: `externalKey` is its phone_number_id; `secrets.accessToken` its bearer token. */
export function whatsappSettings(channel: Pick<ChannelInstallation, 'externalKey' | 'config' | 'secrets'>): { phoneNumberId: string; version: string; token: string } {
  const version = typeof channel.config.graphVersion === 'string' ? channel.config.graphVersion : DEFAULT_GRAPH_VERSION;
  return { phoneNumberId: channel.externalKey, version: checkGraphVersion(version, 'whatsapp'), token: channel.secrets.accessToken ?? '' };
}

/** A phone_number_id is digits; anything else could not be one and would only make a confusing Graph path. */
export function checkPhoneNumberId(id: string): string {
  if (!/^\d{5,32}$/.test(id)) throw new ConnectorError(`"${id}" is not a WhatsApp phone number id (digits, as the WhatsApp Manager shows it)`, 'whatsapp', 'whatsapp_phone_number_id_invalid');
  return id;
}

/**
 * WhatsApp Cloud API: webhooks verified with the operator's Meta app secret over the raw bytes, parsed
 * per business number, sends through the Graph API with the installation's token and version.
 */
export class WhatsAppConnector implements Connector {
  readonly kind = 'whatsapp' as const;
  readonly capabilities: ConnectorCapabilities = {
    threads: false,
    attachments: true,
    edits: false,
    format: 'plain',
    replyWindowHours: WHATSAPP_WINDOW_HOURS,
    maxTextLength: WHATSAPP_MAX_TEXT,
    idempotentSend: false,
  };
  readonly graph: GraphClient;

  constructor(
    readonly app: MetaAppSettings,
    opts: { fetch?: typeof fetch; timeoutMs?: number; now?: () => Date } = {},
  ) {
    this.graph = new GraphClient({ baseUrl: app.graphUrl, connector: 'whatsapp', fetch: opts.fetch, timeoutMs: opts.timeoutMs });
    this.now = opts.now ?? (() => new Date());
  }

  private readonly now: () => Date;

  handshake(req: WebhookRequest): HandshakeAnswer | undefined {
    if (req.method !== 'GET') return undefined;
    return metaHandshake(req.query, this.app.verifyTokens) ?? { status: 400, body: 'not a webhook subscription request (hub.mode missing)', contentType: 'text/plain; charset=utf-8' };
  }

  /** The first business number in the body, for the one-installation webhook route; /webhooks/whatsapp splits bodies itself. */
  locate(req: WebhookRequest): string | undefined {
    try {
      return splitWhatsAppWebhook(decodeMetaBody('whatsapp', req.rawBody)).byNumber.keys().next().value;
    } catch {
      return undefined;
    }
  }

  async verify(req: WebhookRequest): Promise<void> {
    verifyMetaSignature({ appSecrets: this.app.appSecrets, headers: req.headers, rawBody: req.rawBody, connector: 'whatsapp' });
  }

  /** The events of the request's installation; other numbers in the same body are someone else's, and said so. */
  parse(req: WebhookRequest): InboundEvent[] {
    const channel = req.channel;
    if (!channel) throw new ConnectorError('no installation to parse the webhook for', 'whatsapp', 'channel_missing');
    const split = splitWhatsAppWebhook(decodeMetaBody('whatsapp', req.rawBody));
    const events: InboundEvent[] = [...split.ignored];
    for (const [number, changes] of split.byNumber) {
      if (number === channel.externalKey) events.push(...whatsappEvents(channel.id, changes));
      else events.push({ type: 'ignored', reason: `changes for phone number id ${number}, another installation` });
    }
    return events;
  }

  /**
   * One message to the customer: text, a file (uploaded first, then sent by its media id, the text as
   * its caption), reply buttons, a list, a reaction or an approved template; `to` the phone when we know
   * it, else `recipient` = their business-scoped user id. Limits and the 24-hour window (which only a
   * template may pass) are checked before Meta is called, so a refusal has a clear code and nothing was
   * sent; our message id rides along as `biz_opaque_callback_data`, so a status can name the message
   * even when this call was cut off before its answer.
   */
  async send(msg: OutboundMessage): Promise<{ externalId: string; sentAt: string }> {
    const { phoneNumberId, version, token } = whatsappSettings(msg.channel);
    const rich = msg.rich;
    const refusal = checkWhatsAppOutbound({ text: msg.text, attachments: msg.attachments.map((a) => ({ name: a.name, mimeType: a.mimeType, size: a.content.length })), rich });
    if (refusal) throw new PermanentError('whatsapp', `${refusal.code}: ${refusal.message}`, refusal.code);
    if (!rich?.template) {
      const closes = whatsappWindowClosesAt(msg.lastInboundAt);
      if (!closes || closes.getTime() <= this.now().getTime())
        throw new PermanentError(
          'whatsapp',
          `whatsapp_window_closed: free text can only be sent within ${WHATSAPP_WINDOW_HOURS} hours of the customer's last message${closes ? ` (closed ${closes.toISOString()})` : ''}; send an approved template instead`,
          'whatsapp_window_closed',
        );
    }
    const number = checkPhoneNumberId(phoneNumberId);
    const file = msg.attachments[0];
    let part: Record<string, unknown>;
    if (rich?.template) {
      // A media header is the message's one file, uploaded first like any other and named by its id.
      const media = file && rich.template.header && rich.template.header.type !== 'text' ? { id: await this.upload(number, version, token, file), filename: file.name } : undefined;
      part = { type: 'template', template: templatePart(rich.template, media) };
    } else if (file) {
      const type = whatsappMediaType(file.mimeType);
      const mediaId = await this.upload(number, version, token, file);
      const caption = msg.text.trim() ? msg.text : undefined;
      part = { type, [type]: { id: mediaId, ...(caption && type !== 'audio' ? { caption } : {}), ...(type === 'document' ? { filename: file.name } : {}) } };
    } else part = whatsappMessagePart(msg.text, rich);
    const answer = await this.graph.call<{ messages?: { id?: string }[] }>({
      token, version, method: 'POST', path: [number, 'messages'], installation: true,
      body: {
        messaging_product: 'whatsapp', recipient_type: 'individual', ...recipientOf(msg.recipient),
        ...(rich?.quoteExternalId && !rich.reaction ? { context: { message_id: rich.quoteExternalId } } : {}),
        ...part, biz_opaque_callback_data: msg.idempotencyKey,
      },
    });
    const id = answer.messages?.[0]?.id;
    if (!id) throw new PermanentError('whatsapp', 'the Graph API accepted the message but named no message id', 'whatsapp_answer_invalid');
    return { externalId: id, sentAt: this.now().toISOString() };
  }

  /** `POST /{phone-number-id}/media` (multipart): the media id to send by. Any failure here sent nothing. */
  private async upload(number: string, version: string, token: string, file: OutboundMessage['attachments'][number]): Promise<string> {
    let uploaded: { id?: string };
    try {
      uploaded = await this.graph.upload<{ id?: string }>({ token, version, path: [number, 'media'], installation: true, fields: { messaging_product: 'whatsapp', type: file.mimeType }, file });
    } catch (err) {
      if (err instanceof TransientError) throw new NotSentError('whatsapp', `media upload: ${err.message}`, err.code);
      throw err;
    }
    if (!uploaded.id) throw new NotSentError('whatsapp', 'the Graph API took the upload but named no media id', 'whatsapp_answer_invalid');
    return uploaded.id;
  }

  /** Blue ticks: marks the customer's message, and every earlier one, read. */
  async markRead(channel: ChannelInstallation, externalId: string): Promise<void> {
    const { phoneNumberId, version, token } = whatsappSettings(channel);
    await this.graph.call({ token, version, method: 'POST', path: [checkPhoneNumberId(phoneNumberId), 'messages'], installation: true, body: { messaging_product: 'whatsapp', status: 'read', message_id: externalId } });
  }

  /**
   * The business account's approved templates (`GET /{waba-id}/message_templates`), every page. The
   * token must be able to read that account, which proves the channel may use its templates.
   */
  async templates(channel: Pick<ChannelInstallation, 'externalKey' | 'config' | 'secrets'>, wabaId: string): Promise<WhatsAppTemplate[]> {
    const { version, token } = whatsappSettings(channel);
    if (!/^\d{5,32}$/.test(wabaId)) throw new ConnectorError(`"${wabaId}" is not a WhatsApp business account id (digits)`, 'whatsapp', 'whatsapp_business_account_id_invalid');
    const out: WhatsAppTemplate[] = [];
    let after: string | undefined;
    for (let page = 0; page < 100; page++) {
      const res = await this.graph.call<{ data?: RawTemplate[]; paging?: { cursors?: { after?: string }; next?: string } }>({
        token, version, method: 'GET', path: [wabaId, 'message_templates'],
        query: { fields: 'id,name,language,status,category,components', status: 'APPROVED', limit: '100', ...(after ? { after } : {}) },
      });
      for (const t of res.data ?? []) {
        if (t.status !== 'APPROVED' || typeof t.id !== 'string' || typeof t.name !== 'string' || typeof t.language !== 'string') continue;
        const components = Array.isArray(t.components) ? t.components : [];
        const body = components.find((c) => c?.type === 'BODY')?.text ?? '';
        out.push({ id: t.id, name: t.name, language: t.language, category: typeof t.category === 'string' ? t.category : null, components, body, params: templateBodyParams(body) });
      }
      after = res.paging?.next ? res.paging.cursors?.after : undefined;
      if (!after) break;
    }
    return out;
  }

  /**
   * A media file by its id: Graph names a URL (valid five minutes) with its size and SHA-256, the bytes
   * stream from that URL with the same token, and must match both (`verify`). A media id Graph no longer knows
   * is a permanent failure; anything else is worth another try, which asks for a fresh URL.
   */
  async fetchAttachment(channel: ChannelInstallation, ref: string, opts: { maxBytes: number }): Promise<FetchedAttachment> {
    if (!ref.startsWith(WHATSAPP_MEDIA_REF)) throw new PermanentError('whatsapp', `"${ref}" is not a WhatsApp media reference`, 'attachment_ref_invalid');
    const { version, token } = whatsappSettings(channel);
    const media = await this.graph.call<{ url?: string; mime_type?: string; sha256?: string; file_size?: number | string }>({
      token, version, method: 'GET', path: [ref.slice(WHATSAPP_MEDIA_REF.length)],
    });
    if (!media.url) throw new TransientError('whatsapp', 'Graph named no URL for the media');
    const declared = media.file_size === undefined ? undefined : Number(media.file_size);
    if (declared !== undefined && declared > opts.maxBytes) throw new PermanentError('whatsapp', `the file has ${declared} bytes, more than the ${opts.maxBytes} kept`, 'attachment_too_large');
    const body = await this.graph.download(media.url, token, opts.maxBytes);
    return {
      body,
      ...(media.mime_type ? { mimeType: media.mime_type } : {}),
      // Checked on the hash the blob store computes while writing: the bytes are never read twice.
      verify: ({ size, sha256 }) => {
        if (declared !== undefined && Number.isFinite(declared) && size !== declared)
          throw new TransientError('whatsapp', `the download has ${size} bytes, Graph said ${declared}`, 'attachment_size_mismatch');
        if (media.sha256 && !sameDigest(media.sha256, sha256))
          throw new TransientError('whatsapp', 'the download does not match the SHA-256 Graph gave', 'attachment_checksum_mismatch');
      },
    };
  }

  /** The number as Graph describes it; proves the token may act for that phone_number_id. */
  async phoneNumber(channel: Pick<ChannelInstallation, 'externalKey' | 'config' | 'secrets'>): Promise<{ id: string; displayPhoneNumber?: string; verifiedName?: string }> {
    const { phoneNumberId, version, token } = whatsappSettings(channel);
    const n = await this.graph.call<{ id?: string; display_phone_number?: string; verified_name?: string }>({
      token, version, method: 'GET', path: [checkPhoneNumberId(phoneNumberId)], installation: true, query: { fields: 'id,display_phone_number,verified_name' },
    });
    if (n.id !== phoneNumberId) throw new ConnectorError(`the token's number is ${String(n.id)}, not ${phoneNumberId}`, 'whatsapp', 'whatsapp_number_mismatch');
    return { id: n.id, ...(n.display_phone_number ? { displayPhoneNumber: n.display_phone_number } : {}), ...(n.verified_name ? { verifiedName: n.verified_name } : {}) };
  }

  async check(channel: ChannelInstallation): Promise<{ ok: true } | { ok: false; code: string; message: string }> {
    try {
      await this.phoneNumber(channel);
      return { ok: true };
    } catch (err) {
      if (err instanceof ConnectorError) return { ok: false, code: err.code, message: err.message };
      throw err;
    }
  }
}

/** When free text stops being allowed: 24 hours after the customer's last message (none: closed). */
export function whatsappWindowClosesAt(lastInboundAt: string | undefined): Date | undefined {
  const t = lastInboundAt ? Date.parse(lastInboundAt) : NaN;
  return Number.isFinite(t) ? new Date(t + WHATSAPP_WINDOW_HOURS * 3600_000) : undefined;
}

/** Graph writes SHA-256 digests in hex; webhook payloads have shown base64 too. */
function sameDigest(given: string, digest: Buffer): boolean {
  const g = given.trim();
  return g.toLowerCase() === digest.toString('hex') || g === digest.toString('base64');
}

/** The phone when known; a business-scoped user id (`US.…`) otherwise, which Graph takes as `recipient`. */
function recipientOf(r: OutboundMessage['recipient']): { to: string } | { recipient: string } {
  if (r.address) return { to: r.address };
  if (/^[A-Z]{2}\./.test(r.externalId)) return { recipient: r.externalId };
  return { to: r.externalId };
}
