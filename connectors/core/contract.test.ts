import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ChannelInstallation, Connector, InboundEvent, WebhookRequest } from './types.js';
import { VerificationError } from './errors.js';
import { connectorContract } from './contract.js';

/**
 * The contract suite run against a minimal signed-timestamp connector, so every optional branch
 * (stale, status, echo, kind-scoped thread keys) is exercised before a real connector relies on it.
 */
class SampleConnector implements Connector {
  readonly kind = 'slack' as const;
  readonly capabilities = { threads: true, attachments: false, edits: false, format: 'mrkdwn' as const, maxTextLength: 4000, idempotentSend: false };

  async verify(req: WebhookRequest): Promise<void> {
    const ts = Number(req.headers['x-timestamp']);
    const now = (req.now ?? (() => new Date()))().getTime() / 1000;
    if (!Number.isFinite(ts) || Math.abs(now - ts) > 300) throw new VerificationError(this.kind, 'stale request', 'webhook_timestamp_stale');
    const expected = createHmac('sha256', req.channel!.secrets.signingSecret!).update(`${ts}:${req.rawBody.toString()}`).digest();
    const given = Buffer.from(req.headers['x-signature'] ?? '', 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new VerificationError(this.kind, 'bad signature');
  }

  parse(req: WebhookRequest): InboundEvent[] {
    const body = JSON.parse(req.rawBody.toString()) as { type: string; id: string; user: string; text?: string; thread: string; ts: number; status?: 'delivered' };
    if (body.type === 'receipt') return [{ type: 'status', channelId: req.channel!.id, externalId: body.id, status: body.status! }];
    return [{
      type: 'message',
      message: {
        channel: { kind: this.kind, channelId: req.channel!.id },
        externalId: body.id,
        threadKey: `slack:${body.thread}`,
        direction: body.user === 'our-bot' ? 'outbound' : 'inbound',
        sender: { externalId: body.user, isBot: body.user === 'our-bot' },
        sentAt: new Date(body.ts * 1000).toISOString(),
        text: body.text ?? '',
        attachments: [],
        raw: body,
      },
    }];
  }

  async send(): Promise<{ externalId: string; sentAt: string }> {
    throw new Error('not used by the contract');
  }

  async check(): Promise<{ ok: true }> {
    return { ok: true };
  }
}

const channel: ChannelInstallation = { id: 'c0ffee00-0000-4000-8000-000000000001', accountId: 'a', kind: 'slack', externalKey: 'T1', teamId: null, config: {}, secrets: { signingSecret: 'shh' } };
const NOW = new Date('2026-01-01T00:00:00Z');
const signed = (body: object, ts = NOW.getTime() / 1000, secret = 'shh'): WebhookRequest => {
  const raw = JSON.stringify(body);
  return {
    method: 'POST',
    path: '/webhooks/slack',
    headers: { 'x-timestamp': String(ts), 'x-signature': createHmac('sha256', secret).update(`${ts}:${raw}`).digest('hex') },
    query: {},
    rawBody: Buffer.from(raw),
    now: () => NOW,
  };
};
const message = { type: 'message', id: 'm1', user: 'U1', text: 'hello', thread: 'T1:171.1', ts: 1767225600 };

connectorContract('sample signed-timestamp', () => ({
  connector: new SampleConnector(),
  channel,
  threadKeyScope: 'kind',
  validRequest: () => signed(message),
  tamperedRequest: () => signed(message, undefined, 'not the secret'),
  staleRequest: () => signed(message, NOW.getTime() / 1000 - 3600),
  echoRequest: () => signed({ ...message, id: 'm2', user: 'our-bot' }),
  statusRequest: () => signed({ type: 'receipt', id: 'm3', status: 'delivered' }),
}));
