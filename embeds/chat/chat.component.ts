import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { emit } from '../shared/emit.js';
import { hubBase } from '../shared/hub-url.js';
import { linkify } from '../shared/linkify.js';
import { chatStyles } from './chat.styles.js';
import { chatStrings, type ChatStrings } from './i18n/index.js';
import { ChatSession, UploadError, type ConnectionState, type OutboxEntry, type PublicAttachment, type PublicMessage, type StagedFile, type VerifiedIdentity } from './chat-session.js';
import { displayName } from '../shared/display-name.js';

export type { ConnectionState, PublicMessage } from './chat-session.js';

export interface ChatMessageSentDetail {
  messageId: string;
  conversationId: string;
  clientMessageId: string;
}

declare global {
  interface GlobalEventHandlersEventMap {
    /** The panel was opened or closed. */
    'hummdesk-chat-toggle': CustomEvent<{ open: boolean }>;
    /** The hub stored a message the visitor wrote. */
    'hummdesk-message-sent': CustomEvent<ChatMessageSentDetail>;
    /** A new message reached the visitor live (an agent's reply, or the visitor's own from another tab). */
    'hummdesk-message-received': CustomEvent<{ message: PublicMessage }>;
    /** The connection to the hub changed. */
    'hummdesk-connection-change': CustomEvent<{ state: ConnectionState }>;
    /** The visitor rated the resolution of their conversation (1–5). */
    'hummdesk-csat-submitted': CustomEvent<{ rating: number }>;
  }
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const kb = (size: number | null | undefined) => (size ? ` (${Math.max(1, Math.round(size / 1024))} KB)` : '');

const initials = (name: string) =>
  name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0]!.toUpperCase()).join('') || '?';

type Row =
  | { kind: 'message'; m: PublicMessage }
  | { kind: 'pending'; e: OutboxEntry };

/**
 * The customer's chat widget for one web chat channel: a launcher button and a panel.
 *
 * @fires hummdesk-chat-toggle - the panel opened or closed; `detail.open`
 * @fires hummdesk-message-sent - the hub stored a visitor message; `detail.messageId`, `conversationId`, `clientMessageId`
 * @fires hummdesk-message-received - a message arrived live; `detail.message`
 * @fires hummdesk-connection-change - `detail.state`: connecting, online or offline
 * @fires hummdesk-csat-submitted - the visitor rated the resolved conversation; `detail.rating` (1–5)
 *
 * @csspart launcher - the round button that opens the panel
 * @csspart badge - the unread count on the launcher
 * @csspart panel - the chat panel
 * @csspart header - the panel's title bar
 * @csspart messages - the scrolling message log
 * @csspart message - one message row (also `message-inbound` / `message-outbound`)
 * @csspart bubble - the text bubble of a message
 * @csspart composer - the form at the bottom
 * @csspart input - the message text area
 * @csspart send-button - the send button
 * @csspart typing - the "… is typing" line
 * @csspart attach-button - the button that picks files to attach (files can also be dropped on the panel)
 * @csspart attachment - a file link on a message, or a file waiting in the composer
 * @csspart availability - the notice that nobody is available now (with an email field when the hub has none)
 * @csspart csat - the rating form offered once the conversation is resolved, then its thank-you
 *
 * @cssprop --hummdesk-accent - brand colour of the launcher, header and visitor bubbles
 * @cssprop --hummdesk-accent-contrast - text colour on the accent
 * @cssprop --hummdesk-background - panel background
 * @cssprop --hummdesk-foreground - panel text colour
 * @cssprop --hummdesk-radius - corner radius
 * @cssprop --hummdesk-font - font shorthand
 * @cssprop --hummdesk-offset-block - distance from the bottom of the viewport
 * @cssprop --hummdesk-offset-inline - distance from the inline end (right in LTR, left in RTL)
 *
 * @tag hummdesk-chat
 */
export class HummdeskChat extends LitElement {
  static override styles = chatStyles;

  /** The widget id of the web chat channel (its public key); required. */
  @property({ attribute: 'widget-id' }) widgetId = '';

  /** Base URL of the hub; defaults to the origin this script was loaded from. */
  @property() hub = '';

  /** Whether the panel is open. */
  @property({ type: Boolean, reflect: true }) open = false;

  /** Language of the texts (en, fi, sv); defaults to the page's language. */
  @property() override lang = '';

  /** The panel's title; defaults to the localised "Chat with us". */
  @property() heading = '';

  /** Ask an anonymous visitor for an email address before the chat starts. */
  @property({ type: Boolean, attribute: 'ask-email' }) askEmail = false;

  /** Render in place instead of floating at the corner of the page. */
  @property({ type: Boolean, reflect: true }) inline = false;

  /** Verified identity: the site's own user id… */
  @property({ attribute: 'identity-user-id' }) identityUserId = '';
  /** …and hex HMAC-SHA256(identity secret, user id), computed by the site's server. */
  @property({ attribute: 'identity-hash' }) identityHash = '';
  /** Email of the verified user. */
  @property({ attribute: 'identity-email' }) identityEmail = '';
  /** Display name of the verified user. */
  @property({ attribute: 'identity-name' }) identityName = '';

  @state() private unread = 0;
  @state() private prechatError = '';
  @state() private announcement = '';
  @state() private revision = 0;
  @state() private staged: StagedFile[] = [];
  @state() private uploading = 0;
  @state() private fileError = '';
  @state() private dragging = false;
  /** Who is typing a reply, shown until their message arrives or they stop. */
  @state() private typingName: string | null | undefined;
  private typingTimer?: ReturnType<typeof setTimeout>;
  @state() private awayError = '';
  @state() private emailSaved = false;
  @state() private csatChoice = 0;
  @state() private csatThanks = false;

  @query('#input') private input?: HTMLTextAreaElement;
  @query('.prechat input[type="email"]') private emailInput?: HTMLInputElement;
  @query('.launcher') private launcher?: HTMLButtonElement;
  @query('.log') private log?: HTMLElement;
  @query('input[type="file"]') private filePicker?: HTMLInputElement;

  private session?: ChatSession;

  private get t(): ChatStrings {
    return chatStrings(this.lang || this.closest<HTMLElement>('[lang]')?.lang || document.documentElement.lang || navigator.language);
  }

  private get identity(): VerifiedIdentity | undefined {
    if (!this.identityUserId || !this.identityHash) return undefined;
    return {
      userId: this.identityUserId,
      hash: this.identityHash,
      ...(this.identityEmail ? { email: this.identityEmail } : {}),
      ...(this.identityName ? { name: this.identityName } : {}),
    };
  }

  private get needsPrechat(): boolean {
    return this.askEmail && !this.identity && !this.session?.started && !this.session?.hasStoredSession;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    document.addEventListener('visibilitychange', this.onVisibility);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.session?.close();
    this.session = undefined;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if ((changed.has('widgetId') || changed.has('hub')) && this.widgetId) {
      this.session?.close();
      this.session = new ChatSession(hubBase(this.hub), this.widgetId, {
        changed: () => this.revision++,
        received: (m) => this.onReceived(m),
        sent: (d) => emit(this, 'hummdesk-message-sent', d),
        typing: (name, stopped) => {
          clearTimeout(this.typingTimer);
          if (stopped) {
            this.typingName = undefined;
            return;
          }
          this.typingName = name;
          this.typingTimer = setTimeout(() => (this.typingName = undefined), 6000);
        },
        connection: (s) => {
          emit(this, 'hummdesk-connection-change', { state: s });
          if (s === 'offline') this.announcement = this.t.offline;
          else if (s === 'online') this.announcement = this.t.online;
        },
      });
      // A returning visitor reconnects at once, so replies that came meanwhile show as unread.
      if (this.session.hasStoredSession || this.identity || (this.open && !this.needsPrechat)) void this.session.start({ identity: this.identity });
      if (this.open || this.inline) void this.session.checkAvailability();
    }
  }

  protected override updated(changed: PropertyValues): void {
    if (changed.has('open') && changed.get('open') !== undefined) {
      if (this.open) this.focusPanel();
      else this.launcher?.focus();
    }
    if (changed.has('revision') && this.log) this.log.scrollTop = this.log.scrollHeight;
    if (this.open && !document.hidden) this.session?.markRead();
  }

  /** Opens the panel and moves focus into it. */
  show(): void {
    this.setOpen(true);
  }

  /** Closes the panel and returns focus to the launcher. */
  hide(): void {
    this.setOpen(false);
  }

  private setOpen(open: boolean): void {
    if (open === this.open) return;
    this.open = open;
    if (open) {
      this.unread = 0;
      if (!this.session?.started && !this.needsPrechat) void this.session?.start({ identity: this.identity });
      void this.session?.checkAvailability();
    }
    emit(this, 'hummdesk-chat-toggle', { open });
  }

  private async focusPanel(): Promise<void> {
    await this.updateComplete;
    (this.emailInput ?? this.input)?.focus();
  }

  private onReceived(m: PublicMessage): void {
    emit(this, 'hummdesk-message-received', { message: m });
    if (m.direction !== 'outbound') return;
    this.typingName = undefined;
    if (!this.open || document.hidden) this.unread++;
    this.announcement = this.t.newMessageFrom(displayName(m.authorName ?? '') || this.t.support);
  }

  private readonly onVisibility = () => {
    if (!document.hidden && this.open) {
      this.unread = 0;
      this.session?.markRead();
    }
  };

  private onKeydown(e: KeyboardEvent): void {
    if (e.key === 'Escape' && this.open && !this.inline) {
      e.stopPropagation();
      this.hide();
    }
  }

  private onComposerKeydown(e: KeyboardEvent): void {
    // Enter sends, Shift+Enter makes a new line, as in every chat.
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      this.submit();
    }
  }

  private submit(e?: Event): void {
    e?.preventDefault();
    const text = this.input?.value ?? '';
    if ((!text.trim() && !this.staged.length) || this.uploading || !this.session) return;
    this.input!.value = '';
    this.session.send(text, this.staged);
    this.staged = [];
  }

  private async attach(files: Iterable<File>): Promise<void> {
    this.fileError = '';
    for (const file of files) {
      this.uploading++;
      try {
        this.staged = [...this.staged, await this.session!.upload(file)];
      } catch (err) {
        const code = err instanceof UploadError ? err.code : '';
        const t = this.t;
        this.fileError = `${displayName(file.name)}: ${code === 'upload_too_large' ? t.fileTooLarge : code === 'upload_quota_exceeded' ? t.uploadQuotaExceeded : code.startsWith('upload_type') || code === 'upload_content_mismatch' ? t.fileTypeNotAllowed : t.uploadFailed}`;
      } finally {
        this.uploading--;
      }
    }
  }

  private onPicked(): void {
    const picker = this.filePicker!;
    void this.attach(Array.from(picker.files ?? [])).then(() => this.input?.focus());
    picker.value = '';
  }

  private onDragOver(e: DragEvent): void {
    if (!e.dataTransfer?.types.includes('Files') || this.needsPrechat) return;
    e.preventDefault();
    this.dragging = true;
  }

  private onDrop(e: DragEvent): void {
    this.dragging = false;
    if (!e.dataTransfer?.files.length || this.needsPrechat) return;
    e.preventDefault();
    void this.attach(Array.from(e.dataTransfer.files));
  }

  private renderFiles(files: PublicAttachment[] | undefined) {
    const s = this.session;
    if (!files?.length || !s) return nothing;
    // Images (an agent's screenshot) preview in the bubble; every file downloads by its signed link.
    return html`<ul class="files">${files.map((a) => html`<li>${/^image\/(png|jpeg|gif|webp)$/.test(a.mimeType ?? '') ? html`<img part="attachment-image" src=${s.fileUrl(a)} alt=${displayName(a.name ?? '')} loading="lazy">` : nothing}<a part="attachment" href=${s.fileUrl(a)} download=${displayName(a.name ?? '')} rel="noopener noreferrer" target="_blank">${displayName(a.name ?? '') || this.t.file}</a>${kb(a.size)}</li>`)}</ul>`;
  }

  private startWithEmail(e: Event): void {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const email = String(data.get('email') ?? '').trim();
    const name = String(data.get('name') ?? '').trim();
    if (!EMAIL.test(email)) {
      this.prechatError = this.t.invalidEmail;
      this.emailInput?.focus();
      return;
    }
    this.prechatError = '';
    void this.session?.start({ profile: { email, ...(name ? { name } : {}) } }).then(() => this.focusPanel());
  }

  private async saveEmail(e: Event): Promise<void> {
    e.preventDefault();
    const input = (e.target as HTMLFormElement).elements.namedItem('email') as HTMLInputElement;
    const email = input.value.trim();
    if (!EMAIL.test(email)) {
      this.awayError = this.t.invalidEmail;
      input.focus();
      return;
    }
    this.awayError = '';
    await this.session?.setEmail(email);
    this.emailSaved = Boolean(this.session?.hasEmail);
    this.input?.focus();
  }

  private async sendCsat(e: Event): Promise<void> {
    e.preventDefault();
    const rating = this.csatChoice;
    if (!rating || !this.session) return;
    const comment = String(new FormData(e.target as HTMLFormElement).get('comment') ?? '');
    if (!(await this.session.rate(rating, comment))) return;
    this.csatThanks = true;
    this.csatChoice = 0;
    this.announcement = this.t.csatThanks;
    emit(this, 'hummdesk-csat-submitted', { rating });
  }

  private renderAway() {
    const s = this.session;
    const a = s?.availability;
    if (!s || !a || a.available) return nothing;
    const t = this.t;
    let when = '';
    try {
      if (a.nextOpen) when = new Intl.DateTimeFormat(this.lang || undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit' }).format(new Date(a.nextOpen));
    } catch {
      /* an odd language tag: no time then */
    }
    return html`<div class="away" part="availability">
      <p>${when ? t.closedUntil(when) : t.unavailable}</p>
      ${this.emailSaved ? html`<p>${t.emailSaved}</p>` : s.hasEmail || this.identityEmail ? nothing : html`<form class="reply-email" @submit=${this.saveEmail} novalidate>
        <label>${t.replyEmail}<input type="email" name="email" autocomplete="email" required maxlength="320"></label>
        <button class="start" type="submit">${t.save}</button>
        <p class="error" role="alert">${this.awayError}</p>
      </form>`}
    </div>`;
  }

  private renderCsat() {
    const t = this.t;
    const c = this.session?.conversation;
    if (this.csatThanks && c?.status === 'resolved') return html`<p class="csat" part="csat">${t.csatThanks}</p>`;
    if (!c?.csatDue) return nothing;
    return html`<form class="csat" part="csat" @submit=${this.sendCsat}>
      <fieldset>
        <legend>${t.csatQuestion}</legend>
        ${[1, 2, 3, 4, 5].map((n) => html`<button type="button" class="star" aria-pressed=${String(this.csatChoice === n)} aria-label=${t.csatRating(n)}
          @click=${() => (this.csatChoice = n)}>${n <= this.csatChoice ? '★' : '☆'}</button>`)}
      </fieldset>
      <textarea name="comment" rows="2" maxlength="2000" aria-label=${t.csatComment} placeholder=${t.csatComment}></textarea>
      <button class="start" type="submit" ?disabled=${!this.csatChoice}>${t.csatSend}</button>
    </form>`;
  }

  private rows(): Row[] {
    const s = this.session;
    if (!s) return [];
    const messages = [...s.messages.values()].sort((a, b) => a.sentAt.localeCompare(b.sentAt) || a.id.localeCompare(b.id));
    return [
      ...messages.map((m): Row => ({ kind: 'message', m })),
      ...s.outbox.filter((e) => !e.messageId).map((e): Row => ({ kind: 'pending', e })),
    ];
  }

  private time(iso: string): string {
    try {
      return new Intl.DateTimeFormat(this.lang || undefined, { hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
    } catch {
      return '';
    }
  }

  private deliveryText(m: PublicMessage): string {
    const t = this.t;
    if (m.deliveryStatus === 'read') return t.read;
    if (m.deliveryStatus === 'delivered') return t.delivered;
    return t.sent;
  }

  private renderRow(row: Row) {
    const t = this.t;
    if (row.kind === 'pending') {
      const { e } = row;
      const status = e.state === 'sending' ? t.sending : e.state === 'queued' ? t.queued : t.failed;
      return html`<li class="message inbound pending ${e.state}" part="message message-inbound" data-client-id=${e.clientMessageId}>
        <div>
          <div class="bubble" part="bubble">${linkify(e.text)}${e.files?.length ? html`<ul class="files">${e.files.map((f) => html`<li part="attachment">${displayName(f.name)}${kb(f.size)}</li>`)}</ul>` : nothing}</div>
          <span class="meta"><span class="delivery">${status}</span>${e.state === 'failed'
            ? html`<button type="button" class="retry" @click=${() => this.session?.retry(e.clientMessageId)}>${t.retry}</button>`
            : nothing}</span>
        </div>
      </li>`;
    }
    const { m } = row;
    const inbound = m.direction === 'inbound';
    const who = inbound ? t.you : displayName(m.authorName ?? '') || t.support;
    return html`<li class="message ${m.direction}" part="message message-${m.direction}" data-id=${m.id}>
      ${inbound ? nothing : html`<span class="avatar" aria-hidden="true">${initials(who)}</span>`}
      <div>
        <div class="bubble" part="bubble">${inbound ? nothing : html`<span class="sr-only">${who}: </span>`}${linkify(m.text)}${this.renderFiles(m.attachments)}</div>
        <span class="meta">${inbound ? html`<span class="delivery">${this.deliveryText(m)}</span> · ` : html`<span class="author">${who}</span> · `}<time datetime=${m.sentAt}>${this.time(m.sentAt)}</time></span>
      </div>
    </li>`;
  }

  private renderBody() {
    const t = this.t;
    if (this.needsPrechat) {
      return html`<form class="prechat" part="prechat" @submit=${this.startWithEmail} novalidate>
        <p>${t.prechatIntro}</p>
        <label>${t.email}<input type="email" name="email" autocomplete="email" required maxlength="320" aria-describedby="prechat-error"></label>
        <label>${t.name}<input type="text" name="name" autocomplete="name" maxlength="200"></label>
        <p id="prechat-error" class="error" role="alert">${this.prechatError}</p>
        <button class="start" type="submit">${t.startChat}</button>
      </form>`;
    }
    const s = this.session;
    return html`
      ${s?.state === 'offline' ? html`<p class="offline-banner" part="offline">${t.offline}</p>` : nothing}
      ${this.renderAway()}
      <div class="log" part="messages" role="log" aria-label=${t.messages} tabindex="0">
        ${s?.greeting ? html`<p class="greeting">${s.greeting}</p>` : nothing}
        <ul>${this.rows().map((r) => this.renderRow(r))}</ul>
        ${this.typingName !== undefined ? html`<p class="typing" part="typing">${t.typing(this.typingName || t.support)}</p>` : nothing}
      </div>
      ${this.staged.length || this.uploading || this.fileError ? html`<div class="staged">
        <ul aria-label=${t.attachments}>${this.staged.map((f) => html`<li part="attachment"><span>${displayName(f.name)}${kb(f.size)}</span><button type="button" class="unstage" aria-label=${t.removeFile(displayName(f.name))}
          @click=${() => (this.staged = this.staged.filter((x) => x !== f))}>×</button></li>`)}</ul>
        ${this.uploading ? html`<span class="uploading">${t.uploading}</span>` : nothing}
        <p class="error" role="alert">${this.fileError}</p>
      </div>` : nothing}
      ${this.renderCsat()}
      <form class="composer" part="composer" @submit=${this.submit}>
        <label class="sr-only" for="input">${t.inputLabel}</label>
        <input type="file" id="files" class="sr-only" multiple tabindex="-1" aria-label=${t.attach} @change=${this.onPicked}>
        <button class="attach" part="attach-button" type="button" aria-label=${t.attach} title=${t.attach} @click=${() => this.filePicker?.click()}>
          <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M16.5 6.5 8.6 14.4a2 2 0 0 0 2.8 2.8l7.8-7.8a4 4 0 0 0-5.6-5.6l-8 8a6 6 0 0 0 8.5 8.5l6.4-6.4" fill="none" stroke="currentColor" stroke-width="2"/></svg>
        </button>
        <textarea id="input" part="input" rows="1" maxlength="10000" placeholder=${t.placeholder} @keydown=${this.onComposerKeydown} @input=${() => this.session?.typing()}></textarea>
        <button class="send" part="send-button" type="submit">${t.send}</button>
      </form>`;
  }

  protected override render() {
    const t = this.t;
    const s = this.session;
    const connection = s?.state === 'online' ? t.online : s?.state === 'offline' ? t.queued : s?.state === 'connecting' ? t.connecting : '';
    return html`
      <section class="panel ${this.dragging ? 'dragging' : ''}" part="panel" id="panel" role="region" aria-labelledby="title" ?hidden=${!this.open && !this.inline} @keydown=${this.onKeydown}
        @dragover=${this.onDragOver} @dragleave=${() => (this.dragging = false)} @drop=${this.onDrop}>
        <header part="header">
          <h2 id="title">${this.heading || t.title}</h2>
          <span class="connection" aria-hidden="true">${connection}</span>
          ${this.inline ? nothing : html`<button class="close" type="button" aria-label=${t.closeChat} @click=${this.hide}>×</button>`}
        </header>
        ${this.renderBody()}
      </section>
      ${this.inline ? nothing : html`<button class="launcher" part="launcher" type="button" aria-expanded=${String(this.open)} aria-controls="panel"
          aria-label=${this.unread ? `${this.open ? t.closeChat : t.openChat} (${t.unread(this.unread)})` : this.open ? t.closeChat : t.openChat}
          @click=${() => this.setOpen(!this.open)}>
          <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>
          ${this.unread ? html`<span class="badge" part="badge" aria-hidden="true">${this.unread}</span>` : nothing}
        </button>`}
      <div class="sr-only" role="status" aria-live="polite">${this.announcement}</div>`;
  }
}
