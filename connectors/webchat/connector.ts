import type { ChannelInstallation, Connector, ConnectorCapabilities, InboundEvent, OutboundMessage, WebhookRequest } from '../core/types.js';
import { VerificationError } from '../core/errors.js';
import { readVisitorClaims, verifyVisitorToken } from './tokens.js';

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
    const claims = verifyVisitorToken(req.channel.secrets.sessionSecret, req.channel.id, visitorTokenOf(req));
    if (!claims) throw new VerificationError(this.kind, 'visitor token is missing or invalid', 'visitor_token_invalid');
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
          attachments: [],
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

function readBody(raw: Buffer): { clientMessageId: string; text: string } | undefined {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
  const { clientMessageId, text } = (body ?? {}) as { clientMessageId?: unknown; text?: unknown };
  if (typeof clientMessageId !== 'string' || clientMessageId.length < 1 || clientMessageId.length > MAX_CLIENT_MESSAGE_ID_LENGTH) return undefined;
  if (typeof text !== 'string' || !text.trim() || text.length > MAX_WEBCHAT_TEXT_LENGTH) return undefined;
  return { clientMessageId, text };
}
