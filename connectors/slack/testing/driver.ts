import type { WebhookRequest } from '../../core/types.js';
import { createHmac } from 'node:crypto';

/** Slack's side of the v0 signature: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{rawBody}` with the signing secret. */
export function signSlackRequest(signingSecret: string, timestamp: number | string, rawBody: Buffer | string): string {
  const mac = createHmac('sha256', signingSecret);
  mac.update(`v0:${timestamp}:`);
  mac.update(rawBody);
  return `v0=${mac.digest('hex')}`;
}

/**
 * Test support: builds requests exactly as Slack delivers them to the Request URL: JSON for the
 * Events API, `application/x-www-form-urlencoded` for interactivity (`payload=`) and slash commands,
 * v0-signed over the raw bytes with the timestamp of an injected clock.
 */
export class SlackDriver {
  constructor(
    private readonly signingSecret: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  headers(rawBody: Buffer, contentType: string, opts: { timestamp?: number; secret?: string; retryNum?: number } = {}): Record<string, string> {
    const ts = opts.timestamp ?? Math.floor(this.now().getTime() / 1000);
    return {
      'content-type': contentType,
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': signSlackRequest(opts.secret ?? this.signingSecret, ts, rawBody),
      ...(opts.retryNum ? { 'x-slack-retry-num': String(opts.retryNum), 'x-slack-retry-reason': 'http_timeout' } : {}),
    };
  }

  event(envelope: Record<string, unknown>, opts: { timestamp?: number; secret?: string; retryNum?: number } = {}): { body: Buffer; headers: Record<string, string> } {
    const body = Buffer.from(JSON.stringify(envelope));
    return { body, headers: this.headers(body, 'application/json', opts) };
  }

  interaction(payload: Record<string, unknown>, opts: { timestamp?: number; secret?: string } = {}): { body: Buffer; headers: Record<string, string> } {
    const body = Buffer.from(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
    return { body, headers: this.headers(body, 'application/x-www-form-urlencoded', opts) };
  }

  command(fields: Record<string, string>, opts: { timestamp?: number; secret?: string } = {}): { body: Buffer; headers: Record<string, string> } {
    const body = Buffer.from(new URLSearchParams(fields).toString());
    return { body, headers: this.headers(body, 'application/x-www-form-urlencoded', opts) };
  }

  /** The same as a connector-level WebhookRequest (for pure verify/parse tests). */
  request(signed: { body: Buffer; headers: Record<string, string> }, now?: () => Date): WebhookRequest {
    return { method: 'POST', path: '/webhooks/slack', headers: signed.headers, query: {}, rawBody: signed.body, now: now ?? this.now };
  }
}

/** An Events API envelope around one event, as Slack wraps it. */
export function envelope(teamId: string, event: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const ts = typeof event.event_ts === 'string' ? event.event_ts : typeof event.ts === 'string' ? event.ts : '1700000000.000100';
  return {
    token: 'legacy-verification-token-unused',
    team_id: teamId,
    api_app_id: 'AHUMMDESK1',
    event: { event_ts: ts, ...event },
    type: 'event_callback',
    event_id: `Ev${ts.replace('.', '')}`,
    event_time: Math.floor(Number(ts)),
    authorizations: [{ team_id: teamId, user_id: 'UBOT', is_bot: true }],
    ...extra,
  };
}
