import { randomBytes } from 'node:crypto';
import { postWebhook } from './emulator.js';

/**
 * Test support: the Messenger half of the local Graph API (`/me/…` with a Page token). It refuses what
 * the Send API refuses: a message with both text and a file or neither, text over 2,000, a reply outside
 * the window for its type (10 / 2018278), an attachment id the Page never uploaded, a send while another
 * app owns the thread (handover protocol), an upload over 25 MB or of an unknown type. Thread control
 * changes are announced as Meta does: a signed `messaging_handovers` webhook to the app's URL; accepted
 * messages are followed by their echo, delivery and read webhooks when a test asks for them.
 */

export interface MessengerSent {
  pageId: string;
  psid: string;
  messagingType: string;
  tag?: string;
  text?: string;
  attachment?: { type: string; name: string; mimeType: string; size: number };
  metadata?: string;
  id: string;
}

interface Page {
  id: string;
  name: string;
  /** The app the Page token belongs to: ours, in tests. */
  appId: string;
}

type Answer = { status: number; body: unknown };

const WINDOW_MS = 24 * 3600_000;
const MAX_TEXT = 2000;
const MAX_FILE = 25 * 1024 * 1024;
const TYPES = new Set(['image', 'video', 'audio', 'file']);
const PAGE_INBOX = '263902037430900';

export class MessengerSendApi {
  /** Every message the Send API accepted, in order. */
  readonly inbox: MessengerSent[] = [];
  /** Thread control calls accepted: take / pass, with the app it went to. */
  readonly controlCalls: { kind: 'take' | 'pass'; pageId: string; psid: string; toAppId: string }[] = [];
  /** `${pageId}|${psid}` → the app that owns the thread; absent = our app (the primary receiver). */
  private readonly owners = new Map<string, string>();
  private readonly uploads = new Map<string, { pageId: string; type: string; name: string; mimeType: string; size: number }>();
  private seq = 0;
  /** User Profile API lookups answered (`GET /{psid}`), including refusals and scripted failures. */
  readonly profileLookups: { pageId: string; psid: string; fields: string[]; status: number }[] = [];
  /** `${pageId}|${psid}` → the customer's public profile (a PSID is scoped to its Page). */
  private readonly profiles = new Map<string, { first_name?: string; last_name?: string; name?: string; profile_pic?: string }>();
  private failProfiles = 0;
  /**
   * Where this app's Messenger webhooks go, signed with the app secret: handover notices, and after each
   * message the Send API accepts the `receipts` named, in that order (the Page's echo of it with our app id
   * and metadata, the customer's delivery and read watermarks; repeated or reordered as a test likes).
   */
  webhookTarget?: { url: string; appSecret: string; receipts?: ('echo' | 'delivery' | 'read')[] };
  readonly webhookAnswers: number[] = [];

  constructor(
    private readonly lastInbound: (pageId: string, psid: string) => number | undefined,
    private readonly now: () => number,
  ) {}

  /** Another app (the Page inbox by default) owns the customer's thread, as after the Page inbox took it. */
  giveThreadTo(pageId: string, psid: string, appId = PAGE_INBOX): void {
    this.owners.set(`${pageId}|${psid}`, appId);
  }

  ownerOf(page: Page, psid: string): string {
    return this.owners.get(`${page.id}|${psid}`) ?? page.appId;
  }

  /** A customer of `pageId` whose profile the User Profile API gives (a name left out: the person did not share it). */
  addProfile(pageId: string, psid: string, p: { firstName?: string; lastName?: string; profilePic?: string }): void {
    const name = [p.firstName, p.lastName].filter(Boolean).join(' ');
    this.profiles.set(`${pageId}|${psid}`, {
      ...(p.firstName ? { first_name: p.firstName } : {}), ...(p.lastName ? { last_name: p.lastName } : {}), ...(name ? { name } : {}),
      profile_pic: p.profilePic ?? `https://platform-lookaside.fbsbx.com/platform/profilepic/?psid=${psid}`,
    });
  }

  /** The next `n` profile lookups answer 503 (Meta's transient error). */
  failNextProfiles(n: number): void {
    this.failProfiles += n;
  }

  /**
   * `GET /{psid}?fields=…` with the Page token: the fields asked for (first_name, last_name, profile_pic by
   * default). A PSID of another Page or none at all is what Graph says of any id it will not show (100 / 33).
   */
  profile(page: Page, psid: string, fieldsParam: string | null): Answer {
    const fields = (fieldsParam ?? 'first_name,last_name,profile_pic').split(',').map((f) => f.trim()).filter(Boolean);
    const answer = (a: Answer) => {
      this.profileLookups.push({ pageId: page.id, psid, fields, status: a.status });
      return a;
    };
    if (this.failProfiles > 0) {
      this.failProfiles--;
      return answer(fail(503, 2, 'An unexpected error has occurred. Please retry your request later.', { is_transient: true }));
    }
    const known = this.profiles.get(`${page.id}|${psid}`);
    if (!known) return answer(fail(400, 100, `Unsupported get request. Object with ID '${psid}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`, { error_subcode: 33 }));
    const allowed = new Set(['id', 'name', 'first_name', 'last_name', 'profile_pic', 'locale', 'timezone', 'gender']);
    const unknown = fields.find((f) => !allowed.has(f));
    if (unknown) return answer(fail(400, 100, `(#100) Tried accessing nonexisting field (${unknown}) on node type (User)`));
    const body: Record<string, unknown> = { id: psid };
    for (const f of fields) if (f !== 'id' && known[f as keyof typeof known] !== undefined) body[f] = known[f as keyof typeof known];
    return answer({ status: 200, body });
  }

  async handle(page: Page, method: string, path: string[], req: Request): Promise<Answer> {
    if (method === 'POST' && path.length === 1 && path[0] === 'messages') return this.send(page, await json(req));
    if (method === 'POST' && path.length === 1 && path[0] === 'message_attachments') return this.upload(page, req);
    if (method === 'POST' && path.length === 1 && (path[0] === 'take_thread_control' || path[0] === 'pass_thread_control')) return this.control(page, path[0], await json(req));
    return fail(400, 100, `Unsupported ${method} request: /me/${path.join('/')}`);
  }

  private send(page: Page, body: Record<string, unknown> | undefined): Answer {
    if (!body) return fail(400, 100, 'Invalid parameter');
    const recipient = body.recipient as { id?: unknown } | undefined;
    const psid = typeof recipient?.id === 'string' ? recipient.id : undefined;
    if (!psid) return fail(400, 100, '(#100) The parameter recipient is required');
    const message = (body.message ?? {}) as { text?: unknown; attachment?: { type?: unknown; payload?: { attachment_id?: unknown } }; metadata?: unknown };
    const text = message.text;
    const attachment = message.attachment;
    if (text !== undefined && attachment !== undefined) return fail(400, 100, '(#100) Only one of the parameters message[text] and message[attachment] can be specified');
    if (attachment === undefined && (typeof text !== 'string' || !text)) return fail(400, 100, '(#100) The parameter message[text] is required');
    if (typeof text === 'string' && [...text].length > MAX_TEXT) return fail(400, 100, `(#100) Length of param message[text] must be less than or equal to ${MAX_TEXT}`);
    let file: MessengerSent['attachment'];
    if (attachment !== undefined) {
      const id = attachment.payload?.attachment_id;
      const up = typeof id === 'string' ? this.uploads.get(id) : undefined;
      if (!up || up.pageId !== page.id) return fail(400, 100, '(#100) Invalid attachment_id');
      if (attachment.type !== up.type) return fail(400, 100, `(#100) The attachment type "${String(attachment.type)}" does not match the uploaded ${up.type}`);
      file = { type: up.type, name: up.name, mimeType: up.mimeType, size: up.size };
    }
    const last = this.lastInbound(page.id, psid);
    const age = last === undefined ? Infinity : this.now() - last;
    const allowed = body.messaging_type === 'RESPONSE' ? age <= WINDOW_MS : body.messaging_type === 'MESSAGE_TAG' && body.tag === 'HUMAN_AGENT' ? age <= 7 * WINDOW_MS : false;
    if (!allowed) return fail(400, 10, '(#10) This message is sent outside of allowed window.', { error_subcode: 2018278 });
    if (this.ownerOf(page, psid) !== page.appId) return fail(400, 10, '(#10) This app is not the thread owner: take thread control before sending.');
    const id = `m_EMU${String(++this.seq).padStart(6, '0')}${randomBytes(6).toString('hex')}`;
    const accepted: MessengerSent = {
      pageId: page.id, psid, messagingType: String(body.messaging_type), ...(typeof body.tag === 'string' ? { tag: body.tag } : {}),
      ...(typeof text === 'string' ? { text } : {}), ...(file ? { attachment: file } : {}), ...(typeof message.metadata === 'string' ? { metadata: message.metadata } : {}), id,
    };
    this.inbox.push(accepted);
    const receipts = this.webhookTarget?.receipts;
    if (receipts?.length) setImmediate(() => void this.sendReceipts(page, accepted, receipts));
    return { status: 200, body: { recipient_id: psid, message_id: id } };
  }

  private async upload(page: Page, req: Request): Promise<Answer> {
    let form: FormData;
    try {
      form = await req.formData();
    } catch {
      return fail(400, 100, '(#100) Upload attachment failure: the request is not multipart/form-data');
    }
    let spec: { attachment?: { type?: unknown } };
    try {
      spec = JSON.parse(String(form.get('message') ?? '')) as typeof spec;
    } catch {
      return fail(400, 100, '(#100) The parameter message is required');
    }
    const type = spec.attachment?.type;
    if (typeof type !== 'string' || !TYPES.has(type)) return fail(400, 100, `(#100) Param message[attachment][type] must be one of {image, audio, video, file}`);
    const data = form.get('filedata');
    if (!(data instanceof Blob)) return fail(400, 100, '(#100) Upload attachment failure: filedata is required');
    if (data.size === 0) return fail(400, 100, '(#100) Upload attachment failure: the file is empty');
    if (data.size > MAX_FILE) return fail(400, 100, '(#100) Upload attachment failure: the file is larger than 25 MB');
    const id = String(1_000_000_000_000 + ++this.seq);
    this.uploads.set(id, { pageId: page.id, type, name: data instanceof File ? data.name : 'file', mimeType: data.type || 'application/octet-stream', size: data.size });
    return { status: 200, body: { attachment_id: id } };
  }

  private async control(page: Page, kind: 'take_thread_control' | 'pass_thread_control', body: Record<string, unknown> | undefined): Promise<Answer> {
    const psid = typeof (body?.recipient as { id?: unknown } | undefined)?.id === 'string' ? ((body!.recipient as { id: string }).id) : undefined;
    if (!psid) return fail(400, 100, '(#100) The parameter recipient is required');
    const previous = this.ownerOf(page, psid);
    const metadata = typeof body!.metadata === 'string' ? body!.metadata : undefined;
    if (kind === 'take_thread_control') {
      // Our app is the Page's primary receiver: it may always take the thread.
      this.owners.delete(`${page.id}|${psid}`);
      this.controlCalls.push({ kind: 'take', pageId: page.id, psid, toAppId: page.appId });
      await this.notify(page, psid, { take_thread_control: { previous_owner_app_id: previous, new_owner_app_id: page.appId, ...(metadata ? { metadata } : {}) } });
      return { status: 200, body: { success: true } };
    }
    if (previous !== page.appId) return fail(400, 10, '(#10) Only the thread owner can pass thread control');
    const target = typeof body!.target_app_id === 'string' || typeof body!.target_app_id === 'number' ? String(body!.target_app_id) : undefined;
    if (!target) return fail(400, 100, '(#100) The parameter target_app_id is required');
    if (target === page.appId) return fail(400, 100, '(#100) Cannot pass thread control to the app that owns it');
    this.owners.set(`${page.id}|${psid}`, target);
    this.controlCalls.push({ kind: 'pass', pageId: page.id, psid, toAppId: target });
    return { status: 200, body: { success: true } };
  }

  /** What Meta sends after a message reaches the customer: one webhook each, one after the other (a hub gone away counts 0). */
  private async sendReceipts(page: Page, sent: MessengerSent, receipts: ('echo' | 'delivery' | 'read')[]): Promise<void> {
    const target = this.webhookTarget;
    if (!target) return;
    for (const kind of receipts) {
      const at = this.now();
      const fields =
        kind === 'echo'
          ? {
              sender: { id: page.id }, recipient: { id: sent.psid }, timestamp: at,
              message: {
                is_echo: true, app_id: Number(page.appId), mid: sent.id, ...(sent.metadata ? { metadata: sent.metadata } : {}),
                ...(sent.text !== undefined ? { text: sent.text } : { attachments: [{ type: sent.attachment!.type, payload: { url: `https://scontent.xx.fbcdn.net/emulated/${sent.id}` } }] }),
              },
            }
          : { sender: { id: sent.psid }, recipient: { id: page.id }, timestamp: at, ...(kind === 'delivery' ? { delivery: { mids: [sent.id], watermark: at } } : { read: { watermark: at } }) };
      const body = { object: 'page', entry: [{ id: page.id, time: at, messaging: [fields] }] };
      this.webhookAnswers.push(await postWebhook(target.url, target.appSecret, body).catch(() => 0));
    }
  }

  /** Apps subscribed to `messaging_handovers` hear of the change, as Meta tells them. */
  private async notify(page: Page, psid: string, fields: Record<string, unknown>): Promise<void> {
    const target = this.webhookTarget;
    if (!target) return;
    const at = this.now();
    const body = { object: 'page', entry: [{ id: page.id, time: at, messaging: [{ sender: { id: psid }, recipient: { id: page.id }, timestamp: at, ...fields }] }] };
    setImmediate(() => void postWebhook(target.url, target.appSecret, body).then((s) => this.webhookAnswers.push(s)));
  }
}

function fail(status: number, code: number, message: string, extra: Record<string, unknown> = {}): Answer {
  return { status, body: { error: { message, type: 'OAuthException', code, ...extra, fbtrace_id: `A${randomBytes(8).toString('hex')}` } } };
}

async function json(req: Request): Promise<Record<string, unknown> | undefined> {
  try {
    const v = (await req.json()) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
