import { html, nothing, type PropertyValues } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { unsafeHTML } from 'lit/directives/unsafe-html.js';
import { AgentElement, HubApiError } from '../shared/agent-element.js';
import type { HubStreamEvent, TypingEvent } from '../shared/agent-stream.js';
import { emit } from '../shared/emit.js';
import { linkify } from '../shared/linkify.js';
import { safeHttpUrl } from '../shared/safe-url.js';
import { sanitizeHtml } from '../shared/sanitize.js';
import { CHANNEL_LABELS, formatTime, type ConversationDetail, type MessageView } from '../shared/types.js';
import { conversationStyles } from './conversation.styles.js';
import { displayName } from '../shared/display-name.js';
import { ConversationActions } from './actions.js';
import { ComposerFiles, pastedName } from './composer-files.js';

/** The widget says the customer is typing every few seconds while they are; silence longer than this means they stopped. */
const TYPING_SHOWN_MS = 6000;
/** How often the customer's widget is told the agent is still typing. */
const TYPING_SENT_EVERY_MS = 3000;

/** What the composer writes: a reply the customer gets, or an internal note only agents see. */
type ComposerMode = 'reply' | 'note';

/** A message or a reply in another language, as the hub's translation routes return it. */
interface Translated {
  text?: string;
  language?: string;
  original?: string;
  error?: string;
  busy?: boolean;
}

/** The agent's language as the browser knows it ("fi-FI" → "fi"). */
const agentLanguage = () => (globalThis.navigator?.language ?? 'en').split('-')[0]!.toLowerCase();

/** What the agent left in the composer of a conversation they moved away from. */
interface ComposerDraft {
  text: string;
  mode: ComposerMode;
}

export interface ReplySentDetail {
  conversationId: string;
  messageId: string;
  isPrivate: boolean;
}

declare global {
  interface GlobalEventHandlersEventMap {
    /** `<hummdesk-conversation>` sent a reply (or stored a note, `isPrivate`). */
    'hummdesk-reply-sent': CustomEvent<ReplySentDetail>;
  }
}

/**
 * The thread of one conversation: channel badges, internal notes styled apart, the AI
 * classification with its confidence, "… is typing" while the customer writes, and the composer,
 * switched between Reply (default) and Internal note. Ctrl+Enter sends in the chosen mode; typing a
 * reply shows the customer that an agent is typing (until the agent switches to a note, empties the
 * box or leaves), typing a note never does. Each conversation keeps
 * its own draft (text and mode) while the element lives, so what was written for one never ends up
 * in another's box; sending clears it.
 *
 * @fires hummdesk-reply-sent - `detail.conversationId`, `messageId`, `isPrivate`
 * @fires hummdesk-auth-expired - the embed token was refused; set a fresh `token`
 *
 * Actions (assign, resolve / reopen, snooze, priority, category, tags) sit in the header, each with a
 * keyboard shortcut listed under `?` (none fires while typing in a field).
 *
 * @csspart header - contact, channel and classification
 * @csspart actions - the actions toolbar
 * @csspart shortcuts - the keyboard shortcuts list shown by `?`
 * @csspart thread - the message list
 * @csspart typing - the "… is typing" line while the customer writes
 * @csspart message - one message (also `message-note` for internal notes, `message-notice` for "X joined this thread")
 * @csspart composer - the reply form (also `composer-note` while it writes an internal note); files can be dropped on it or pasted
 * @csspart attach - the "Attach files" button
 * @csspart staged-files - the files going with the reply: preview, size, upload state, the hub's refusal
 * @csspart mode - the Reply / Internal note switch, a radio group above the text box
 * @csspart csat - the customer's rating of the resolution (web chat CSAT), when given
 *
 * @tag hummdesk-conversation
 */
export class HummdeskConversation extends AgentElement {
  static override styles = conversationStyles;

  /** The conversation to show. */
  @property({ attribute: 'conversation-id' }) conversationId = '';

  @state() private detail?: ConversationDetail;
  @state() private messages: MessageView[] = [];
  @state() private error = '';
  /** Conversations whose reply or note is on its way: another conversation can send meanwhile. */
  @state() private sending: ReadonlySet<string> = new Set();
  @state() private mode: ComposerMode = 'reply';
  /** `conversationId address` of people this view added to a conversation's Cc list. */
  @state() private added: ReadonlySet<string> = new Set();
  /** The customer typing, by name; undefined when they are not. */
  @state() private typingName?: string;
  /** Messages shown translated into the agent's language, by message id (the original stays shown). */
  @state() private translations: ReadonlyMap<string, Translated> = new Map();
  /** The composer's text in the customer's language, shown beside it before sending. */
  @state() private replyTranslation?: Translated & { conversationId: string };
  private typingTimer?: ReturnType<typeof setTimeout>;
  /** When the shown conversation's customer was last told the agent is typing; 0 once told they stopped. */
  private typingSentAt = 0;
  /** Drafts of the conversations not shown, by id; in memory only, so none outlives the page. */
  private drafts = new Map<string, ComposerDraft>();
  /** The shown conversation's draft text, put into the text box once it is rendered. */
  private restoring?: string;
  @query('textarea') private textarea?: HTMLTextAreaElement;
  @query('.thread') private thread?: HTMLElement;
  private reloadTimer?: ReturnType<typeof setTimeout>;
  private loadSeq = 0;
  private readonly actions = new ConversationActions(this);
  private readonly files = new ComposerFiles(this);
  @state() private dropping = false;

  /** @internal The actions bar and the composer's files call the hub as this element. */
  hubApi<T>(path: string, init?: { method?: string; body?: unknown; file?: Blob }): Promise<T> {
    return this.api<T>(path, init);
  }

  /** @internal An action finished: show its outcome now (the stream updates other agents' views). */
  actionDone(error?: Error): void {
    this.error = error ? error.message : '';
    if (!error) void this.reload();
  }

  /**
   * Adds text (for example a knowledge-base passage) to the composer and focuses it, in whichever
   * mode it is in: a reply to the customer or an internal note.
   */
  insertReplyText(text: string): void {
    if (!this.textarea) return;
    this.textarea.value = this.textarea.value ? `${this.textarea.value}\n${text}` : text;
    this.textarea.focus();
  }

  /** Focuses the composer's text box, in whichever mode it is in (reply or internal note). */
  focusReply(): void {
    this.textarea?.focus();
  }

  /** Reloads conversation and messages now. */
  async reload(): Promise<void> {
    const id = this.conversationId;
    if (!this.token || !id) return;
    const seq = ++this.loadSeq;
    try {
      const [detail, page] = await Promise.all([
        this.api<ConversationDetail>(`/conversations/${encodeURIComponent(id)}`),
        this.api<{ items: MessageView[] }>(`/conversations/${encodeURIComponent(id)}/messages?limit=200`),
      ]);
      if (seq !== this.loadSeq) return;
      this.detail = detail;
      this.messages = page.items;
      this.error = '';
    } catch (err) {
      if (seq === this.loadSeq) this.error = (err as Error).message;
    }
  }

  protected override willUpdate(changed: PropertyValues): void {
    if (changed.has('conversationId')) {
      // The text box still holds what was written for the conversation being left.
      const left = changed.get('conversationId') as string | undefined;
      if (left) {
        this.keepDraft(left, { text: this.textarea?.value ?? '', mode: this.mode });
        this.tellTypingStopped(left);
      }
      const draft = this.drafts.get(this.conversationId);
      this.drafts.delete(this.conversationId);
      this.mode = draft?.mode ?? 'reply';
      this.restoring = draft?.text ?? '';
      this.detail = undefined;
      this.messages = [];
      this.stopTyping();
    }
    if (changed.has('conversationId') || changed.has('token')) void this.reload();
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    // Setting the value fires no input event: a draft put back is not typing.
    if (this.restoring !== undefined && this.textarea) this.textarea.value = this.restoring;
    this.restoring = undefined;
    if (changed.has('messages') && this.thread) this.thread.scrollTop = this.thread.scrollHeight;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stopTyping();
    if (this.conversationId) this.tellTypingStopped(this.conversationId);
  }

  protected hubEvent(e: HubStreamEvent): void {
    if (e.type !== 'resync' && e.conversationId !== this.conversationId) return;
    if (e.type === 'message.created' && e.direction === 'inbound') this.stopTyping();
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => void this.reload(), 50);
  }

  protected override hubTyping(e: TypingEvent): void {
    // Agents' typing (this agent's own included) is for the customer's widget.
    if (e.by !== 'visitor' || e.conversationId !== this.conversationId) return;
    this.typingName = displayName(e.name || this.detail?.conversation.contactName || '') || 'Customer';
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.stopTyping(), TYPING_SHOWN_MS);
  }

  /** A draft with no text is not kept: the conversation opens on an empty Reply. */
  private keepDraft(conversationId: string, draft: ComposerDraft): void {
    if (draft.text.trim()) this.drafts.set(conversationId, draft);
    else this.drafts.delete(conversationId);
  }

  private stopTyping(): void {
    clearTimeout(this.typingTimer);
    this.typingName = undefined;
  }

  private onInput(): void {
    const id = this.conversationId;
    // A note is never shown to the customer, so neither is writing one.
    if (!id || this.mode !== 'reply') return;
    if (!this.textarea?.value.trim()) return this.tellTypingStopped(id);
    if (Date.now() - this.typingSentAt < TYPING_SENT_EVERY_MS) return;
    this.typingSentAt = Date.now();
    void this.api(`/conversations/${encodeURIComponent(id)}/typing`, { method: 'POST' }).catch(() => {});
  }

  /** Ends the customer's "… is typing" now rather than after their widget's timeout; once per burst of typing. */
  private tellTypingStopped(conversationId: string): void {
    const shown = this.typingSentAt && Date.now() - this.typingSentAt < TYPING_SHOWN_MS;
    this.typingSentAt = 0;
    if (!shown) return;
    void this.api(`/conversations/${encodeURIComponent(conversationId)}/typing`, { method: 'POST', body: { stopped: true } }).catch(() => {});
  }

  private setMode(mode: ComposerMode): void {
    this.mode = mode;
    if (mode === 'note' && this.conversationId) this.tellTypingStopped(this.conversationId);
  }

  private async send(isPrivate: boolean): Promise<void> {
    const id = this.conversationId;
    const text = this.textarea?.value ?? '';
    // Files go with replies only (a note stays text); a reply waits for its uploads.
    const uploadIds = isPrivate ? [] : this.files.readyIds(id);
    if ((!text.trim() && !uploadIds.length) || this.sending.has(id)) return;
    if (!isPrivate && this.files.uploading(id)) {
      this.error = 'Wait for the files to finish uploading.';
      return;
    }
    this.sending = new Set(this.sending).add(id);
    try {
      const path = `/conversations/${encodeURIComponent(id)}/${isPrivate ? 'notes' : 'reply'}`;
      const message = await this.api<MessageView>(path, { method: 'POST', body: uploadIds.length ? { text, uploadIds } : { text } });
      if (!isPrivate) this.files.clear(id);
      // The agent may have opened another conversation meanwhile; its box is not the one sent.
      if (id === this.conversationId) {
        this.textarea!.value = '';
        this.error = '';
        // The reply itself ends the customer's "… is typing".
        if (!isPrivate) this.typingSentAt = 0;
      } else this.drafts.delete(id);
      emit(this, 'hummdesk-reply-sent', { conversationId: id, messageId: message.id, isPrivate });
      await this.reload();
    } catch (err) {
      // Elsewhere by now, the text stays in that conversation's draft.
      if (id === this.conversationId) this.error = (err as Error).message;
    } finally {
      const sending = new Set(this.sending);
      sending.delete(id);
      this.sending = sending;
      if (id === this.conversationId) this.textarea?.focus();
    }
  }

  private onPaste(e: ClipboardEvent): void {
    const files = Array.from(e.clipboardData?.files ?? []);
    if (!files.length || this.mode !== 'reply') return;
    e.preventDefault();
    // A pasted screenshot has no useful name ("image.png"): name it so the customer can tell.
    this.files.add(this.conversationId, files.map((f) => (f.type.startsWith('image/') && (!f.name || f.name === 'image.png') ? new File([f], pastedName(f.type), { type: f.type }) : f)));
  }

  private onDragOver(e: DragEvent): void {
    if (this.mode !== 'reply' || !e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    this.dropping = true;
  }

  private onDrop(e: DragEvent): void {
    this.dropping = false;
    const files = Array.from(e.dataTransfer?.files ?? []);
    if (!files.length || this.mode !== 'reply') return;
    e.preventDefault();
    this.files.add(this.conversationId, files);
  }

  private onPick(e: Event): void {
    const input = e.target as HTMLInputElement;
    this.files.add(this.conversationId, Array.from(input.files ?? []));
    input.value = '';
  }

  private onKeydown(e: KeyboardEvent): void {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void this.send(this.mode === 'note');
    }
  }

  /** Email: copies the one who joined on later replies (adds them to the conversation's Cc list). */
  private async addParticipant(address: string): Promise<void> {
    const id = this.conversationId;
    try {
      await this.api(`/conversations/${encodeURIComponent(id)}/participants`, { method: 'POST', body: { address } });
      this.added = new Set(this.added).add(`${id} ${address.toLowerCase()}`);
      this.error = '';
    } catch (err) {
      if (id === this.conversationId) this.error = (err as Error).message;
    }
  }

  /** A message in the agent's language, below the original; offline the hub says it cannot (translation_unavailable). */
  private async translateMessage(id: string): Promise<void> {
    const conversationId = this.conversationId;
    const set = (t: Translated) => (this.translations = new Map(this.translations).set(id, t));
    set({ busy: true });
    try {
      const r = await this.api<{ translation: { text: string; language: string } }>(`/conversations/${encodeURIComponent(conversationId)}/messages/${encodeURIComponent(id)}/translate`, { method: 'POST', body: { to: agentLanguage() } });
      set({ text: r.translation.text, language: r.translation.language });
    } catch (err) {
      set({ error: translationError(err) });
    }
  }

  /** The reply in the customer's language, shown beside the agent's text; nothing is sent until the agent chooses. */
  private async translateReply(): Promise<void> {
    const conversationId = this.conversationId;
    const text = this.textarea?.value.trim() ?? '';
    if (!text) return;
    this.replyTranslation = { conversationId, busy: true };
    try {
      const r = await this.api<{ translation: { text: string; language: string } }>(`/conversations/${encodeURIComponent(conversationId)}/reply-translation`, { method: 'POST', body: { text, from: agentLanguage() } });
      this.replyTranslation = { conversationId, original: text, text: r.translation.text, language: r.translation.language };
    } catch (err) {
      this.replyTranslation = { conversationId, error: translationError(err) };
    }
  }

  /** Puts the translated reply into the composer, for the agent to read once more and send. */
  private useTranslation(): void {
    const t = this.replyTranslation;
    if (!t?.text || !this.textarea) return;
    this.textarea.value = t.text;
    this.replyTranslation = undefined;
    this.textarea.focus();
  }

  private renderTranslation(t: Translated | undefined) {
    if (!t) return nothing;
    if (t.busy) return html`<p class="translation muted" part="translation">Translating…</p>`;
    if (t.error) return html`<p class="translation error" part="translation">${t.error}</p>`;
    return html`<div class="translation" part="translation" dir="auto"><span class="badge">Translated (${t.language})</span> ${t.text}</div>`;
  }

  private renderNotice(m: MessageView) {
    const address = m.sender?.address;
    const email = this.detail?.conversation.channelKind === 'email' && !!address;
    const added = email && this.added.has(`${this.conversationId} ${address.toLowerCase()}`);
    return html`<li class="message notice" part="message message-notice" data-id=${m.id}>
      <span class="text">${m.text}</span>
      <time datetime=${m.sentAt}>${formatTime(m.sentAt)}</time>
      ${email
        ? added
          ? html`<span class="added">Copied on replies</span>`
          : html`<button type="button" class="add-participant" title="Copy ${address} on later replies (Cc)" @click=${() => void this.addParticipant(address)}>Add to Cc</button>`
        : nothing}
    </li>`;
  }

  private renderMessage(m: MessageView, channel: string) {
    if (m.notice === 'participant_joined') return this.renderNotice(m);
    const kind = m.isPrivate ? 'note' : m.direction;
    const who = displayName(m.authorName ?? '') || (m.direction === 'inbound' ? 'Customer' : 'Agent');
    // Anyone can choose a display name: a customer message also shows the address it came from.
    const address = m.direction === 'inbound' && m.sender?.address && m.sender.address !== who ? m.sender.address : undefined;
    return html`<li class="message ${kind}" part=${m.isPrivate ? 'message message-note' : 'message'} data-id=${m.id}>
      <div class="meta">
        <span class="author">${who}</span>${address ? html`<span class="address">&lt;${address}&gt;</span>` : nothing}
        ${m.authentication === 'fail' ? html`<span class="badge forged" title="The mailbox's server found this sender's DMARC/DKIM check failed">From not verified</span>` : nothing}
        ${m.isPrivate ? html`<span class="badge">Internal note</span>` : html`<span class="badge channel">${channel}</span>`}
        <time datetime=${m.sentAt}>${formatTime(m.sentAt)}</time>
        ${m.direction === 'outbound' && !m.isPrivate && m.deliveryStatus
          ? html`<span class=${m.deliveryStatus === 'failed' || m.deliveryStatus === 'unknown' ? 'failed' : ''}>${m.deliveryStatus}${m.deliveryError ? `: ${m.deliveryError}` : ''}</span>`
          : nothing}
        ${m.text.trim() ? html`<button type="button" class="translate" title="Show this message in your language" ?disabled=${!!this.translations.get(m.id)?.busy} @click=${() => void this.translateMessage(m.id)}>Translate</button>` : nothing}
      </div>
      ${m.html
        ? html`<div class="html" dir="auto">${unsafeHTML(sanitizeHtml(m.html))}</div>`
        : html`<div class="text" dir="auto">${linkify(m.text)}</div>`}
      ${this.renderTranslation(this.translations.get(m.id))}
      ${m.attachments.length ? html`<ul class="attachments">${m.attachments.map((a) => this.renderAttachment(a))}</ul>` : nothing}
    </li>`;
  }

  /** Images preview inline; every file downloads by its signed link (a browser cannot send the bearer token). */
  private renderAttachment(a: MessageView['attachments'][number]) {
    const name = displayName(a.name ?? '') || a.kind;
    const size = a.size ? ` (${a.size < 1024 * 1024 ? `${Math.ceil(a.size / 1024)} KB` : `${(a.size / 1024 / 1024).toFixed(1)} MB`})` : '';
    const href = a.url ? safeHttpUrl(this.base + a.url) : undefined;
    if (!href) return html`<li class="file unavailable" dir="auto">${name}${size}</li>`;
    const image = /^image\/(png|jpe?g|gif|webp|avif)$/i.test(a.mimeType ?? '');
    return html`<li class=${image ? 'image' : 'file'}>
      ${image ? html`<a href=${href} target="_blank" rel="noopener noreferrer"><img src=${href} alt=${name} loading="lazy"></a>` : nothing}
      <a class="download" href=${href} download=${name} dir="auto">${name}</a><span class="muted">${size}</span>
    </li>`;
  }

  protected override render() {
    if (!this.conversationId) return html`<p class="empty">Choose a conversation.</p>`;
    const d = this.detail;
    const c = d?.conversation;
    const ai = d?.ai;
    const channel = c ? (CHANNEL_LABELS[c.channelKind] ?? c.channelKind) : '';
    const confidence = ai?.confidence ?? c?.confidence;
    return html`
      <header part="header">
        <h2>${displayName(c?.contactName ?? '') || 'Visitor'}${c?.subject ? html` <span class="muted">— ${c.subject}</span>` : nothing}</h2>
        ${c ? html`<div class="facts">
          <span class="badge channel">${channel}</span>
          <span class="badge">${c.status}</span>
          <span class="badge">priority: ${c.priority}</span>
          ${d?.csat ? html`<span class="badge csat" part="csat" title=${d.csat.comment ?? ''}>CSAT <span aria-hidden="true">${'★'.repeat(d.csat.rating)}${'☆'.repeat(5 - d.csat.rating)}</span><span class="sr-only">${d.csat.rating} of 5</span>${d.csat.comment ? html` <q class="csat-comment">${d.csat.comment}</q>` : nothing}</span>` : nothing}
        </div>` : nothing}
        ${ai || c?.category ? html`<div class="ai" aria-label="AI classification">
          <span>AI: <strong class="category">${ai?.category ?? c?.category ?? '—'}</strong></span>
          ${ai?.sentiment ? html`<span>sentiment ${ai.sentiment}</span>` : nothing}
          ${ai?.language ?? c?.language ? html`<span>language ${ai?.language ?? c?.language}</span>` : nothing}
          ${typeof confidence === 'number' ? html`<span>confidence
            <meter min="0" max="1" low="0.5" high="0.8" optimum="1" .value=${confidence} aria-label="confidence"></meter>
            <span class="confidence">${Math.round(confidence * 100)} %</span></span>` : nothing}
        </div>` : nothing}
        ${this.actions.render(c)}
      </header>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      <ol class="thread" part="thread" aria-label="Messages" aria-live="polite" tabindex="0">
        ${this.messages.map((m) => this.renderMessage(m, channel))}
      </ol>
      ${this.typingName !== undefined ? html`<p class="typing" part="typing">${this.typingName} is typing…</p>` : nothing}
      ${this.renderComposer(channel)}`;
  }

  private renderComposer(channel: string) {
    const note = this.mode === 'note';
    const mode = (value: ComposerMode, label: string) => html`<label>
      <input type="radio" name="mode" value=${value} .checked=${this.mode === value} @change=${() => this.setMode(value)}><span>${label}</span>
    </label>`;
    const id = this.conversationId;
    return html`<form part=${note ? 'composer composer-note' : 'composer'} class="${this.mode}${this.dropping ? ' dropping' : ''}" @submit=${(e: Event) => { e.preventDefault(); void this.send(note); }}
      @dragover=${this.onDragOver} @dragleave=${() => (this.dropping = false)} @drop=${this.onDrop}>
      <fieldset class="mode" part="mode">
        <legend class="sr-only">Write a reply or an internal note</legend>
        ${mode('reply', 'Reply')}${mode('note', 'Internal note')}
      </fieldset>
      <label class="sr-only" for="reply">${note ? 'Internal note, seen by agents only' : 'Reply to the customer'}</label>
      <textarea id="reply" aria-describedby="composer-hint" placeholder=${note ? 'Internal note — only agents see this (Ctrl+Enter adds it)' : 'Reply to the customer… (Ctrl+Enter sends)'}
        @keydown=${this.onKeydown} @input=${this.onInput} @paste=${this.onPaste}></textarea>
      ${!note && this.replyTranslation?.conversationId === this.conversationId ? this.renderReplyTranslation(this.replyTranslation) : nothing}
      ${note ? nothing : this.files.render(id)}
      <div class="actions">
        ${note ? nothing : html`<input type="file" id="attach-input" class="sr-only" multiple tabindex="-1" aria-hidden="true" @change=${this.onPick}>
          <button type="button" class="attach secondary" part="attach" aria-describedby="attach-hint"
            @click=${() => this.renderRoot.querySelector<HTMLInputElement>('#attach-input')?.click()}>Attach files</button>
          <span class="sr-only" id="attach-hint">or drop files on the reply, or paste an image</span>`}
        <span class="hint" id="composer-hint">${note ? 'Only agents see notes.' : channel ? `The customer gets this by ${channel}.` : 'The customer gets this.'}</span>
        ${note ? nothing : html`<button type="button" class="translate-reply" title="See your reply in the customer's language before sending" @click=${() => void this.translateReply()}>Translate</button>`}
        <button type="submit" class="send ${this.mode}" ?disabled=${this.sending.has(id) || (!note && this.files.uploading(id))}>${note ? 'Add note' : 'Send'}</button>
      </div>
    </form>`;
  }

  /** Both texts side by side: the agent's and the customer's-language one the agent may put in the composer. */
  private renderReplyTranslation(t: Translated) {
    if (t.busy || t.error) return this.renderTranslation(t);
    return html`<div class="reply-translation" part="reply-translation">
      <div><span class="badge">Your text</span><p dir="auto">${t.original}</p></div>
      <div><span class="badge">In ${t.language}</span><p dir="auto">${t.text}</p></div>
      <button type="button" class="use-translation" @click=${() => this.useTranslation()}>Use translation</button>
    </div>`;
  }
}

function translationError(err: unknown): string {
  if (err instanceof HubApiError && err.code === 'translation_unavailable') return 'Translation needs Claude or an OpenAI-compatible model; the offline AI cannot translate.';
  if (err instanceof HubApiError && err.code === 'customer_language_unknown') return "The customer's language is not known yet.";
  return `Translation failed: ${(err as Error).message}`;
}
