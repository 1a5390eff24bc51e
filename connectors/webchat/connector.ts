import type { ChannelInstallation, Connector, ConnectorCapabilities, InboundEvent, OutboundMessage, WebhookRequest } from '../core/types.js';
import { VerificationError } from '../core/errors.js';
import { checkVisitorToken, readVisitorClaims } from './tokens.js';
import { MAX_ATTACHMENTS_PER_MESSAGE } from './uploads.js';

export const MAX_CLIENT_MESSAGE_ID_LENGTH = 100;
export const MAX_WEBCHAT_TEXT_LENGTH = 10_000;

/** `authorization: Visitor <token>`; the widget sends it on every visitor request. */
export function visitorTokenOf(req: Pick<WebhookRequest, 'headers'>): string | undefined {
  const header = req.headers.authorization;
  return header?.startsWith('Visitor ') ? header.slice('Visitor '.length).trim() : undefined;
}

/**
 * The hub's own web widget. Its "platform" is the public /webchat API: a request is a visitor
 * message signed by the visitor token the hub issued, and a reply needs no outside call because
 * the stored message reaches the visitor through the realtime stream.
 */
export class WebchatConnector implements Connector {
  readonly kind = 'webchat' as const;
  readonly capabilities: ConnectorCapabilities = {
    threads: false,
    attachments: true,
    edits: false,
    format: 'plain',
    maxTextLength: MAX_WEBCHAT_TEXT_LENGTH,
    idempotentSend: true,
  };

  constructor(private readonly now: () => Date = () => new Date()) {}

  async verify(req: WebhookRequest): Promise<void> {
    if (!req.channel) throw new VerificationError(this.kind, 'no web chat channel resolved for this request', 'visitor_token_invalid');
    const checked = checkVisitorToken(req.channel.secrets.sessionSecret, req.channel.id, visitorTokenOf(req), this.now());
    if (!checked) throw new VerificationError(this.kind, 'visitor token is missing or invalid', 'visitor_token_invalid');
    if (checked.expired) throw new VerificationError(this.kind, 'visitor token has expired; start the session again for a fresh one', 'visitor_token_expired');
    const { claims } = checked;
    const claimedId = req.headers['x-visitor-id'];
    if (claimedId !== undefined && claimedId !== claims.visitorId)
      throw new VerificationError(this.kind, 'x-visitor-id does not match the visitor token', 'visitor_token_invalid');
  }

  parse(req: WebhookRequest): InboundEvent[] {
    const channel = req.channel;
    const token = visitorTokenOf(req);
    const claims = token ? readVisitorClaims(token) : undefined;
    if (!channel || !claims) return [{ type: 'ignored', reason: 'no verified visitor' }];
    const body = readBody(req.rawBody);
    if (!body) return [{ type: 'ignored', reason: 'body is not a visitor message' }];
    return [
      {
        type: 'message',
        message: {
          channel: { kind: this.kind, channelId: channel.id },
          externalId: `${claims.visitorId}:${body.clientMessageId}`,
          threadKey: visitorThreadKey(channel, claims.visitorId),
          direction: 'inbound',
          sender: {
            externalId: claims.visitorId,
            ...(claims.name ? { displayName: claims.name } : {}),
            ...(claims.email ? { address: claims.email } : {}),
            isBot: false,
            verified: claims.verified,
          },
          sentAt: (req.now ?? this.now)().toISOString(),
          text: body.text,
          // Kind, name and bytes come from the upload row, which ingest claims for this visitor only.
          attachments: body.attachments.map((id) => ({ kind: 'file' as const, ref: `${UPLOAD_REF_PREFIX}${id}` })),
          raw: body,
        },
      },
    ];
  }

  async send(msg: OutboundMessage): Promise<{ externalId: string; sentAt: string }> {
    // Already stored and on the realtime bus: "sending" is just naming it.
    return { externalId: `hd:${msg.idempotencyKey}`, sentAt: this.now().toISOString() };
  }

  async check(channel: ChannelInstallation): Promise<{ ok: true } | { ok: false; code: string; message: string }> {
    if (!channel.secrets.sessionSecret) return { ok: false, code: 'webchat_session_secret_missing', message: 'the channel has no session secret to sign visitor tokens' };
    return { ok: true };
  }
}

/** One conversation per visitor and widget; a verified user keeps it across devices. */
export function visitorThreadKey(channel: Pick<ChannelInstallation, 'id'>, visitorId: string): string {
  return `webchat:${channel.id}:${visitorId}`;
}

/** An attachment ref naming a file the sender uploaded to this channel beforehand (hub `uploads` row). */
export const UPLOAD_REF_PREFIX = 'upload:';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/u;

function readBody(raw: Buffer): { clientMessageId: string; text: string; attachments: string[] } | undefined {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
  const { clientMessageId, text, attachments = [] } = (body ?? {}) as { clientMessageId?: unknown; text?: unknown; attachments?: unknown };
  if (typeof clientMessageId !== 'string' || clientMessageId.length < 1 || clientMessageId.length > MAX_CLIENT_MESSAGE_ID_LENGTH) return undefined;
  if (!Array.isArray(attachments) || attachments.length > MAX_ATTACHMENTS_PER_MESSAGE) return undefined;
  if (!attachments.every((id): id is string => typeof id === 'string' && UUID.test(id))) return undefined;
  // A message may be only files; then its text may be empty.
  if (typeof text !== 'string' || (!text.trim() && attachments.length === 0) || text.length > MAX_WEBCHAT_TEXT_LENGTH) return undefined;
  return { clientMessageId, text, attachments: [...new Set(attachments)] };
}
