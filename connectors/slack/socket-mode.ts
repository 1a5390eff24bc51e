import WebSocket from 'ws';
import type { WebhookRequest } from '../core/types.js';
import type { SlackClients } from './client.js';

/**
 * Socket Mode, for hubs Slack cannot reach: the app opens a WebSocket (URL from apps.connections.open
 * with the app-level token) and Slack sends each event, interaction and slash command over it as an
 * envelope. An envelope is acknowledged only after it was handled (for customer messages: after the
 * ingest COMMIT); one that fails is not acknowledged, so Slack delivers it again.
 */

/** Handles one envelope, given as the request Slack would have POSTed; returns the ack's payload, if any. */
export type EnvelopeHandler = (req: WebhookRequest) => Promise<Record<string, unknown> | undefined>;

export interface SocketModeOptions {
  clients: SlackClients;
  appToken: string;
  handle: EnvelopeHandler;
  signal: AbortSignal;
  /** Wait before reconnecting after a failure (a `disconnect` request reconnects at once). */
  reconnectDelayMs?: number;
  onError?: (err: unknown) => void;
}

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

/** Runs until the signal aborts: connect, handle envelopes, reconnect when Slack asks or the socket drops. */
export async function runSocketMode(o: SocketModeOptions): Promise<void> {
  while (!o.signal.aborted) {
    let clean = false;
    try {
      const { url } = await o.clients.for(o.appToken).apps.connections.open();
      if (!url) throw new Error('apps.connections.open returned no url');
      clean = await connection(String(url), o);
    } catch (err) {
      o.onError?.(err);
    }
    if (!clean && !o.signal.aborted) await pause(o.reconnectDelayMs ?? 1000, o.signal);
  }
}

/** One connection; resolves true when it ended because Slack asked to reconnect or we stopped. */
function connection(url: string, o: SocketModeOptions): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let clean = false;
    const stop = () => {
      clean = true;
      ws.close();
    };
    o.signal.addEventListener('abort', stop, { once: true });
    ws.on('message', (data) => {
      const e = parse(String(data));
      if (!e) return;
      if (e.type === 'disconnect') return stop();
      if (!e.envelope_id) return; // hello
      const req = envelopeRequest(e);
      if (!req) return void ws.send(JSON.stringify({ envelope_id: e.envelope_id }));
      o.handle(req).then(
        (payload) => {
          if (ws.readyState !== WebSocket.OPEN) return;
          ws.send(JSON.stringify({ envelope_id: e.envelope_id, ...(payload && e.accepts_response_payload ? { payload } : {}) }));
        },
        (err: unknown) => o.onError?.(err),
      );
    });
    ws.on('error', (err) => {
      o.signal.removeEventListener('abort', stop);
      reject(err);
    });
    ws.on('close', () => {
      o.signal.removeEventListener('abort', stop);
      resolve(clean);
    });
  });
}

function parse(s: string): Envelope | undefined {
  try {
    const v = JSON.parse(s) as unknown;
    return v && typeof v === 'object' ? (v as Envelope) : undefined;
  } catch {
    return undefined;
  }
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

/** Resolves when the signal aborts: an installation without Socket Mode has nothing to listen to. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
