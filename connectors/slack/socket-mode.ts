import type { Logger, SocketModeClient } from '@slack/socket-mode';
import { installationKeyOf } from './routing.js';
import type { WebhookRequest } from '../core/types.js';
import type { SlackClients } from './client.js';
import type { SlackPayload } from './payload.js';
import { untilAborted } from '../core/abort.js';

/**
 * Socket Mode, for hubs Slack cannot reach: @slack/socket-mode's SocketModeClient opens the WebSocket
 * (URL from apps.connections.open with the app-level token), answers Slack's `hello` and `disconnect`,
 * keeps the ping/pong heartbeat and reconnects. Each event, interaction and slash command arrives as
 * an envelope, which is acknowledged only after it was handled (for customer messages: after the
 * ingest COMMIT); one that fails is not acknowledged, so Slack delivers it again.
 *
 * The app-level token is the app's, not a workspace's: Slack hands each envelope of every workspace
 * the app is installed in to one random open connection of the app (at most 10 connections). So a
 * process opens one connection per app-level token, however many installations share it
 * (SharedSocketConnections), and each envelope is routed to its installation by the payload itself
 * (installationKeyOf), never by the connection it came in on.
 *
 * This module loads @slack/socket-mode (and undici under it) only when a connection is opened.
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

interface SupervisedClient extends SocketModeClient {
  /** Resolves with the error of the library's own reconnect when it failed for good. */
  gaveUp(): Promise<unknown>;
  connect(): ReturnType<SocketModeClient['start']>;
}

/**
 * SocketModeClient whose own reconnects cannot end in an unhandled rejection: the library restarts
 * itself with `this.start()` after a drop or a `disconnect` and leaves a failure of that restart (an
 * app token revoked meanwhile: `invalid_auth`) unhandled, which would take the process down. Such a
 * failure is reported to whoever waits in gaveUp() instead; our own first start goes through connect().
 */
async function supervisedClient(options: ConstructorParameters<typeof SocketModeClient>[0]): Promise<SupervisedClient> {
  const { SocketModeClient: Base } = await import('@slack/socket-mode');
  class Supervised extends Base implements SupervisedClient {
    private failed?: (err: unknown) => void;

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
  return new Supervised(options);
}

/** Which installation an envelope is for: one rule for the Request URL and Socket Mode (routing.ts). */
export { installationKeyOf } from './routing.js';

/** Runs until the signal aborts: connect, handle envelopes; the library reconnects when Slack asks or the socket drops. */
export async function runSocketMode(o: SocketModeOptions): Promise<void> {
  if (o.signal.aborted) return;
  const client = await supervisedClient({
    appToken: o.appToken,
    clientOptions: { slackApiUrl: o.clients.apiUrl },
    clientPingTimeout: Math.max(MIN_PING_TIMEOUT_MS, o.reconnectDelayMs ?? 5000),
    logger: libraryLogger(o.log),
  });
  if (o.signal.aborted) return;
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
  let level = 'warn' as ReturnType<Logger['getLevel']>;
  const text = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : String(m))).join(' ');
  return {
    debug: () => {},
    info: () => {},
    warn: (...msg: unknown[]) => log?.('warn', text(msg)),
    error: (...msg: unknown[]) => log?.('error', text(msg)),
    setLevel: (l: ReturnType<Logger['getLevel']>) => void (level = l),
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

interface SharedConnection {
  /** Installations listening through this connection: routing key → handler (the fallback path only). */
  members: Map<string, EnvelopeHandler>;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * One Socket Mode connection per app-level token in this process, shared by every installation
 * that uses the token: the first to join opens it, the last to leave closes it. Envelopes go to
 * `dispatch` when given (the hub's dispatcher, which finds the installation itself), else to the
 * member whose routing key installationKeyOf names; an envelope of no member here is left
 * unacknowledged, so Slack delivers it again, perhaps to another process's connection.
 */
export class SharedSocketConnections {
  private readonly byToken = new Map<string, SharedConnection>();

  constructor(
    private readonly open: (appToken: string, handle: EnvelopeHandler, signal: AbortSignal) => Promise<void>,
    private readonly decode: (req: WebhookRequest) => SlackPayload,
    private readonly dispatch?: () => EnvelopeHandler | undefined,
  ) {}

  /** Open connections, by app-level token. */
  get size(): number {
    return this.byToken.size;
  }

  /** Listens for one installation (routing key `key`) until `signal` aborts. */
  async join(appToken: string, key: string, handle: EnvelopeHandler, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    let shared = this.byToken.get(appToken);
    if (!shared) {
      const controller = new AbortController();
      const members = new Map<string, EnvelopeHandler>();
      const route: EnvelopeHandler = (req) => {
        const hub = this.dispatch?.();
        if (hub) return hub(req);
        const to = members.get(installationKeyOf(this.decode(req)) ?? '');
        if (!to) throw new Error(`Socket Mode envelope of a workspace not served by this process (${installationKeyOf(this.decode(req)) ?? 'unknown'})`);
        return to(req);
      };
      const created: SharedConnection = { members, controller, done: Promise.resolve() };
      created.done = this.open(appToken, route, controller.signal).finally(() => {
        if (this.byToken.get(appToken) === created) this.byToken.delete(appToken);
      });
      this.byToken.set(appToken, created);
      shared = created;
    }
    const mine = shared;
    mine.members.set(key, handle);
    try {
      await Promise.race([untilAborted(signal), mine.done]);
    } finally {
      if (mine.members.get(key) === handle) mine.members.delete(key);
      if (mine.members.size === 0) {
        if (this.byToken.get(appToken) === mine) this.byToken.delete(appToken);
        mine.controller.abort();
        await mine.done.catch(() => undefined);
      }
    }
  }
}
