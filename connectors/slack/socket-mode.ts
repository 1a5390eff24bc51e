import { LogLevel, SocketModeClient, type Logger } from '@slack/socket-mode';
import type { WebhookRequest } from '../core/types.js';
import type { SlackClients } from './client.js';
import { untilAborted } from '../core/abort.js';

/**
 * Socket Mode, for hubs Slack cannot reach: @slack/socket-mode's SocketModeClient opens the WebSocket
 * (URL from apps.connections.open with the app-level token), answers Slack's `hello` and `disconnect`,
 * keeps the ping/pong heartbeat and reconnects. Each event, interaction and slash command arrives as
 * an envelope, which is acknowledged only after it was handled (for customer messages: after the
 * ingest COMMIT); one that fails is not acknowledged, so Slack delivers it again.
 */

/** Handles one envelope, given as the request Slack would have POSTed; returns the ack's payload, if any. */
export type EnvelopeHandler = (req: WebhookRequest) => Promise<Record<string, unknown> | undefined>;

export interface SocketModeOptions {
  clients: SlackClients;
  appToken: string;
  handle: EnvelopeHandler;
  signal: AbortSignal;
  /**
   * The client's pong deadline, which the library also uses as its reconnect back-off step (it waits
   * this times the number of consecutive failures); at least 1 s, default 5 s as in the library.
   */
  reconnectDelayMs?: number;
  onError?: (err: unknown) => void;
  /** Where the library's own warnings and errors go (default: nowhere). */
  log?: (level: 'warn' | 'error', message: string) => void;
}

/** The library's heartbeat pings every third of this; below a second a busy event loop would drop good connections. */
const MIN_PING_TIMEOUT_MS = 1000;

interface Envelope {
  type?: string;
  envelope_id?: string;
  payload?: unknown;
  accepts_response_payload?: boolean;
  retry_attempt?: number;
}

/** The HTTP request an envelope stands for, so it takes the same path as the Request URL's. */
export function envelopeRequest(e: Envelope): WebhookRequest | undefined {
  const retry = e.retry_attempt ? { 'x-slack-retry-num': String(e.retry_attempt) } : {};
  const req = (contentType: string, body: string): WebhookRequest => ({
    method: 'POST', path: 'socket-mode', headers: { 'content-type': contentType, ...retry }, query: {}, rawBody: Buffer.from(body),
  });
  if (!e.payload || typeof e.payload !== 'object') return undefined;
  switch (e.type) {
    case 'events_api':
      return req('application/json', JSON.stringify(e.payload));
    case 'interactive':
      return req('application/x-www-form-urlencoded', new URLSearchParams({ payload: JSON.stringify(e.payload) }).toString());
    case 'slash_commands':
      return req('application/x-www-form-urlencoded', new URLSearchParams(Object.entries(e.payload as Record<string, unknown>).map(([k, v]) => [k, String(v ?? '')])).toString());
    default:
      return undefined;
  }
}

/** What SocketModeClient emits as `slack_event` for every envelope (neither `hello` nor `disconnect`). */
interface SlackEvent {
  ack: (response?: Record<string, unknown>) => Promise<void>;
  envelope_id?: string;
  type?: string;
  body?: unknown;
  retry_num?: number;
  accepts_response_payload?: boolean;
}

/**
 * SocketModeClient whose own reconnects cannot end in an unhandled rejection: the library restarts
 * itself with `this.start()` after a drop or a `disconnect` and leaves a failure of that restart (an
 * app token revoked meanwhile: `invalid_auth`) unhandled, which would take the process down. Such a
 * failure is reported to whoever waits in gaveUp() instead; our own first start goes through connect().
 */
class SupervisedSocketModeClient extends SocketModeClient {
  private failed?: (err: unknown) => void;

  /** Resolves with the error of the library's own reconnect when it failed for good. */
  gaveUp(): Promise<unknown> {
    return new Promise((resolve) => (this.failed = resolve));
  }

  connect(): ReturnType<SocketModeClient['start']> {
    return super.start();
  }

  override start(): ReturnType<SocketModeClient['start']> {
    return super.start().catch((err: unknown) => {
      this.failed?.(err);
      return {} as Awaited<ReturnType<SocketModeClient['start']>>;
    });
  }
}

/** Runs until the signal aborts: connect, handle envelopes; the library reconnects when Slack asks or the socket drops. */
export async function runSocketMode(o: SocketModeOptions): Promise<void> {
  if (o.signal.aborted) return;
  const client = new SupervisedSocketModeClient({
    appToken: o.appToken,
    clientOptions: { slackApiUrl: o.clients.apiUrl },
    clientPingTimeout: Math.max(MIN_PING_TIMEOUT_MS, o.reconnectDelayMs ?? 5000),
    logger: libraryLogger(o.log),
  });
  client.on('slack_event', (e: SlackEvent) => void onEnvelope(e, o));
  client.on('error', (err: unknown) => o.onError?.(err));
  // A connection the library opened while we were stopping (a reconnect in flight) is closed again.
  client.on('connected', () => void (o.signal.aborted && client.disconnect()));
  const stopped = untilAborted(o.signal);
  // The library retries recoverable failures itself. An unrecoverable one (a revoked app token), at the
  // first start or at one of its reconnects, is retried here until the installation is fixed or we stop.
  while (!o.signal.aborted) {
    const gaveUp = client.gaveUp().then((err) => Promise.reject(err));
    try {
      await Promise.race([client.connect(), gaveUp, stopped]);
      await Promise.race([gaveUp, stopped]);
    } catch (err) {
      o.onError?.(err);
      await pause(Math.max(MIN_PING_TIMEOUT_MS, o.reconnectDelayMs ?? 5000), o.signal);
    }
  }
  await client.disconnect();
}

/** Handles then acknowledges one envelope; a failure leaves it unacknowledged, so Slack redelivers it. */
async function onEnvelope(e: SlackEvent, o: SocketModeOptions): Promise<void> {
  try {
    const req = envelopeRequest({ type: e.type, envelope_id: e.envelope_id, payload: e.body, retry_attempt: e.retry_num });
    if (!req) return await e.ack();
    const payload = await o.handle(req);
    await e.ack(payload && e.accepts_response_payload ? payload : undefined);
  } catch (err) {
    o.onError?.(err);
  }
}

function libraryLogger(log: SocketModeOptions['log']): Logger {
  let level = LogLevel.WARN;
  const text = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : String(m))).join(' ');
  return {
    debug: () => {},
    info: () => {},
    warn: (...msg: unknown[]) => log?.('warn', text(msg)),
    error: (...msg: unknown[]) => log?.('error', text(msg)),
    setLevel: (l: LogLevel) => void (level = l),
    getLevel: () => level,
    setName: () => {},
  };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
