import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { metaSignature } from '../signature.js';
import { MessengerSendApi, type MessengerSent } from './messenger-send.js';

/**
 * Test support, not product code: a local Graph API for WhatsApp on loopback, and the webhooks Meta
 * would send. It checks what the real one checks and answers as it answers: the version prefix
 * (`/v25.0/…`), the bearer token and which numbers it may act for (190 otherwise), the message shape,
 * text limits (100), the 24-hour window from the customer's last message (131047), and scripted
 * rate limits (HTTP 429 / 130429). Webhooks are serialised as Meta does (non-ASCII as `\uXXXX`,
 * `/` as `\/`) and signed over those bytes; they can be batched, duplicated and reordered.
 */

export interface SentMessage {
  phoneNumberId: string;
  to?: string;
  recipient?: string;
  type: string;
  text?: string;
  bizOpaqueCallbackData?: string;
  id: string;
}

export type ScriptedGraphAnswer =
  | { kind: 'rate_limit'; httpStatus?: 429 | 400; code?: number; retryAfterSeconds?: number }
  | { kind: 'server_error' }
  | { kind: 'error'; httpStatus: number; code: number; subcode?: number; message: string };

interface Number_ {
  id: string;
  displayPhoneNumber: string;
  verifiedName: string;
  tokens: Set<string>;
}

const WINDOW_MS = 24 * 3600_000;
const MAX_TEXT = 4096;

export class GraphEmulator {
  /** Every message Graph accepted, in order. */
  readonly inbox: SentMessage[] = [];
  /** The Messenger Send API, uploads and thread control (`/me/…` with a Page token). */
  readonly messenger = new MessengerSendApi((pageId, psid) => this.lastInbound.get(`${pageId}|${psid}`), () => this.now());
  /** Every Messenger Send API message accepted, in order. */
  get messengerInbox(): MessengerSent[] {
    return this.messenger.inbox;
  }
  /** Every request, with the path as received (version prefix included). */
  readonly requests: { method: string; path: string; authorization?: string }[] = [];
  private readonly numbers = new Map<string, Number_>();
  /** Messenger Pages by their Page access token (a Page token acts for its one Page: `/me` is the Page). */
  private readonly pages = new Map<string, { id: string; name: string; appId: string }>();
  /** `${phoneNumberId}|${customer}` → when the customer last wrote (opens the window). */
  private readonly lastInbound = new Map<string, number>();
  private readonly script: ScriptedGraphAnswer[] = [];
  private readonly sockets = new Set<Socket>();
  /** Media by id: its bytes, type and the number it came to. */
  private readonly media = new Map<string, { bytes: Buffer; mimeType: string; numberId: string; corrupt: boolean }>();
  private failDownloads = 0;
  private gate?: Promise<void>;
  /** Media downloads answered (including the scripted failures). */
  downloads = 0;
  private seq = 0;
  /**
   * Where Meta would send this app's webhooks: with it set, every accepted message is followed by its
   * status webhooks (`statuses`, in that order, e.g. out of order and duplicated), signed as Meta signs.
   */
  webhookTarget?: { url: string; appSecret: string; statuses: ('sent' | 'delivered' | 'read')[] };
  /** Status webhooks posted, with the hub's HTTP answer to each. */
  readonly webhookAnswers: number[] = [];
  /** Runs when Graph has accepted a message, before it answers: a test can deliver webhooks that overtake the answer. */
  onMessage?: (sent: SentMessage) => Promise<void>;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly versions: Set<string>,
    private readonly now: () => number,
  ) {}

  static async start(opts: { versions?: string[]; now?: () => number } = {}): Promise<GraphEmulator> {
    let emulator: GraphEmulator | undefined;
    const server = createServer((req, res) => void emulator!.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    emulator = new GraphEmulator(server, `http://127.0.0.1:${port}`, new Set(opts.versions ?? ['v24.0', 'v25.0']), opts.now ?? Date.now);
    server.on('connection', (s) => {
      emulator!.sockets.add(s);
      s.on('close', () => emulator!.sockets.delete(s));
    });
    return emulator;
  }

  /** A business number and the token that may act for it. */
  addNumber(n: { id: string; token: string; displayPhoneNumber?: string; verifiedName?: string }): void {
    const existing = this.numbers.get(n.id);
    if (existing) existing.tokens.add(n.token);
    else this.numbers.set(n.id, { id: n.id, displayPhoneNumber: n.displayPhoneNumber ?? '+1 555 000 0000', verifiedName: n.verifiedName ?? 'Test Business', tokens: new Set([n.token]) });
  }

  /** A file a customer sent to `numberId`; `corrupt` serves other bytes than Graph's size and checksum describe. */
  addMedia(id: string, numberId: string, bytes: Buffer, mimeType = 'application/octet-stream', corrupt = false): void {
    this.media.set(id, { bytes, mimeType, numberId, corrupt });
  }

  /** Media downloads wait until the returned function is called (to look at the hub while a file is being fetched). */
  holdDownloads(): () => void {
    let release!: () => void;
    this.gate = new Promise((resolve) => (release = resolve));
    return () => {
      this.gate = undefined;
      release();
    };
  }

  /** The next `n` media downloads answer 503. */
  failNextDownloads(n: number): void {
    this.failDownloads += n;
  }

  /** A Facebook Page whose Page access token is `token` (Messenger). */
  addPage(page: { id: string; name?: string; token: string; appId?: string }): void {
    this.pages.set(page.token, { id: page.id, name: page.name ?? `Page ${page.id}`, appId: page.appId ?? '4242' });
  }

  /** The customer wrote at `at` (ms): free text to them is allowed for 24 hours. */
  customerWrote(phoneNumberId: string, customer: string, at = this.now()): void {
    this.lastInbound.set(`${phoneNumberId}|${customer}`, at);
  }

  /** The next requests to the messages endpoint get these answers, in order. */
  scriptNext(...answers: ScriptedGraphAnswer[]): void {
    this.script.push(...answers);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async sendStatuses(sent: SentMessage): Promise<void> {
    const target = this.webhookTarget!;
    for (const status of target.statuses) {
      const body = whatsappWebhooks.status(sent.phoneNumberId, { id: sent.id, status, recipient: sent.to ?? sent.recipient ?? '', ...(sent.bizOpaqueCallbackData ? { callbackData: sent.bizOpaqueCallbackData } : {}) });
      this.webhookAnswers.push(await postWebhook(target.url, target.appSecret, body));
    }
  }

  /** A media URL: bearer token of the number, five minutes from when Graph named it, then the bytes. */
  private download(req: IncomingMessage, res: ServerResponse, id: string, exp: number): void {
    this.downloads++;
    const file = this.media.get(id);
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const status = !file ? 404 : !token || !this.numbers.get(file.numberId)?.tokens.has(token) ? 401 : !(exp > this.now()) ? 404 : this.failDownloads > 0 ? 503 : 200;
    if (status === 503) this.failDownloads--;
    if (status !== 200) {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 503 ? 'Service Unavailable' : 'Not Found');
      return;
    }
    const bytes = file!.corrupt ? Buffer.concat([file!.bytes.subarray(0, -1), Buffer.from([file!.bytes.at(-1)! ^ 0xff])]) : file!.bytes;
    res.writeHead(200, { 'content-type': file!.mimeType, 'content-length': String(bytes.length) });
    res.end(bytes);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', this.url);
    this.requests.push({ method: req.method ?? '', path: url.pathname, authorization: req.headers.authorization });
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const fail = (status: number, code: number, message: string, extra: Record<string, unknown> = {}) =>
      send(status, { error: { message, type: 'OAuthException', code, ...extra, fbtrace_id: `A${randomBytes(8).toString('hex')}` } });

    const [version, ...rest] = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (version === 'media-download') {
      await this.gate;
      return this.download(req, res, rest[0] ?? '', Number(url.searchParams.get('exp')));
    }
    if (!version || !this.versions.has(version)) return fail(400, 2500, `Unknown path components: /${version ?? ''}`);
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token) return fail(400, 2500, 'An active access token must be used to query information about the current user.');
    const file = this.media.get(rest[0] ?? '');
    if (file && req.method === 'GET' && rest.length === 1) {
      if (!this.numbers.get(file.numberId)?.tokens.has(token)) return fail(401, 190, 'Invalid OAuth access token - Cannot parse access token', { error_subcode: 463 });
      const exp = this.now() + 5 * 60_000;
      const sha256 = createHash('sha256').update(file.bytes).digest('hex');
      return send(200, { messaging_product: 'whatsapp', url: `${this.url}/media-download/${encodeURIComponent(rest[0]!)}?exp=${exp}`, mime_type: file.mimeType, sha256, file_size: file.bytes.length, id: rest[0] });
    }
    if (!file && /^MEDIA/.test(rest[0] ?? '') && req.method === 'GET') return fail(400, 100, `Unsupported get request. Object with ID '${rest[0]}' does not exist`, { error_subcode: 33 });
    if (rest[0] === 'me') {
      const page = this.pages.get(token);
      if (!page) return fail(401, 190, 'Invalid OAuth access token - Cannot parse access token', { error_subcode: 463 });
      if (req.method === 'GET' && rest.length === 1) return send(200, { id: page.id, name: page.name });
      if (req.method === 'POST' && rest[1] === 'messages' && rest.length === 2) {
        const scripted = this.script.shift();
        if (scripted?.kind === 'rate_limit') return fail(scripted.httpStatus ?? 400, scripted.code ?? 613, 'Calls to this api have exceeded the rate limit.', {});
        if (scripted?.kind === 'server_error') return fail(503, 1, 'An unknown error occurred');
        if (scripted?.kind === 'error') return fail(scripted.httpStatus, scripted.code, scripted.message, scripted.subcode ? { error_subcode: scripted.subcode } : {});
      }
      if (req.method === 'POST' && rest.length === 2) {
        const body = Buffer.concat(chunks);
        const request = new Request(url, { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' }, body: new Uint8Array(body) });
        const answer = await this.messenger.handle(page, req.method, rest.slice(1), request);
        return send(answer.status, answer.body);
      }
      return fail(400, 100, `Unsupported ${req.method} request: /me/${rest.slice(1).join('/')}`);
    }
    const number = this.numbers.get(rest[0] ?? '');
    if (!number || !number.tokens.has(token)) return fail(401, 190, 'Invalid OAuth access token - Cannot parse access token', { error_subcode: 463 });

    if (req.method === 'GET' && rest.length === 1) {
      return send(200, { id: number.id, display_phone_number: number.displayPhoneNumber, verified_name: number.verifiedName });
    }
    if (req.method === 'POST' && rest.length === 2 && rest[1] === 'messages') {
      const scripted = this.script.shift();
      if (scripted?.kind === 'rate_limit')
        return send(scripted.httpStatus ?? 429, { error: { message: '(#130429) Rate limit hit', type: 'OAuthException', code: scripted.code ?? 130429, error_data: { messaging_product: 'whatsapp', details: 'Cloud API message throughput has been reached.' } } }, scripted.retryAfterSeconds ? { 'retry-after': String(scripted.retryAfterSeconds) } : {});
      if (scripted?.kind === 'server_error') return fail(503, 1, 'An unknown error occurred');
      if (scripted?.kind === 'error') return fail(scripted.httpStatus, scripted.code, scripted.message, scripted.subcode ? { error_subcode: scripted.subcode } : {});
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        return fail(400, 100, 'Invalid parameter');
      }
      if (body.messaging_product !== 'whatsapp') return fail(400, 100, '(#100) The parameter messaging_product is required.');
      const to = typeof body.to === 'string' ? body.to : undefined;
      const recipient = typeof body.recipient === 'string' ? body.recipient : undefined;
      if (!to && !recipient) return fail(400, 100, '(#100) The parameter to is required.');
      if (body.type !== 'text') return fail(400, 100, `(#100) Param type "${String(body.type)}" is not supported by this emulator`);
      const text = (body.text as { body?: unknown } | undefined)?.body;
      if (typeof text !== 'string' || !text) return fail(400, 100, "(#100) The parameter text['body'] is required.");
      if ([...text].length > MAX_TEXT) return fail(400, 100, `(#100) Param text['body'] must be at most ${MAX_TEXT} characters long.`);
      const last = this.lastInbound.get(`${number.id}|${to ?? recipient}`);
      if (last === undefined || this.now() - last > WINDOW_MS)
        return send(400, { error: { message: '(#131047) Re-engagement message', type: 'OAuthException', code: 131047, error_data: { messaging_product: 'whatsapp', details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.' } } });
      const id = `wamid.EMU${String(++this.seq).padStart(6, '0')}${randomBytes(6).toString('hex').toUpperCase()}`;
      const sent: SentMessage = { phoneNumberId: number.id, type: 'text', text, id, ...(to ? { to } : {}), ...(recipient ? { recipient } : {}) };
      if (typeof body.biz_opaque_callback_data === 'string') sent.bizOpaqueCallbackData = body.biz_opaque_callback_data;
      this.inbox.push(sent);
      await this.onMessage?.(sent);
      if (this.webhookTarget) setImmediate(() => void this.sendStatuses(sent));
      return send(200, { messaging_product: 'whatsapp', contacts: [{ input: to ?? recipient, ...(to ? { wa_id: to } : { user_id: recipient }) }], messages: [{ id }] });
    }
    return fail(400, 100, `Unsupported ${req.method} request: /${rest.join('/')}`);
  }
}

/** JSON as Meta writes it on the wire: every non-ASCII UTF-16 unit as `\uXXXX`, and `/` as `\/`. */
export function metaJson(body: unknown): string {
  return JSON.stringify(body)
    .replace(/\//g, '\\/')
    .replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A webhook as Meta delivers it: the escaped bytes and their signature with the app secret. */
export function signedWebhook(appSecret: string, body: unknown): { payload: Buffer; headers: Record<string, string> } {
  const payload = Buffer.from(metaJson(body), 'utf8');
  return { payload, headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature(appSecret, payload) } };
}

/** POSTs one webhook to `url` as Meta does (escaped bytes, X-Hub-Signature-256); the HTTP status it got. */
export async function postWebhook(url: string, appSecret: string, body: unknown): Promise<number> {
  const { payload, headers } = signedWebhook(appSecret, body);
  const res = await fetch(url, { method: 'POST', headers, body: new Uint8Array(payload) });
  await res.arrayBuffer();
  return res.status;
}

type Customer = { waId?: string; userId?: string; name?: string };

/** Builders of WhatsApp Cloud API webhook bodies, shaped as the recorded ones in the shared corpus. */
export const whatsappWebhooks = {
  /** One body holding every change given (several numbers, several entries). */
  batch(...bodies: { entry: unknown[] }[]): { object: string; entry: unknown[] } {
    return { object: 'whatsapp_business_account', entry: bodies.flatMap((b) => b.entry) };
  },

  text(phoneNumberId: string, customer: Customer, m: { id: string; body: string; at?: Date; context?: Record<string, unknown> }) {
    return whatsappWebhooks.message(phoneNumberId, customer, { id: m.id, at: m.at, type: 'text', text: { body: m.body }, ...(m.context ? { context: m.context } : {}) });
  },

  message(phoneNumberId: string, customer: Customer, m: { id: string; at?: Date; type: string } & Record<string, unknown>) {
    const { id, at, type, ...rest } = m;
    return change(phoneNumberId, 'messages', {
      contacts: [{ profile: { name: customer.name ?? 'Test Customer' }, ...(customer.waId ? { wa_id: customer.waId } : {}), ...(customer.userId ? { user_id: customer.userId } : {}) }],
      messages: [{ ...(customer.waId ? { from: customer.waId } : {}), ...(customer.userId ? { from_user_id: customer.userId } : {}), id, timestamp: seconds(at), type, ...rest }],
    });
  },

  status(phoneNumberId: string, s: { id: string; status: 'sent' | 'delivered' | 'read' | 'played' | 'failed'; recipient: string; at?: Date; callbackData?: string; error?: { code: number; title: string; details?: string } }) {
    return change(phoneNumberId, 'messages', {
      statuses: [{
        id: s.id, status: s.status, timestamp: seconds(s.at), recipient_id: s.recipient,
        ...(s.callbackData ? { biz_opaque_callback_data: s.callbackData } : {}),
        ...(s.error ? { errors: [{ code: s.error.code, title: s.error.title, message: s.error.title, ...(s.error.details ? { error_data: { details: s.error.details } } : {}) }] } : {}),
      }],
    });
  },
};

function seconds(at: Date | undefined): string {
  return String(Math.floor((at ?? new Date()).getTime() / 1000));
}

function change(phoneNumberId: string, field: string, value: Record<string, unknown>) {
  return {
    object: 'whatsapp_business_account',
    entry: [{ id: `WABA${phoneNumberId}`, changes: [{ field, value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550001111', phone_number_id: phoneNumberId }, ...value } }] }],
  };
}

/** Builders of Messenger Platform webhook bodies (`object: "page"`), shaped as the recorded ones in the shared corpus. */
export const messengerWebhooks = {
  /** One body holding every entry given (several Pages). */
  batch(...bodies: { entry: unknown[] }[]): { object: string; entry: unknown[] } {
    return { object: 'page', entry: bodies.flatMap((b) => b.entry) };
  },

  /** One item from the customer `psid` to `pageId` (`message`, `postback`, `reaction`, `read`, …), in `messaging[]` or `standby[]`. */
  item(pageId: string, psid: string, fields: Record<string, unknown>, opts: { at?: Date; standby?: boolean } = {}) {
    const at = (opts.at ?? new Date()).getTime();
    return { object: 'page', entry: [{ id: pageId, time: at, [opts.standby ? 'standby' : 'messaging']: [{ sender: { id: psid }, recipient: { id: pageId }, timestamp: at, ...fields }] }] };
  },

  text(pageId: string, psid: string, m: { mid: string; text: string; at?: Date }) {
    return messengerWebhooks.item(pageId, psid, { message: { mid: m.mid, text: m.text } }, { at: m.at });
  },

  /** A message the Page sent (`is_echo`), by app `appId`, to the customer `psid`. */
  echo(pageId: string, psid: string, m: { mid: string; text: string; appId?: number; metadata?: string; at?: Date }) {
    const at = (m.at ?? new Date()).getTime();
    const message = { is_echo: true, mid: m.mid, text: m.text, ...(m.appId !== undefined ? { app_id: m.appId } : {}), ...(m.metadata ? { metadata: m.metadata } : {}) };
    return { object: 'page', entry: [{ id: pageId, time: at, messaging: [{ sender: { id: pageId }, recipient: { id: psid }, timestamp: at, message }] }] };
  },
};
