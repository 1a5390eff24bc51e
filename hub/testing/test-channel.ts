import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { ChannelInstallation, ChannelKind, Connector, ConnectorCapabilities, InboundEvent, OutboundMessage } from '../../connectors/core/types.js';
import { AuthError, ConnectorError, PermanentError, RateLimitError, TransientError } from '../../connectors/core/errors.js';

/**
 * Test support, not product code: a stand-in for an external messaging platform. The emulator is a
 * real HTTP server on loopback whose answer to each send the test scripts; the connector talks to it
 * over HTTP exactly as a real channel connector talks to its platform.
 */

export type ScriptedResponse =
  | { kind: 'ok'; id?: string }
  | { kind: 'rate_limited'; retryAfterSeconds: number }
  | { kind: 'server_error' }
  | { kind: 'rejected'; reason: string }
  | { kind: 'unauthorized' }
  /** Never answers; the connector's timeout cuts the request off. */
  | { kind: 'hang' }
  /** Reads the request, then drops the connection without an answer. */
  | { kind: 'drop' };

export interface ReceivedSend {
  idempotencyKey: string | undefined;
  body: { to: string; text: string; thread?: string };
  answered: ScriptedResponse['kind'];
}

export class ChannelEmulator {
  /** Every send the platform saw, in order, including the ones it then failed. */
  readonly received: ReceivedSend[] = [];
  private readonly script: ScriptedResponse[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly seenKeys = new Map<string, string>();
  private nextId = 1;
  /** Runs when a send arrives, before the platform answers: lets a test look at the hub mid-send. */
  onSend?: (send: ReceivedSend) => Promise<void>;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<ChannelEmulator> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const emulator = new ChannelEmulator(server, `http://127.0.0.1:${port}`);
    server.on('connection', (s) => {
      emulator.sockets.add(s);
      s.on('close', () => emulator.sockets.delete(s));
    });
    server.on('request', (req, res) => void emulator.handle(req, res));
    return emulator;
  }

  /** Queues the answers to the next sends; once the script runs out, every send succeeds. */
  respond(...responses: ScriptedResponse[]): void {
    this.script.push(...responses);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReceivedSend['body'];
    const idempotencyKey = req.headers['idempotency-key'] as string | undefined;
    const step = this.script.shift() ?? { kind: 'ok' };
    const send: ReceivedSend = { idempotencyKey, body, answered: step.kind };
    this.received.push(send);
    await this.onSend?.(send);
    const json = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };
    switch (step.kind) {
      case 'ok': {
        // Like platforms with idempotency keys: a repeated key returns the first message's id.
        const known = idempotencyKey ? this.seenKeys.get(idempotencyKey) : undefined;
        const id = known ?? step.id ?? `ext-${this.nextId++}`;
        if (idempotencyKey) this.seenKeys.set(idempotencyKey, id);
        return json(200, { id });
      }
      case 'rate_limited':
        return json(429, { error: { message: 'too many requests' } }, { 'retry-after': String(step.retryAfterSeconds) });
      case 'server_error':
        return json(500, { error: { message: 'internal error' } });
      case 'rejected':
        return json(400, { error: { message: step.reason } });
      case 'unauthorized':
        return json(401, { error: { message: 'invalid access token' } });
      case 'hang':
        return;
      case 'drop':
        // The platform took the message, but the answer never arrives.
        if (idempotencyKey && !this.seenKeys.has(idempotencyKey)) this.seenKeys.set(idempotencyKey, `ext-${this.nextId++}`);
        req.socket.destroy();
        return;
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A connector for the emulated platform; kind `whatsapp` because no real WhatsApp connector is installed in tests. */
export class TestChannelConnector implements Connector {
  readonly kind: ChannelKind;
  readonly capabilities: ConnectorCapabilities;

  constructor(
    private readonly emulator: { url: string },
    private readonly opts: { kind?: ChannelKind; idempotentSend?: boolean; timeoutMs?: number } = {},
  ) {
    this.kind = opts.kind ?? 'whatsapp';
    this.capabilities = { threads: false, attachments: false, edits: false, format: 'plain', maxTextLength: 4096, idempotentSend: opts.idempotentSend ?? false };
  }

  async verify(): Promise<void> {}

  parse(): [] {
    return [];
  }

  async send(msg: OutboundMessage): Promise<{ externalId: string; sentAt: string }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.capabilities.idempotentSend) headers['idempotency-key'] = msg.idempotencyKey;
    let res: Response;
    try {
      res = await fetch(`${this.emulator.url}/messages`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ to: msg.recipient.externalId, text: msg.text, thread: msg.conversation.threadKey }),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 2000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      // Refused means the request never left: safe to retry. Timeout or reset mean it may have arrived.
      if (cause?.code === 'ECONNREFUSED') throw new ConnectorError('platform refused the connection', this.kind, 'channel_unreachable');
      const timedOut = (err as Error).name === 'TimeoutError';
      throw new TransientError(this.kind, timedOut ? 'the platform did not answer in time' : 'the connection was reset before an answer');
    }
    const body = (await res.json().catch(() => ({}))) as { id?: string; error?: { message?: string } };
    if (res.ok && body.id) return { externalId: body.id, sentAt: new Date().toISOString() };
    const reason = body.error?.message ?? `HTTP ${res.status}`;
    if (res.status === 429) throw new RateLimitError(this.kind, Number(res.headers.get('retry-after') ?? '1') * 1000);
    if (res.status === 401 || res.status === 403) throw new AuthError(this.kind, reason);
    if (res.status >= 400 && res.status < 500) throw new PermanentError(this.kind, reason);
    throw new ConnectorError(`platform error: ${reason}`, this.kind, 'channel_server_error');
  }

  async check(_channel: ChannelInstallation): Promise<{ ok: true }> {
    return { ok: true };
  }
}

/** Opens a conversation on `channel` the way a customer would: one inbound message through ingest. */
export async function openConversation(
  ingest: { ingest(channel: ChannelInstallation, events: InboundEvent[]): Promise<{ conversationId?: string }[]> },
  channel: ChannelInstallation,
  customer = `cust-${randomBytes(4).toString('hex')}`,
): Promise<string> {
  const [outcome] = await ingest.ingest(channel, [
    {
      type: 'message',
      message: {
        channel: { kind: channel.kind, channelId: channel.id },
        externalId: `in-${randomBytes(6).toString('hex')}`,
        threadKey: `${channel.kind}:${channel.id}:${customer}`,
        direction: 'inbound',
        sender: { externalId: customer, displayName: 'Casey Customer', address: customer, isBot: false },
        sentAt: new Date().toISOString(),
        text: 'Where is my order?',
        attachments: [],
        raw: {},
      },
    },
  ]);
  return outcome!.conversationId!;
}

export interface StreamedEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Test support: a server-sent-events client over a real socket (what EventSource does in a browser). */
export async function openEventStream(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; events: StreamedEvent[]; ended: Promise<void>; waitFor(pred: (e: StreamedEvent) => boolean, timeoutMs?: number): Promise<StreamedEvent>; close(): void }> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const events: StreamedEvent[] = [];
      const waiters = new Set<() => void>();
      let buffer = '';
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
        }
        for (const w of waiters) w();
      });
      const ended = new Promise<void>((done) => res.on('close', done));
      const stream = {
        status: res.statusCode ?? 0,
        get body() {
          return body;
        },
        events,
        ended,
        waitFor(pred: (e: StreamedEvent) => boolean, timeoutMs = 10_000) {
          return new Promise<StreamedEvent>((found, fail) => {
            const check = () => {
              const hit = events.find(pred);
              if (!hit) return;
              waiters.delete(check);
              clearTimeout(timer);
              found(hit);
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(events)}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          });
        },
        close: () => req.destroy(),
      };
      resolve(stream);
    });
    req.on('error', reject);
    req.end();
  });
}
