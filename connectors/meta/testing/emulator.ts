import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { metaSignature } from '../signature.js';
import { MessengerSendApi, type MessengerSent } from './messenger-send.js';

/**
 * Test support, not product code: a local Graph API for WhatsApp (and Messenger: `messenger-send.ts`,
 * the User Profile API by a Page token) on loopback, and the webhooks Meta
 * would send. It checks what the real one checks and answers as it answers: the version prefix
 * (`/v25.0/…`), the bearer token and which numbers it may act for (190 otherwise), the message shapes
 * (text, media by uploaded id, reply buttons, lists, reactions, quotes, templates, read marks) and
 * their limits (100 / 131009), media sent by link (131053), the 24-hour window from the customer's
 * last message (131047; templates pass), templates by name and language (132001), their parameters per component
 * (header text or media, body, quick-reply payloads and link suffixes: count 132000, type and format 132012), multipart media uploads and five-minute media URLs with the bearer token, scripted
 * 429s and 503s, tokens Meta stopped accepting (190: expired 463, invalidated 460) and numbers removed from their
 * business account (100/33), and a few tens of milliseconds of latency per call. Webhooks are serialised as Meta
 * does (non-ASCII as `\uXXXX`, `/` as `\/`) and signed over those bytes; they can be batched,
 * duplicated and reordered.
 */

export interface SentMessage {
  phoneNumberId: string;
  to?: string;
  recipient?: string;
  type: string;
  /** The text, a caption, an interactive body, or a template's body as the customer reads it. */
  text?: string;
  bizOpaqueCallbackData?: string;
  id: string;
  /** `context.message_id`: the message this one quotes. */
  quotes?: string;
  /** A file sent by its uploaded media id, with the bytes uploaded. */
  media?: { id: string; mimeType: string; bytes: Buffer; filename?: string };
  buttons?: { id: string; title: string }[];
  list?: { button: string; rows: { id: string; title: string; description?: string }[] };
  reaction?: { messageId: string; emoji: string };
  template?: {
    name: string;
    language: string;
    variables: string[];
    /** The header as sent: its text, or the uploaded file of a media header. */
    header?: { type: 'text'; text: string } | { type: 'image' | 'video' | 'document'; mediaId: string; mimeType: string; filename?: string };
    /** Button parameters by index: a quick reply's payload, a link's suffix. */
    buttons?: { index: number; subType: 'quick_reply' | 'url'; value: string }[];
  };
}

/** A message template of a WhatsApp Business Account. */
export interface EmulatedTemplate {
  id: string;
  name: string;
  language: string;
  status: 'APPROVED' | 'PENDING' | 'REJECTED' | 'PAUSED' | 'DISABLED';
  category: string;
  /** The BODY component's text, with `{{1}}` … placeholders. */
  body: string;
  /** The HEADER component: text (with at most one `{{1}}`) or a media type. */
  header?: { format: 'TEXT'; text: string } | { format: 'IMAGE' | 'VIDEO' | 'DOCUMENT' | 'LOCATION' };
  /** The BUTTONS component's buttons, in order (a URL with `{{1}}` takes a suffix when sent). */
  buttons?: { type: 'QUICK_REPLY' | 'URL' | 'PHONE_NUMBER' | 'COPY_CODE'; text: string; url?: string; phoneNumber?: string }[];
}

const MEDIA_MAX: Record<string, number> = { image: 5 * 1024 * 1024, video: 16 * 1024 * 1024, audio: 16 * 1024 * 1024, document: 100 * 1024 * 1024, sticker: 500 * 1024 };

export type ScriptedGraphAnswer =
  | { kind: 'rate_limit'; httpStatus?: 429 | 400; code?: number; retryAfterSeconds?: number }
  | { kind: 'server_error' }
  | { kind: 'error'; httpStatus: number; code: number; subcode?: number; message: string };

interface Number_ {
  id: string;
  displayPhoneNumber: string;
  verifiedName: string;
  tokens: Set<string>;
  wabaId?: string;
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
  /** Read marks (`status: read`) received, in order. */
  readonly readMarks: { phoneNumberId: string; messageId: string }[] = [];
  /** Media uploaded through `POST /{phone-number-id}/media`, in order. */
  readonly uploads: { phoneNumberId: string; id: string; mimeType: string; filename?: string; size: number }[] = [];
  /** Templates by WhatsApp Business Account id. */
  private readonly templatesByWaba = new Map<string, EmulatedTemplate[]>();
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
  /** Tokens Meta no longer accepts (190), with the subcode it answers: 463 expired, 460 invalidated. */
  private readonly refused = new Map<string, number>();
  /** Business numbers taken off their WhatsApp Business Account: "does not exist" (100/33) for every token. */
  private readonly removedNumbers = new Set<string>();
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
    private readonly latencyMs: [number, number],
  ) {}

  /** `latencyMs`: each Graph call answers after a random delay in this range (default 10–40 ms; [0, 0] for none). */
  static async start(opts: { versions?: string[]; now?: () => number; latencyMs?: [number, number] } = {}): Promise<GraphEmulator> {
    let emulator: GraphEmulator | undefined;
    const server = createServer((req, res) => void emulator!.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    emulator = new GraphEmulator(server, `http://127.0.0.1:${port}`, new Set(opts.versions ?? ['v24.0', 'v25.0']), opts.now ?? Date.now, opts.latencyMs ?? [10, 40]);
    server.on('connection', (s) => {
      emulator!.sockets.add(s);
      s.on('close', () => emulator!.sockets.delete(s));
    });
    return emulator;
  }

  /** A business number and the token that may act for it; `wabaId` is its WhatsApp Business Account (templates). */
  addNumber(n: { id: string; token: string; displayPhoneNumber?: string; verifiedName?: string; wabaId?: string }): void {
    const existing = this.numbers.get(n.id);
    if (existing) {
      existing.tokens.add(n.token);
      if (n.wabaId) existing.wabaId = n.wabaId;
    } else this.numbers.set(n.id, { id: n.id, displayPhoneNumber: n.displayPhoneNumber ?? '+1 555 000 0000', verifiedName: n.verifiedName ?? 'Test Business', tokens: new Set([n.token]), ...(n.wabaId ? { wabaId: n.wabaId } : {}) });
  }

  /** Meta stops accepting a token (every call with it answers 190): `expired` (subcode 463) or `revoked` (460); `restore` takes it back. */
  refuseToken(token: string, how: 'expired' | 'revoked' | 'restore' = 'revoked'): void {
    if (how === 'restore') this.refused.delete(token);
    else this.refused.set(token, how === 'expired' ? 463 : 460);
  }

  /** The business number is removed from its WhatsApp Business Account (`restore` adds it back). */
  removeNumber(id: string, restore = false): void {
    if (restore) this.removedNumbers.delete(id);
    else this.removedNumbers.add(id);
  }

  /** A message template of the business account `wabaId` (approved unless said otherwise). */
  addTemplate(wabaId: string, t: Omit<EmulatedTemplate, 'id' | 'status' | 'category'> & Partial<Pick<EmulatedTemplate, 'id' | 'status' | 'category'>>): EmulatedTemplate {
    const list = this.templatesByWaba.get(wabaId) ?? [];
    const template: EmulatedTemplate = { id: t.id ?? String(9_000_000_000 + list.length + 1 + this.templatesByWaba.size * 1000), status: t.status ?? 'APPROVED', category: t.category ?? 'UTILITY', name: t.name, language: t.language, body: t.body, ...(t.header ? { header: t.header } : {}), ...(t.buttons ? { buttons: t.buttons } : {}) };
    list.push(template);
    this.templatesByWaba.set(wabaId, list);
    return template;
  }

  /**
   * Meta reviews a template again: its status changes and, with a webhook target set, the
   * `message_template_status_update` webhook goes out signed; the hub's answer is returned.
   */
  async setTemplateStatus(wabaId: string, name: string, language: string, status: EmulatedTemplate['status'], reason = 'NONE'): Promise<number | undefined> {
    const t = this.templatesByWaba.get(wabaId)?.find((x) => x.name === name && x.language === language);
    if (!t) throw new Error(`no template ${name}/${language} in ${wabaId}`);
    t.status = status;
    if (!this.webhookTarget) return undefined;
    const answer = await postWebhook(this.webhookTarget.url, this.webhookTarget.appSecret, whatsappWebhooks.templateStatus(wabaId, { id: t.id, name, language, event: status, reason }));
    this.webhookAnswers.push(answer);
    return answer;
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

  /** The next requests to the messages and media upload endpoints get these answers, in order. */
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

  /** `GET /{waba-id}/message_templates`: a page of `limit` (default 25), filtered by `status`, with Graph's cursors. */
  private listTemplates(wabaId: string, token: string, url: URL, send: Send, fail: Fail): void {
    const mayRead = [...this.numbers.values()].some((n) => n.wabaId === wabaId && n.tokens.has(token));
    if (!mayRead) return fail(401, 190, 'Invalid OAuth access token - Cannot parse access token', { error_subcode: 463 });
    const status = url.searchParams.get('status');
    const all = (this.templatesByWaba.get(wabaId) ?? []).filter((t) => !status || t.status === status);
    const limit = Math.max(1, Math.min(Number(url.searchParams.get('limit') ?? 25) || 25, 1000));
    const afterRaw = url.searchParams.get('after');
    const start = afterRaw ? Number(Buffer.from(afterRaw, 'base64url').toString()) + 1 : 0;
    if (!Number.isInteger(start) || start < 0) return fail(400, 100, 'Invalid cursor');
    const page = all.slice(start, start + limit);
    const cursor = (i: number) => Buffer.from(String(i)).toString('base64url');
    const more = start + limit < all.length;
    const next = new URL(url);
    next.searchParams.set('after', cursor(start + page.length - 1));
    return send(200, {
      data: page.map((t) => ({ id: t.id, name: t.name, language: t.language, status: t.status, category: t.category, components: templateComponents(t) })),
      ...(page.length ? { paging: { cursors: { before: cursor(start), after: cursor(start + page.length - 1) }, ...(more ? { next: next.toString() } : {}) } } : {}),
    });
  }

  /** `POST /{phone-number-id}/media`, multipart: `messaging_product`, `type` and `file`; the media id to send by. */
  private upload(number: Number_, req: IncomingMessage, raw: Buffer, send: Send, fail: Fail): void {
    const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(req.headers['content-type'] ?? '');
    if (!boundary) return fail(400, 100, '(#100) The parameter file is required.');
    const parts = multipart(raw, boundary[1] ?? boundary[2]!);
    const field = (n: string) => parts.find((p) => p.name === n);
    if (field('messaging_product')?.data.toString() !== 'whatsapp') return fail(400, 100, '(#100) The parameter messaging_product is required.');
    const file = field('file');
    if (!file || !file.data.length) return fail(400, 100, '(#100) The parameter file is required.');
    const mimeType = field('type')?.data.toString() || file.contentType || '';
    if (!mimeType) return fail(400, 100, '(#100) Param type is required.');
    const kind = mediaKind(mimeType);
    if (file.data.length > MEDIA_MAX[kind]!) return fail(400, 131052, `(#131052) Media upload error: ${kind} files are limited to ${MEDIA_MAX[kind]} bytes`);
    const id = `MEDIAUP${String(++this.seq).padStart(6, '0')}`;
    this.media.set(id, { bytes: file.data, mimeType, numberId: number.id, corrupt: false });
    this.uploads.push({ phoneNumberId: number.id, id, mimeType, ...(file.filename ? { filename: file.filename } : {}), size: file.data.length });
    return send(200, { id });
  }

  /** `POST /{phone-number-id}/messages`: a read mark, or one message of any type we send, checked as Graph checks it. */
  private async whatsappMessage(number: Number_, body: Record<string, unknown>, send: Send, fail: Fail): Promise<void> {
    if (body.messaging_product !== 'whatsapp') return fail(400, 100, '(#100) The parameter messaging_product is required.');
    if (body.status === 'read') {
      if (typeof body.message_id !== 'string' || !body.message_id) return fail(400, 100, '(#100) The parameter message_id is required.');
      this.readMarks.push({ phoneNumberId: number.id, messageId: body.message_id });
      return send(200, { success: true });
    }
    const to = typeof body.to === 'string' ? body.to : undefined;
    const recipient = typeof body.recipient === 'string' ? body.recipient : undefined;
    if (!to && !recipient) return fail(400, 100, '(#100) The parameter to is required.');
    const invalid = (what: string) => fail(400, 131009, `(#131009) Parameter value is not valid: ${what}`);
    const len = (v: unknown) => (typeof v === 'string' ? [...v].length : -1);
    const sent: Omit<SentMessage, 'id'> = { phoneNumberId: number.id, type: String(body.type), ...(to ? { to } : {}), ...(recipient ? { recipient } : {}) };
    const context = body.context as { message_id?: unknown } | undefined;
    if (context !== undefined) {
      if (typeof context?.message_id !== 'string' || !context.message_id) return fail(400, 100, "(#100) The parameter context['message_id'] is required.");
      sent.quotes = context.message_id;
    }
    switch (body.type) {
      case 'text': {
        const text = (body.text as { body?: unknown } | undefined)?.body;
        if (typeof text !== 'string' || !text) return fail(400, 100, "(#100) The parameter text['body'] is required.");
        if (len(text) > MAX_TEXT) return fail(400, 100, `(#100) Param text['body'] must be at most ${MAX_TEXT} characters long.`);
        sent.text = text;
        break;
      }
      case 'image': case 'video': case 'audio': case 'document': case 'sticker': {
        const m = body[body.type] as { id?: unknown; link?: unknown; caption?: unknown; filename?: unknown } | undefined;
        if (m?.link !== undefined) return fail(400, 131053, '(#131053) Media upload error', { error_data: { messaging_product: 'whatsapp', details: 'Sending media by link is not accepted here: upload it and send its id.' } });
        const file = typeof m?.id === 'string' ? this.media.get(m.id) : undefined;
        if (!file || file.numberId !== number.id) return fail(400, 131053, '(#131053) Media upload error', { error_data: { messaging_product: 'whatsapp', details: `Media id ${String(m?.id)} is not a media of this number.` } });
        if (m!.caption !== undefined && (body.type === 'audio' || body.type === 'sticker')) return fail(400, 100, `(#100) Param ${body.type}['caption'] is not supported`);
        if (m!.caption !== undefined && (len(m!.caption) < 1 || len(m!.caption) > 1024)) return fail(400, 100, `(#100) Param ${body.type}['caption'] must be at most 1024 characters long.`);
        sent.media = { id: m!.id as string, mimeType: file.mimeType, bytes: file.bytes, ...(typeof m!.filename === 'string' ? { filename: m!.filename } : {}) };
        if (typeof m!.caption === 'string') sent.text = m!.caption;
        break;
      }
      case 'interactive': {
        const i = body.interactive as { type?: unknown; body?: { text?: unknown }; action?: { buttons?: { type?: unknown; reply?: { id?: unknown; title?: unknown } }[]; button?: unknown; sections?: { title?: unknown; rows?: { id?: unknown; title?: unknown; description?: unknown }[] }[] } } | undefined;
        const text = i?.body?.text;
        if (typeof text !== 'string' || !text) return fail(400, 100, "(#100) The parameter interactive['body']['text'] is required.");
        if (i?.type === 'button') {
          const buttons = i.action?.buttons;
          if (!Array.isArray(buttons) || buttons.length < 1 || buttons.length > 3) return invalid('buttons: 1 to 3');
          if (len(text) > 1024) return invalid('body text: at most 1024 characters');
          for (const b of buttons) if (b?.type !== 'reply' || len(b.reply?.id) < 1 || len(b.reply?.title) < 1 || len(b.reply?.title) > 20) return invalid('button title: 1 to 20 characters');
          sent.buttons = buttons.map((b) => ({ id: b.reply!.id as string, title: b.reply!.title as string }));
        } else if (i?.type === 'list') {
          const sections = i.action?.sections;
          if (len(i.action?.button) < 1 || len(i.action?.button) > 20) return invalid('list button: 1 to 20 characters');
          if (!Array.isArray(sections) || sections.length < 1 || sections.length > 10) return invalid('sections: 1 to 10');
          const rows = sections.flatMap((x) => (Array.isArray(x?.rows) ? x.rows : []));
          if (rows.length < 1 || rows.length > 10) return invalid('rows: 1 to 10 in all');
          for (const r of rows) {
            if (len(r?.id) < 1 || len(r?.title) < 1 || len(r?.title) > 24) return invalid('row title: 1 to 24 characters');
            if (r.description !== undefined && len(r.description) > 72) return invalid('row description: at most 72 characters');
          }
          sent.list = { button: i.action!.button as string, rows: rows.map((r) => ({ id: r.id as string, title: r.title as string, ...(typeof r.description === 'string' ? { description: r.description } : {}) })) };
        } else return fail(400, 100, `(#100) Param interactive['type'] "${String(i?.type)}" is not supported by this emulator`);
        sent.text = text;
        break;
      }
      case 'reaction': {
        const r = body.reaction as { message_id?: unknown; emoji?: unknown } | undefined;
        if (typeof r?.message_id !== 'string' || !r.message_id || typeof r.emoji !== 'string') return fail(400, 100, "(#100) The parameters reaction['message_id'] and reaction['emoji'] are required.");
        sent.reaction = { messageId: r.message_id, emoji: r.emoji };
        break;
      }
      case 'template': {
        const t = body.template as { name?: unknown; language?: { code?: unknown }; components?: TemplateComponentParam[] } | undefined;
        if (typeof t?.name !== 'string' || typeof t.language?.code !== 'string') return fail(400, 100, "(#100) The parameters template['name'] and template['language']['code'] are required.");
        const template = number.wabaId ? this.templatesByWaba.get(number.wabaId)?.find((x) => x.name === t.name && x.language === t.language!.code) : undefined;
        if (!template || template.status !== 'APPROVED') return fail(404, 132001, '(#132001) Template name does not exist in the translation', { error_data: { messaging_product: 'whatsapp', details: `template name (${t.name}) does not exist in ${t.language.code}` } });
        const checked = this.checkTemplateParams(number, template, Array.isArray(t.components) ? t.components : []);
        if ('error' in checked) return send(400, { error: { message: `(#${checked.error.code}) ${checked.error.title}`, type: 'OAuthException', code: checked.error.code, error_data: { messaging_product: 'whatsapp', details: checked.error.details } } });
        sent.template = { name: template.name, language: template.language, variables: checked.variables, ...(checked.header ? { header: checked.header } : {}), ...(checked.buttons.length ? { buttons: checked.buttons } : {}) };
        if (checked.header && checked.header.type !== 'text') sent.media = { id: checked.header.mediaId, mimeType: checked.header.mimeType, bytes: this.media.get(checked.header.mediaId)!.bytes, ...(checked.header.filename ? { filename: checked.header.filename } : {}) };
        const headerText = template.header?.format === 'TEXT' ? fill(template.header.text, checked.header?.type === 'text' ? [checked.header.text] : []) : undefined;
        sent.text = `${headerText ? `${headerText}\n\n` : ''}${fill(template.body, checked.variables)}`;
        break;
      }
      default:
        return fail(400, 100, `(#100) Param type "${String(body.type)}" is not supported by this emulator`);
    }
    // Only a template may open a conversation: anything else needs the customer's last message within 24 hours.
    const last = this.lastInbound.get(`${number.id}|${to ?? recipient}`);
    if (body.type !== 'template' && (last === undefined || this.now() - last > WINDOW_MS))
      return send(400, { error: { message: '(#131047) Re-engagement message', type: 'OAuthException', code: 131047, error_data: { messaging_product: 'whatsapp', details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.' } } });
    const id = `wamid.EMU${String(++this.seq).padStart(6, '0')}${randomBytes(6).toString('hex').toUpperCase()}`;
    const accepted: SentMessage = { ...sent, id };
    if (typeof body.biz_opaque_callback_data === 'string') accepted.bizOpaqueCallbackData = body.biz_opaque_callback_data;
    this.inbox.push(accepted);
    await this.onMessage?.(accepted);
    // A hub that went away meanwhile answers nothing: counted as 0.
    if (this.webhookTarget) setImmediate(() => void this.sendStatuses(accepted).catch(() => this.webhookAnswers.push(0)));
    return send(200, { messaging_product: 'whatsapp', contacts: [{ input: to ?? recipient, ...(to ? { wa_id: to } : { user_id: recipient }) }], messages: [{ id, ...(body.type === 'template' ? { message_status: 'accepted' } : {}) }] });
  }

  /**
   * A template's parameters against its components, as Graph checks them: each component's parameter
   * count (132000: a text header's one variable, a media header's file, the body's variables, a dynamic
   * link's suffix), their types and formats (132012: text where the header is an image, an image file
   * that is not JPEG/PNG, a button sub_type that is not the button's), and variable text (132018).
   */
  private checkTemplateParams(number: Number_, template: EmulatedTemplate, components: TemplateComponentParam[]):
    | { error: { code: number; title: string; details: string } }
    | { variables: string[]; header?: NonNullable<SentMessage['template']>['header']; buttons: NonNullable<NonNullable<SentMessage['template']>['buttons']> } {
    const count = (where: string, given: number, expected: number) => ({ error: { code: 132000, title: 'Number of parameters does not match the expected number of params', details: `${where}: number of localizable_params (${given}) does not match the expected number of params (${expected})` } });
    const format = (details: string) => ({ error: { code: 132012, title: 'Parameter format does not match format in the created template', details } });
    const badText = (v: unknown) => typeof v !== 'string' || !v.trim() || /[\n\t]/.test(v) || / {5,}/.test(v);
    const params = (type: string) => components.filter((c) => c?.type === type).flatMap((c) => (Array.isArray(c.parameters) ? c.parameters : []));

    const headerParams = params('header');
    const h = template.header;
    const expectedHeader = !h ? 0 : h.format === 'TEXT' ? placeholders(h.text).length : 1;
    if (headerParams.length !== expectedHeader) return count('header', headerParams.length, expectedHeader);
    let header: NonNullable<SentMessage['template']>['header'];
    if (h && expectedHeader) {
      const p = headerParams[0]!;
      if (h.format === 'TEXT') {
        if (p.type !== 'text') return format(`header: parameter type ${String(p.type)} does not match the template's text header`);
        if (badText(p.text) || [...String(p.text)].length > 60) return { error: { code: 132018, title: 'There was an issue with the parameters in your template.', details: 'header: the text parameter is empty, has a newline or tab, or is longer than 60 characters' } };
        header = { type: 'text', text: p.text as string };
      } else {
        const want = h.format.toLowerCase();
        if (p.type !== want) return format(`header: parameter type ${String(p.type)} does not match the template's ${want} header`);
        const m = p[want] as { id?: unknown; link?: unknown; filename?: unknown } | undefined;
        if (m?.link !== undefined) return { error: { code: 131053, title: 'Media upload error', details: 'Sending media by link is not accepted here: upload it and send its id.' } };
        const file = typeof m?.id === 'string' ? this.media.get(m.id) : undefined;
        if (!file || file.numberId !== number.id) return { error: { code: 131053, title: 'Media upload error', details: `Media id ${String(m?.id)} is not a media of this number.` } };
        const okType = want === 'image' ? /^image\/(jpeg|png)$/.test(file.mimeType) : want === 'video' ? /^video\/(mp4|3gpp)$/.test(file.mimeType) : true;
        if (!okType) return format(`header: a ${file.mimeType} file is not ${want === 'image' ? 'an image (JPEG or PNG)' : 'a video (MP4 or 3GPP)'}`);
        header = { type: want as 'image' | 'video' | 'document', mediaId: m!.id as string, mimeType: file.mimeType, ...(typeof m!.filename === 'string' ? { filename: m!.filename } : {}) };
      }
    }

    const bodyParams = params('body');
    const expectedBody = placeholders(template.body).length;
    if (bodyParams.length !== expectedBody) return count('body', bodyParams.length, expectedBody);
    if (bodyParams.some((p) => p.type !== 'text')) return format('body: only text parameters are emulated');
    const variables = bodyParams.map((p) => (typeof p.text === 'string' ? p.text : ''));
    if (variables.some(badText)) return { error: { code: 132018, title: 'There was an issue with the parameters in your template.', details: 'body: a parameter is empty, has a newline or tab, or more than four spaces in a row' } };

    const defs = template.buttons ?? [];
    const buttons: NonNullable<NonNullable<SentMessage['template']>['buttons']> = [];
    for (const c of components.filter((x) => x?.type === 'button')) {
      const index = Number(c.index);
      const def = Number.isInteger(index) ? defs[index] : undefined;
      if (!def) return { error: { code: 131009, title: 'Parameter value is not valid', details: `button index ${String(c.index)}: the template has ${defs.length} buttons` } };
      const subType = c.sub_type;
      if ((subType === 'quick_reply' && def.type !== 'QUICK_REPLY') || (subType === 'url' && def.type !== 'URL') || (subType !== 'quick_reply' && subType !== 'url'))
        return format(`button ${index}: sub_type ${String(subType)} does not match the template's ${def.type} button`);
      const ps = Array.isArray(c.parameters) ? c.parameters : [];
      const expected = subType === 'url' ? placeholders(def.url ?? '').length : 1;
      if (ps.length !== expected) return count(`button ${index}`, ps.length, expected);
      const p = ps[0]!;
      if (subType === 'quick_reply') {
        if (p.type !== 'payload' || typeof p.payload !== 'string' || !p.payload) return format(`button ${index}: a quick reply takes one payload parameter`);
        buttons.push({ index, subType, value: p.payload });
      } else {
        if (p.type !== 'text' || badText(p.text)) return format(`button ${index}: a link takes one text parameter, its URL suffix`);
        buttons.push({ index, subType: 'url', value: p.text as string });
      }
    }
    for (const [index, def] of defs.entries())
      if (def.type === 'URL' && placeholders(def.url ?? '').length && !buttons.some((b) => b.index === index)) return count(`button ${index}`, 0, 1);
    return { variables, ...(header ? { header } : {}), buttons };
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

    const [min, max] = this.latencyMs;
    if (max > 0) await new Promise((r) => setTimeout(r, min + Math.random() * (max - min)));
    const [version, ...rest] = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (version === 'media-download') {
      await this.gate;
      return this.download(req, res, rest[0] ?? '', Number(url.searchParams.get('exp')));
    }
    if (!version || !this.versions.has(version)) return fail(400, 2500, `Unknown path components: /${version ?? ''}`);
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token) return fail(400, 2500, 'An active access token must be used to query information about the current user.');
    const refusedAs = this.refused.get(token);
    if (refusedAs === 463) return fail(401, 190, 'Error validating access token: Session has expired.', { error_subcode: 463 });
    if (refusedAs) return fail(401, 190, 'Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.', { error_subcode: 460 });
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
    if (rest[1] === 'message_templates' && rest.length === 2 && req.method === 'GET') return this.listTemplates(rest[0]!, token, url, send, fail);
    // The User Profile API: a customer's PSID read with its Page's token (any other token is refused below, 190).
    const profilePage = this.pages.get(token);
    if (profilePage && req.method === 'GET' && rest.length === 1) {
      const answer = this.messenger.profile(profilePage, rest[0]!, url.searchParams.get('fields'));
      return send(answer.status, answer.body);
    }
    if (this.removedNumbers.has(rest[0] ?? ''))
      return fail(400, 100, `Unsupported ${(req.method ?? 'get').toLowerCase()} request. Object with ID '${rest[0]}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`, { error_subcode: 33 });
    const number = this.numbers.get(rest[0] ?? '');
    if (!number || !number.tokens.has(token)) return fail(401, 190, 'Invalid OAuth access token - Cannot parse access token', { error_subcode: 463 });

    if (req.method === 'GET' && rest.length === 1) {
      return send(200, { id: number.id, display_phone_number: number.displayPhoneNumber, verified_name: number.verifiedName });
    }
    if (req.method === 'POST' && rest.length === 2 && (rest[1] === 'messages' || rest[1] === 'media')) {
      let body: Record<string, unknown> = {};
      if (rest[1] === 'messages') {
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        } catch {
          return fail(400, 100, 'Invalid parameter');
        }
        // Read marks are not messages: scripted answers are for sends and uploads.
        if (body.status === 'read') return this.whatsappMessage(number, body, send, fail);
      }
      const scripted = this.script.shift();
      if (scripted?.kind === 'rate_limit')
        return send(scripted.httpStatus ?? 429, { error: { message: '(#130429) Rate limit hit', type: 'OAuthException', code: scripted.code ?? 130429, error_data: { messaging_product: 'whatsapp', details: 'Cloud API message throughput has been reached.' } } }, scripted.retryAfterSeconds ? { 'retry-after': String(scripted.retryAfterSeconds) } : {});
      if (scripted?.kind === 'server_error') return fail(503, 1, 'An unknown error occurred');
      if (scripted?.kind === 'error') return fail(scripted.httpStatus, scripted.code, scripted.message, scripted.subcode ? { error_subcode: scripted.subcode } : {});
      if (rest[1] === 'media') return this.upload(number, req, Buffer.concat(chunks), send, fail);
      return this.whatsappMessage(number, body, send, fail);
    }
    return fail(400, 100, `Unsupported ${req.method} request: /${rest.join('/')}`);
  }
}

type TemplateComponentParam = { type?: unknown; sub_type?: unknown; index?: unknown; parameters?: ({ type?: unknown; text?: unknown; payload?: unknown } & Record<string, unknown>)[] };

/** The distinct `{{1}}`, `{{name}}` placeholders of a template text, in order. */
function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g)].map((m) => m[1]!))];
}

/** A template text with its placeholders filled in order. */
function fill(text: string, values: string[]): string {
  const order = placeholders(text);
  return text.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (_, k: string) => values[order.indexOf(k)] ?? `{{${k}}}`);
}

/** A template's components as `GET /{waba-id}/message_templates` lists them. */
function templateComponents(t: EmulatedTemplate): Record<string, unknown>[] {
  return [
    ...(t.header ? [{ type: 'HEADER', format: t.header.format, ...('text' in t.header ? { text: t.header.text } : {}) }] : []),
    { type: 'BODY', text: t.body },
    ...(t.buttons?.length ? [{ type: 'BUTTONS', buttons: t.buttons.map((b) => ({ type: b.type, text: b.text, ...(b.url ? { url: b.url } : {}), ...(b.phoneNumber ? { phone_number: b.phoneNumber } : {}) })) }] : []),
  ];
}

type Send = (status: number, body: unknown, headers?: Record<string, string>) => void;
type Fail = (status: number, code: number, message: string, extra?: Record<string, unknown>) => void;

function mediaKind(mimeType: string): string {
  const m = mimeType.toLowerCase();
  if (m === 'image/webp') return 'sticker';
  if (m.startsWith('image/')) return 'image';
  if (m.startsWith('video/')) return 'video';
  if (m.startsWith('audio/')) return 'audio';
  return 'document';
}

/** The parts of a multipart/form-data body (enough of RFC 7578 for what fetch's FormData writes). */
function multipart(raw: Buffer, boundary: string): { name?: string; filename?: string; contentType?: string; data: Buffer }[] {
  const out: { name?: string; filename?: string; contentType?: string; data: Buffer }[] = [];
  const delimiter = Buffer.from(`--${boundary}`);
  let at = raw.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (raw.subarray(start, start + 2).toString() === '--') break;
    const next = raw.indexOf(delimiter, start);
    if (next < 0) break;
    const part = raw.subarray(start + 2, next - 2); // after CRLF, before the CRLF that precedes the delimiter
    const split = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, split).toString('utf8');
    const disposition = /content-disposition:([^\r\n]*)/i.exec(head)?.[1] ?? '';
    out.push({
      ...(/\bname="([^"]*)"/.exec(disposition) ? { name: /\bname="([^"]*)"/.exec(disposition)![1] } : {}),
      ...(/filename="([^"]*)"/.exec(disposition) ? { filename: /filename="([^"]*)"/.exec(disposition)![1] } : {}),
      ...(/content-type:\s*([^\r\n]*)/i.exec(head) ? { contentType: /content-type:\s*([^\r\n]*)/i.exec(head)![1]!.trim() } : {}),
      data: part.subarray(split + 4),
    });
    at = next;
  }
  return out;
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
  // One connection per webhook, closed after it (as Meta's senders do): no keep-alive socket holds the hub's server open.
  return new Promise<number>((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', agent: false, headers: { ...headers, connection: 'close', 'content-length': String(payload.length) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
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

  /**
   * `smb_message_echoes`: a message the business sent from the WhatsApp Business app on the same number
   * (coexistence). `from` is the business, `to`/`to_user_id` the customer.
   */
  businessAppEcho(phoneNumberId: string, customer: Customer, m: { id: string; body: string; at?: Date }) {
    return change(phoneNumberId, 'smb_message_echoes', {
      message_echoes: [{ from: '15550001111', ...(customer.waId ? { to: customer.waId } : {}), ...(customer.userId ? { to_user_id: customer.userId } : {}), id: m.id, timestamp: seconds(m.at), type: 'text', text: { body: m.body } }],
    });
  },

  /** `message_template_status_update`: Meta's review of a template changed (entry id = the business account). */
  templateStatus(wabaId: string, t: { id: string; name: string; language: string; event: string; reason?: string }) {
    return {
      object: 'whatsapp_business_account',
      entry: [{ id: wabaId, time: Math.floor(Date.now() / 1000), changes: [{ field: 'message_template_status_update', value: { event: t.event, message_template_id: Number(t.id), message_template_name: t.name, message_template_language: t.language, reason: t.reason ?? 'NONE' } }] }],
    };
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
