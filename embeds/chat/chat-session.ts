/** A message as the visitor sees it (GET /webchat/:widgetId/messages). */
export interface PublicMessage {
  id: string;
  direction: 'inbound' | 'outbound';
  authorName: string | null;
  text: string;
  sentAt: string;
  deliveryStatus: string | null;
  attachments?: PublicAttachment[];
}

/** A file on a message; `url` is a signed download path on the hub. */
export interface PublicAttachment {
  id: string;
  kind: string;
  name: string | null;
  mimeType: string | null;
  size: number | null;
  url: string;
}

/** A file uploaded to the hub and waiting for the message that sends it. */
export interface StagedFile {
  id: string;
  name: string;
  mimeType: string;
  size: number;
}

/** An upload the hub refused; `code` is its stable error code (upload_too_large, upload_type_not_allowed, …). */
export class UploadError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

/** A message the visitor typed that the hub has not confirmed yet; kept in localStorage until it has. */
export interface OutboxEntry {
  clientMessageId: string;
  text: string;
  /** Uploaded before sending; only ids and names, so the entry survives a reload. */
  files?: StagedFile[];
  createdAt: string;
  state: 'queued' | 'sending' | 'failed';
  /** Set when the hub's stream showed this message before the send call returned. */
  messageId?: string;
}

export type ConnectionState = 'idle' | 'connecting' | 'online' | 'offline';

/** GET /webchat/:widgetId/availability: whether an agent can answer now. */
export interface Availability {
  available: boolean;
  reason?: 'closed' | 'no_agents';
  nextOpen?: string;
}

/** The visitor's conversation: its status, and whether the visitor is invited to rate its resolution. */
export interface ConversationState {
  status: string;
  csatDue: boolean;
}

export interface VisitorProfile {
  name?: string;
  email?: string;
}

export interface VerifiedIdentity {
  userId: string;
  hash: string;
  email?: string;
  name?: string;
}

export interface ChatSessionHooks {
  changed(): void;
  /** A message arrived live (not from history). */
  received(m: PublicMessage): void;
  sent(d: { messageId: string; conversationId: string; clientMessageId: string }): void;
  connection(state: ConnectionState): void;
  /** An agent is typing, or (`stopped`) no longer is. */
  typing(name: string | null, stopped: boolean): void;
}

interface StoredSession {
  visitorId: string;
  visitorToken: string;
}

const MAX_BACKOFF_MS = 15_000;
/** How long before its token expires the session asks for a fresh one. */
const RENEW_AHEAD_MS = 60_000;

const randomId = (): string => {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // randomUUID needs a secure context; plain-http sites still get an unguessable id.
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
};

const isNetworkError = (err: unknown) => err instanceof TypeError;

/**
 * One visitor's conversation with a widget: the session (kept across page loads), history, the live
 * stream, and an outbox that survives network loss and reloads. Every message is sent with its
 * clientMessageId, so a resend after a lost answer never makes a second message.
 */
export class ChatSession {
  readonly messages = new Map<string, PublicMessage>();
  outbox: OutboxEntry[] = [];
  state: ConnectionState = 'idle';
  greeting = '';
  visitorId = '';
  /** Whether the hub has an email to answer to. */
  hasEmail = false;
  availability?: Availability;
  conversation?: ConversationState;
  private token = '';
  /** When the token expires, by this page's clock. */
  private tokenExpiresAt = 0;
  /** From when a request renews the token first: a fifth of its life ahead, at most 5 s (a short token must not renew on every request). */
  private renewDueAt = 0;
  private renewTimer?: ReturnType<typeof setTimeout>;
  private source?: EventSource;
  private flushing = false;
  private retryTimer?: ReturnType<typeof setTimeout>;
  private backoffMs = 1000;
  private closed = false;
  private starting?: Promise<void>;
  private typingSentAt = 0;
  private readUpTo = '';

  constructor(
    private readonly base: string,
    private readonly widgetId: string,
    private readonly hooks: ChatSessionHooks,
  ) {
    this.outbox = this.read<OutboxEntry[]>('outbox')?.map((e) => ({ ...e, state: e.state === 'failed' ? 'failed' : 'queued' })) ?? [];
    globalThis.addEventListener?.('online', this.onOnline);
  }

  /** A session stored from an earlier page load. */
  get hasStoredSession(): boolean {
    return Boolean(this.read<StoredSession>('session'));
  }

  get started(): boolean {
    return Boolean(this.token);
  }

  /** Starts or resumes the session; safe to call again (one start runs at a time). */
  start(opts: { profile?: VisitorProfile; identity?: VerifiedIdentity } = {}): Promise<void> {
    return (this.starting ??= this.doStart(opts).finally(() => (this.starting = undefined)));
  }

  send(text: string, files: StagedFile[] = []): void {
    this.outbox.push({ clientMessageId: randomId(), text, ...(files.length ? { files } : {}), createdAt: new Date().toISOString(), state: 'queued' });
    this.saveOutbox();
    this.hooks.changed();
    void this.flush();
  }

  /** Uploads a file for the next message; the hub checks its type and size. */
  async upload(file: File): Promise<StagedFile> {
    await this.starting;
    if (!this.token) throw new UploadError('network');
    await this.renewIfDue();
    let res: Response;
    try {
      res = await fetch(`${this.base}/webchat/${encodeURIComponent(this.widgetId)}/uploads?name=${encodeURIComponent(file.name)}`, {
        method: 'POST',
        headers: { ...this.authHeaders(), 'content-type': file.type || 'application/octet-stream' },
        body: file,
      });
    } catch {
      throw new UploadError('network');
    }
    if (res.status === 401 && (await this.renewAfter(res))) return this.upload(file);
    if (res.status !== 201) throw new UploadError(((await res.json().catch(() => undefined)) as { error?: { code?: string } } | undefined)?.error?.code ?? 'upload_failed');
    return (await res.json()) as StagedFile;
  }

  /** Tells the agents the visitor is typing; at most every few seconds. */
  typing(): void {
    if (!this.token || Date.now() - this.typingSentAt < 3000) return;
    this.typingSentAt = Date.now();
    void this.post('typing').catch(() => {});
  }

  /** Marks replies up to the newest one the visitor can see as read. */
  markRead(): void {
    const last = [...this.messages.values()].filter((m) => m.direction === 'outbound' && (m.deliveryStatus === 'sent' || m.deliveryStatus === 'delivered')).sort((a, b) => b.sentAt.localeCompare(a.sentAt))[0];
    if (!this.token || !last || last.id === this.readUpTo) return;
    this.readUpTo = last.id;
    void this.post('read', { messageId: last.id }).catch(() => {});
  }

  /** Asks the hub whether an agent can answer now; kept in `availability`. */
  async checkAvailability(): Promise<void> {
    try {
      const res = await fetch(`${this.base}/webchat/${encodeURIComponent(this.widgetId)}/availability`);
      if (res.ok) this.availability = (await res.json()) as Availability;
    } catch {
      /* offline: the banner for that shows instead */
    }
    this.hooks.changed();
  }

  /** Gives the hub an email to reply to (the session is signed again with it). */
  async setEmail(email: string): Promise<void> {
    await this.start({ profile: { email } });
  }

  /** Rates the resolved conversation (1–5); true when the hub took it (or already had a rating). */
  async rate(rating: number, comment: string): Promise<boolean> {
    const res = await this.post('csat', { rating, ...(comment.trim() ? { comment } : {}) }).catch(() => undefined);
    const ok = res?.status === 201 || res?.status === 409;
    if (ok && this.conversation) this.conversation = { ...this.conversation, csatDue: false };
    this.hooks.changed();
    return ok;
  }

  private async post(path: string, body?: unknown): Promise<Response> {
    await this.renewIfDue();
    return fetch(`${this.base}/webchat/${encodeURIComponent(this.widgetId)}/${path}`, {
      method: 'POST',
      headers: { ...this.authHeaders(), ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  }

  /** The absolute download URL of an attachment. */
  fileUrl(a: PublicAttachment): string {
    return `${this.base}${a.url}`;
  }

  retry(clientMessageId: string): void {
    const entry = this.outbox.find((e) => e.clientMessageId === clientMessageId);
    if (entry) entry.state = 'queued';
    this.hooks.changed();
    void this.flush();
  }

  /** Forgets the visitor (a new visitor starts on the next `start`). */
  forget(): void {
    this.stopStream();
    this.remove('session');
    this.remove('outbox');
    this.messages.clear();
    this.outbox = [];
    this.token = '';
    clearTimeout(this.renewTimer);
    this.visitorId = '';
    this.conversation = undefined;
    this.hasEmail = false;
    this.hooks.changed();
  }

  close(): void {
    this.closed = true;
    this.stopStream();
    clearTimeout(this.retryTimer);
    clearTimeout(this.renewTimer);
    globalThis.removeEventListener?.('online', this.onOnline);
  }

  private async doStart(opts: { profile?: VisitorProfile; identity?: VerifiedIdentity }): Promise<void> {
    this.setState('connecting');
    const stored = this.read<StoredSession>('session');
    const body: Record<string, unknown> = opts.identity
      ? { identity: opts.identity }
      : { ...(stored ?? {}), ...(opts.profile?.name ? { name: opts.profile.name } : {}), ...(opts.profile?.email ? { email: opts.profile.email } : {}) };
    let res: Response;
    try {
      res = await fetch(`${this.base}/webchat/${encodeURIComponent(this.widgetId)}/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    } catch (err) {
      if (!isNetworkError(err)) throw err;
      this.setState('offline');
      this.scheduleRetry(() => void this.start(opts));
      return;
    }
    if (res.status === 401 && stored && !opts.identity) {
      // The stored visitor is not valid on this hub any more: start afresh, keeping what was typed.
      this.remove('session');
      return this.doStart(opts);
    }
    if (!res.ok) {
      this.setState('offline');
      if (res.status === 429 || res.status >= 500) this.scheduleRetry(() => void this.start(opts));
      return;
    }
    const session = (await res.json()) as StoredSession & { greeting?: string; hasEmail?: boolean; expiresIn?: number };
    this.hasEmail = Boolean(session.hasEmail);
    // A signed-in user on a shared computer must not see the previous visitor's chat.
    if (this.visitorId && this.visitorId !== session.visitorId) this.messages.clear();
    this.visitorId = session.visitorId;
    this.token = session.visitorToken;
    this.scheduleRenewal(session.expiresIn);
    this.greeting = session.greeting ?? '';
    this.write('session', { visitorId: session.visitorId, visitorToken: session.visitorToken });
    this.openStream();
  }

  /**
   * Visitor tokens expire: shortly before, the session trades its token for a fresh one of the same
   * visitor (POST …/sessions with it) and reopens the stream, whose URL carries the token.
   */
  private scheduleRenewal(expiresIn: number | undefined): void {
    clearTimeout(this.renewTimer);
    if (!expiresIn) {
      this.tokenExpiresAt = Number.POSITIVE_INFINITY;
      this.renewDueAt = Number.POSITIVE_INFINITY;
      return;
    }
    this.tokenExpiresAt = Date.now() + expiresIn * 1000;
    this.renewDueAt = this.tokenExpiresAt - Math.min(5_000, (expiresIn * 1000) / 5);
    const ahead = Math.min(RENEW_AHEAD_MS, (expiresIn * 1000) / 5);
    this.renewTimer = setTimeout(() => void this.start(), Math.max(1000, expiresIn * 1000 - ahead));
  }

  /** A sleeping tab's timer fires late: renew before a request when the token is (nearly) expired. */
  private async renewIfDue(): Promise<void> {
    if (this.token && !this.starting && Date.now() >= this.renewDueAt) await this.start();
    else await this.starting;
  }

  /** True when the hub refused an expired token and the session got a fresh one. */
  private async renewAfter(res: Response): Promise<boolean> {
    const code = ((await res.clone().json().catch(() => undefined)) as { error?: { code?: string } } | undefined)?.error?.code;
    if (code !== 'visitor_token_expired' || this.closed) return false;
    const before = this.token;
    await this.start();
    return Boolean(this.token) && this.token !== before;
  }

  private openStream(): void {
    this.stopStream();
    const q = new URLSearchParams({ visitorId: this.visitorId, visitorToken: this.token });
    const source = new EventSource(`${this.base}/webchat/${encodeURIComponent(this.widgetId)}/events?${q}`);
    this.source = source;
    source.addEventListener('open', () => {
      this.backoffMs = 1000;
      this.setState('online');
      // Fill whatever was missed while away, then send what was typed meanwhile.
      void this.loadHistory().then(() => this.flush());
    });
    source.addEventListener('message', (e) => {
      const m = JSON.parse((e as MessageEvent<string>).data) as PublicMessage;
      this.merge(m, true);
    });
    source.addEventListener('status', (e) => {
      const s = JSON.parse((e as MessageEvent<string>).data) as { messageId: string; deliveryStatus: string | null };
      const m = this.messages.get(s.messageId);
      if (m) {
        m.deliveryStatus = s.deliveryStatus;
        this.hooks.changed();
      }
    });
    source.addEventListener('conversation', (e) => {
      this.conversation = JSON.parse((e as MessageEvent<string>).data) as ConversationState;
      this.hooks.changed();
    });
    source.addEventListener('typing', (e) => {
      const t = JSON.parse((e as MessageEvent<string>).data) as { name: string | null; stopped?: boolean };
      this.hooks.typing(t.name, t.stopped === true);
    });
    source.addEventListener('error', () => {
      this.setState('offline');
      // The browser retries by itself unless the hub answered with an error; then we do, with a fresh token once it has expired.
      if (source.readyState !== EventSource.CLOSED || this.source !== source) return;
      if (Date.now() >= this.renewDueAt) this.scheduleRetry(() => void this.start());
      else this.scheduleRetry(() => this.openStream());
    });
  }

  private stopStream(): void {
    this.source?.close();
    this.source = undefined;
  }

  private async loadHistory(): Promise<void> {
    try {
      await this.renewIfDue();
      const res = await fetch(`${this.base}/webchat/${encodeURIComponent(this.widgetId)}/messages`, { headers: this.authHeaders() });
      if (res.status === 401) {
        void this.renewAfter(res); // the renewed session reopens the stream, which loads the history again
        return;
      }
      if (!res.ok) return;
      const { items, conversation } = (await res.json()) as { items: PublicMessage[]; conversation?: ConversationState };
      for (const m of items) this.merge(m, false);
      this.conversation = conversation;
      this.hooks.changed();
    } catch (err) {
      if (!isNetworkError(err)) throw err;
    }
  }

  private merge(m: PublicMessage, live: boolean): void {
    const known = this.messages.has(m.id);
    this.messages.set(m.id, m);
    if (!known && m.direction === 'inbound') {
      // The stream can show our own message before the send call returns: pair it with that send.
      const pending = this.outbox.find((e) => e.state === 'sending' && !e.messageId && e.text === m.text);
      if (pending) pending.messageId = m.id;
    }
    if (!known && live) this.hooks.received(m);
    this.hooks.changed();
  }

  /** Sends queued messages in order, one at a time; stops at the first network failure. */
  private async flush(): Promise<void> {
    if (this.flushing || !this.token || this.closed) return;
    this.flushing = true;
    try {
      for (let entry = this.nextQueued(); entry; entry = this.nextQueued()) {
        entry.state = 'sending';
        this.hooks.changed();
        let res: Response;
        try {
          await this.renewIfDue();
          res = await fetch(`${this.base}/webchat/${encodeURIComponent(this.widgetId)}/messages`, {
            method: 'POST',
            headers: { ...this.authHeaders(), 'content-type': 'application/json' },
            body: JSON.stringify({ clientMessageId: entry.clientMessageId, text: entry.text, attachments: entry.files?.map((f) => f.id) ?? [] }),
          });
        } catch (err) {
          entry.state = 'queued';
          entry.messageId = undefined;
          this.setState('offline');
          if (!isNetworkError(err)) throw err;
          return; // the stream's reconnect (or the browser's `online`) flushes again
        }
        if (res.status === 202) {
          const r = (await res.json()) as { messageId: string; conversationId: string };
          this.outbox = this.outbox.filter((e) => e !== entry);
          if (!this.messages.has(r.messageId)) {
            this.messages.set(r.messageId, { id: r.messageId, direction: 'inbound', authorName: null, text: entry.text, sentAt: new Date().toISOString(), deliveryStatus: null });
          }
          this.hooks.sent({ messageId: r.messageId, conversationId: r.conversationId, clientMessageId: entry.clientMessageId });
        } else if (res.status === 429 || res.status >= 500) {
          entry.state = 'queued';
          this.scheduleRetry(() => void this.flush());
          return;
        } else if (res.status === 401 && (await this.renewAfter(res))) {
          entry.state = 'queued'; // sent again with the fresh token (same clientMessageId, so never twice)
        } else {
          entry.state = 'failed';
        }
        this.saveOutbox();
        this.hooks.changed();
      }
    } finally {
      this.flushing = false;
      this.saveOutbox();
      this.hooks.changed();
    }
  }

  private nextQueued(): OutboxEntry | undefined {
    return this.outbox.find((e) => e.state === 'queued');
  }

  private readonly onOnline = () => {
    if (!this.token) return;
    if (!this.source || this.source.readyState === EventSource.CLOSED) this.openStream();
    void this.flush();
  };

  private scheduleRetry(fn: () => void): void {
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(fn, this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
  }

  private setState(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    this.hooks.connection(state);
    this.hooks.changed();
  }

  private authHeaders(): Record<string, string> {
    return { authorization: `Visitor ${this.token}`, 'x-visitor-id': this.visitorId };
  }

  private key(name: string): string {
    return `hummdesk:${this.base}:${this.widgetId}:${name}`;
  }

  private read<T>(name: string): T | undefined {
    try {
      const raw = localStorage.getItem(this.key(name));
      return raw ? (JSON.parse(raw) as T) : undefined;
    } catch {
      return undefined; // storage blocked (private mode, sandboxed frame): the chat still works for this page
    }
  }

  private write(name: string, value: unknown): void {
    try {
      localStorage.setItem(this.key(name), JSON.stringify(value));
    } catch {
      /* storage blocked: nothing to keep */
    }
  }

  private remove(name: string): void {
    try {
      localStorage.removeItem(this.key(name));
    } catch {
      /* storage blocked */
    }
  }

  private saveOutbox(): void {
    if (this.outbox.length) this.write('outbox', this.outbox.map(({ messageId: _m, ...e }) => e));
    else this.remove('outbox');
  }
}
