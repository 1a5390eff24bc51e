import { html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { guard } from 'lit/directives/guard.js';
import { AgentElement } from '../shared/agent-element.js';
import type { HubStreamEvent } from '../shared/agent-stream.js';
import { emit } from '../shared/emit.js';
import { CHANNEL_LABELS, formatTime, formatWaiting, type ConversationView, type InboxCounts } from '../shared/types.js';
import { inboxStyles } from './inbox.styles.js';
import { displayName } from '../shared/display-name.js';

declare global {
  interface GlobalEventHandlersEventMap {
    /** An agent chose a conversation in `<hummdesk-inbox>`. */
    'hummdesk-conversation-select': CustomEvent<{ conversationId: string; conversation: ConversationView }>;
    /** A customer wrote (a new conversation or a message) in a conversation this list shows; a page may notify. */
    'hummdesk-inbox-activity': CustomEvent<{ conversationId: string; conversation: ConversationView; newConversation: boolean }>;
    /** How many conversations in the list are unread now (for a tab title). */
    'hummdesk-unread-change': CustomEvent<{ count: number }>;
    /** The filters of `<hummdesk-inbox>` changed (a page may keep them in its URL). */
    'hummdesk-filters-change': CustomEvent<{ filters: Partial<Record<InboxFilter, string>> }>;
  }
}

const FILTERS = ['status', 'assignee', 'team', 'channel', 'category', 'priority', 'q', 'sort'] as const;
/** Rows fetched per request; more load as the agent scrolls. */
const PAGE = 50;
/** Every row's height in pixels (inbox.styles.ts sets the same): the list renders only the rows in view. */
export const ROW_HEIGHT = 80;
/** Rows rendered beyond each edge of the view, so a fast scroll shows no blank. */
const OVERSCAN = 8;
export type InboxFilter = (typeof FILTERS)[number];

/** The inbox views: presets of the status and assignee filters, each with its count. */
const VIEWS = [
  // Open or pending (an agent replied and waits): what agents still have on their plate.
  { key: 'mine', label: 'Mine', status: 'active', assignee: 'me' },
  { key: 'unassigned', label: 'Unassigned', status: 'active', assignee: 'none' },
  { key: 'open', label: 'All open', status: 'active', assignee: '' },
  { key: 'snoozed', label: 'Snoozed', status: 'snoozed', assignee: '' },
  { key: 'resolved', label: 'Resolved', status: 'resolved', assignee: '' },
] as const;

/**
 * An agent's conversation list with filters, search, live updates and keyboard navigation
 * (arrow keys, Home/End, Enter to open).
 *
 * @fires hummdesk-conversation-select - `detail.conversationId`, `detail.conversation` (the row as listed: `GET /conversations?view=summary`)
 * @fires hummdesk-auth-expired - the embed token was refused; set a fresh `token`
 *
 * @fires hummdesk-inbox-activity - a customer wrote in a listed conversation: `detail.conversation`, `newConversation`
 * @fires hummdesk-unread-change - `detail.count` unread conversations in the list
 * @fires hummdesk-filters-change - `detail.filters`: the filters now set (keep them in a URL)
 *
 * @csspart views - the view tabs with their counts
 * @csspart filters - the filter bar
 * @csspart scroller - the scrolling box around the list (only the rows in view are rendered)
 * @csspart list - the conversation list
 * @csspart item - one conversation
 *
 * @tag hummdesk-inbox
 */
export class HummdeskInbox extends AgentElement {
  static override styles = inboxStyles;

  /** Status filter: active (open or pending), open, pending, snoozed, resolved, or empty for all. */
  @property() status = 'active';
  /** Assignee filter: `me`, `none`, a user id, or empty for everyone. */
  @property() assignee = '';
  /** Team filter: a team id, or empty for all teams. */
  @property() team = '';
  /** Channel filter: a channel id, or empty for all channels. */
  @property() channel = '';
  /** Category filter (the AI's category), empty for all. */
  @property() category = '';
  /** Priority filter: low, normal, high, urgent, or empty for all. */
  @property() priority = '';
  /** Full-text search over message text. */
  @property() q = '';
  /** Order: empty or `recent` (latest activity first), `priority` (urgent first), or `waiting` (the customer waiting longest first). */
  @property() sort = '';
  /** The selected conversation's id. */
  @property({ reflect: true }) selected = '';
  /** Hide the built-in filter bar (the page sets the filter properties itself). */
  @property({ type: Boolean, attribute: 'hide-filters' }) hideFilters = false;
  /** Hide the view tabs (Mine, Unassigned, All open, Snoozed, Resolved). */
  @property({ type: Boolean, attribute: 'hide-views' }) hideViews = false;

  @state() private items: ConversationView[] = [];
  /** Choices for the team and channel filters, loaded with the first token. */
  @state() private teams: { id: string; name: string }[] = [];
  @state() private channels: { id: string; name: string; kind: string }[] = [];
  @state() private users = new Map<string, string>();
  @state() private counts: InboxCounts | null = null;
  /** Waiting times are re-read once a minute. */
  private clock?: ReturnType<typeof setInterval>;
  @state() private tick = 0;
  @state() private error = '';
  @state() private loaded = false;
  /** The conversation that holds the list's one tab stop (roving tabindex). */
  private activeId = '';
  private reloadTimer?: ReturnType<typeof setTimeout>;
  private loadSeq = 0;
  /** Conversations a customer just wrote in, told to the page once the list shows them. */
  private activity = new Map<string, boolean>();
  /** Where the next page starts; null when the list is complete. */
  private nextCursor: string | null = null;
  private loadingMore?: Promise<void>;
  private unreadTold = -1;
  /** The list's scroll position and height: which rows are rendered. */
  @state() private listTop = 0;
  @state() private viewHeight = 800;
  private scrollFrame = 0;
  private resizeObserver?: ResizeObserver;

  private query(cursor?: string): string {
    // A row's own fields only (no thread key, tags or creation times): a lighter page on a large account.
    const params = new URLSearchParams({ limit: String(PAGE), view: 'summary' });
    for (const f of FILTERS) if (this[f]) params.set(f, this[f]);
    if (cursor) params.set('cursor', cursor);
    return `/conversations?${params}`;
  }

  /**
   * Reloads the list now: the first page afresh, and the rows the agent already scrolled past kept
   * below it, so a live update never throws them back to the top.
   */
  async reload(): Promise<void> {
    if (!this.token) return;
    const seq = ++this.loadSeq;
    try {
      const [page, counts] = await Promise.all([
        this.api<{ items: ConversationView[]; nextCursor: string | null }>(this.query()),
        this.hideViews ? Promise.resolve(null) : this.api<InboxCounts>('/conversations/counts').catch(() => null),
      ]);
      if (seq !== this.loadSeq) return; // a newer filter won
      const fresh = new Set(page.items.map((c) => c.id));
      const kept = this.items.length > PAGE && page.nextCursor ? this.items.slice(PAGE).filter((c) => !fresh.has(c.id)) : [];
      this.items = [...page.items, ...kept];
      if (!kept.length) this.nextCursor = page.nextCursor;
      this.counts = counts;
      this.tellActivity();
      this.error = '';
      this.loaded = true;
    } catch (err) {
      if (seq === this.loadSeq) this.error = (err as Error).message;
    }
  }

  /** The next page, appended; one request at a time. */
  loadMore(): Promise<void> {
    if (!this.nextCursor || !this.token) return Promise.resolve();
    this.loadingMore ??= (async () => {
      const seq = this.loadSeq;
      try {
        const page = await this.api<{ items: ConversationView[]; nextCursor: string | null }>(this.query(this.nextCursor!));
        if (seq !== this.loadSeq) return;
        const have = new Set(this.items.map((c) => c.id));
        this.items = [...this.items, ...page.items.filter((c) => !have.has(c.id))];
        this.nextCursor = page.nextCursor;
      } catch (err) {
        this.error = (err as Error).message;
      }
    })().finally(() => (this.loadingMore = undefined));
    return this.loadingMore;
  }

  private onScroll(e: Event): void {
    const list = e.target as HTMLElement;
    if (list.scrollTop + list.clientHeight > list.scrollHeight - 600) void this.loadMore();
    // One re-render per frame, however many scroll events come.
    if (!this.scrollFrame)
      this.scrollFrame = requestAnimationFrame(() => {
        this.scrollFrame = 0;
        this.listTop = list.scrollTop;
      });
  }

  /** The rows in view (plus a margin): only these are in the DOM. */
  private get window(): { first: number; last: number } {
    // The scroller's height as the resize observer last saw it: reading it here would force a layout every frame.
    const height = this.viewHeight;
    const first = Math.max(0, Math.floor(this.listTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.items.length, Math.ceil((this.listTop + height) / ROW_HEIGHT) + OVERSCAN);
    return { first, last };
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    // Rows above and below the window are padding of the list (inside its scroller) of the same height, so the
    // scrollbar is the whole list's (set through the CSSOM: the hub's page allows no inline style attributes).
    const list = this.renderRoot.querySelector<HTMLElement>('ul[role=listbox]');
    if (!list) return;
    const { first, last } = this.window;
    list.style.paddingBlockStart = `${first * ROW_HEIGHT}px`;
    list.style.paddingBlockEnd = `${(this.items.length - last) * ROW_HEIGHT}px`;
  }

  protected override firstUpdated(): void {
    const list = this.renderRoot.querySelector<HTMLElement>('.scroller')!;
    this.viewHeight = list.clientHeight || this.viewHeight;
    this.resizeObserver = new ResizeObserver(() => (this.viewHeight = list.clientHeight || this.viewHeight));
    this.resizeObserver.observe(list, { box: 'border-box' });
  }

  protected override willUpdate(changed: PropertyValues): void {
    if (FILTERS.some((f) => changed.has(f))) {
      // Another list: start from its top.
      this.items = [];
      this.nextCursor = null;
    }
    if (changed.has('token') || FILTERS.some((f) => changed.has(f))) this.scheduleReload(changed.has('q') ? 250 : 0);
    if (changed.has('token') && this.token && !this.teams.length) void this.loadChoices();
    if (FILTERS.some((f) => changed.has(f)) && this.hasUpdated) {
      const filters: Partial<Record<InboxFilter, string>> = {};
      for (const f of FILTERS) if (this[f]) filters[f] = this[f];
      emit(this, 'hummdesk-filters-change', { filters });
    }
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.clock = setInterval(() => this.tick++, 60_000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.clock);
    cancelAnimationFrame(this.scrollFrame);
    this.scrollFrame = 0;
  }

  private async loadChoices(): Promise<void> {
    const [teams, channels, users] = await Promise.allSettled([
      this.api<{ items: { id: string; name: string }[] }>('/teams'),
      this.api<{ items: { id: string; name: string; kind: string }[] }>('/channels'),
      this.api<{ items: { id: string; name: string }[] }>('/users'),
    ]);
    // The filters still work by id through the properties; only the choices (or names) are missing.
    if (teams.status === 'fulfilled') this.teams = teams.value.items;
    if (channels.status === 'fulfilled') this.channels = channels.value.items;
    if (users.status === 'fulfilled') this.users = new Map(users.value.items.map((u) => [u.id, u.name]));
  }

  protected hubEvent(e: HubStreamEvent): void {
    if (e.type === 'message.updated' || e.type === 'draft.created') return;
    if (e.type === 'conversation.created') this.activity.set(e.conversationId, true);
    if (e.type === 'message.created' && e.direction === 'inbound' && !e.isPrivate && !this.activity.has(e.conversationId)) this.activity.set(e.conversationId, false);
    this.scheduleReload(100);
  }

  private tellActivity(): void {
    for (const [id, newConversation] of this.activity) {
      const conversation = this.items.find((c) => c.id === id);
      if (conversation) emit(this, 'hummdesk-inbox-activity', { conversationId: id, conversation, newConversation });
    }
    this.activity.clear();
    const unread = this.items.filter((c) => c.unread).length;
    if (unread !== this.unreadTold) emit(this, 'hummdesk-unread-change', { count: (this.unreadTold = unread) });
  }

  private scheduleReload(ms: number): void {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => void this.reload(), ms);
  }

  private get active(): number {
    const id = this.activeId || this.selected;
    return Math.max(0, this.items.findIndex((c) => c.id === id));
  }

  private choose(c: ConversationView): void {
    this.activeId = c.id;
    this.selected = c.id;
    emit(this, 'hummdesk-conversation-select', { conversationId: c.id, conversation: c });
    if (c.unread) {
      this.items = this.items.map((i) => (i.id === c.id ? { ...i, unread: false } : i));
      // Only a user has an inbox to mark; a failure leaves the mark for the next load to show.
      void this.api(`/conversations/${c.id}/read`, { method: 'POST' }).catch(() => undefined);
    }
  }

  private showView(view: (typeof VIEWS)[number]): void {
    this.status = view.status;
    this.assignee = view.assignee;
  }

  private renderViews() {
    const current = VIEWS.find((v) => v.status === this.status && v.assignee === this.assignee);
    return html`<nav class="views" part="views" aria-label="Inbox views">
      ${VIEWS.map((v) => html`<button type="button" class="view" aria-pressed=${String(v === current)} @click=${() => this.showView(v)}>
        ${v.label}${this.counts ? html` <span class="count">${this.counts[v.key]}</span>` : nothing}
      </button>`)}
    </nav>`;
  }

  /** Who the row is: the contact's name, else their email or phone; "Visitor" only when nothing is known. */
  private who(c: ConversationView): string {
    return displayName(c.contactName ?? '') || c.contactEmail || c.contactPhone || 'Visitor';
  }

  private renderRow(c: ConversationView, i: number, active: number) {
    const assignee = c.assigneeId ? this.users.get(c.assigneeId) ?? 'Assigned' : 'Unassigned';
    return html`
      <li part="item" role="option" id=${`c-${c.id}`} data-id=${c.id} data-index=${i} aria-selected=${String(c.id === this.selected)}
        aria-posinset=${i + 1} aria-setsize=${this.nextCursor ? -1 : this.items.length}
        class=${c.unread ? 'unread' : ''} tabindex=${i === active ? '0' : '-1'}
        @click=${() => this.choose(c)} @focus=${() => (this.activeId = c.id)}>
        <span class="name" dir="auto">${c.unread ? html`<span class="dot" aria-hidden="true"></span><span class="sr-only">Unread: </span>` : nothing}${this.who(c)}</span>
        <time class="time" datetime=${c.lastMessageAt}>${formatTime(c.lastMessageAt)}</time>
        ${c.preview ? html`<span class="preview" dir="auto">${c.previewDirection === 'outbound' ? html`<span class="muted">You: </span>` : nothing}${c.preview}</span>` : nothing}
        <span class="tags">
          <span class="badge channel" title=${c.channelName ?? ''}>${CHANNEL_LABELS[c.channelKind] ?? c.channelKind}</span>
          ${c.waitingSince && c.status !== 'resolved' ? html`<span class="badge waiting" title=${`waiting since ${new Date(c.waitingSince).toLocaleString()}`}>waiting ${formatWaiting(c.waitingSince)}</span>` : nothing}
          ${c.priority !== 'normal' ? html`<span class="badge priority-${c.priority}">${c.priority}</span>` : nothing}
          <span class="badge assignee">${assignee}</span>
          ${c.language ? html`<span class="badge" title="language">${c.language}</span>` : nothing}
          ${c.category ? html`<span class="badge">${c.category}</span>` : nothing}
          ${VIEWS.some((v) => v.status === c.status) && c.status === this.status ? nothing : html`<span class="badge">${c.status}</span>`}
        </span>
      </li>`;
  }

  private async focusItem(index: number): Promise<void> {
    if (!this.items.length) return;
    const at = Math.max(0, Math.min(index, this.items.length - 1));
    this.activeId = this.items[at]?.id ?? '';
    // Keyboard users reach the end of what is loaded: the next page comes.
    if (at >= this.items.length - 5) void this.loadMore();
    // The row may not be rendered yet: scroll it into view, let the window follow, then focus it.
    const list = this.renderRoot.querySelector<HTMLElement>('.scroller')!;
    const top = at * ROW_HEIGHT;
    if (top < list.scrollTop) list.scrollTop = top;
    else if (top + ROW_HEIGHT > list.scrollTop + list.clientHeight) list.scrollTop = top + ROW_HEIGHT - list.clientHeight;
    this.listTop = list.scrollTop;
    this.requestUpdate();
    await this.updateComplete;
    const items = Array.from(this.renderRoot.querySelectorAll<HTMLLIElement>('li[role="option"]'));
    for (const li of items) li.tabIndex = Number(li.dataset.index) === at ? 0 : -1;
    items.find((li) => Number(li.dataset.index) === at)?.focus();
  }

  private onListKeydown(e: KeyboardEvent): void {
    const moves: Record<string, () => number> = {
      ArrowDown: () => this.active + 1,
      ArrowUp: () => this.active - 1,
      Home: () => 0,
      End: () => this.items.length - 1,
    };
    const move = moves[e.key];
    if (move) {
      e.preventDefault();
      void this.focusItem(move());
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      const c = this.items[this.active];
      if (c) this.choose(c);
    }
  }

  private setFilter(name: (typeof FILTERS)[number], e: Event): void {
    this[name] = (e.target as HTMLInputElement | HTMLSelectElement).value;
  }

  private renderFilters() {
    const select = (name: 'status' | 'assignee' | 'team' | 'channel' | 'priority' | 'sort', label: string, options: [string, string][]) => html`
      <label>${label}
        <select name=${name} .value=${this[name]} @change=${(e: Event) => this.setFilter(name, e)}>
          ${options.map(([v, l]) => html`<option value=${v} ?selected=${this[name] === v}>${l}</option>`)}
        </select>
      </label>`;
    return html`<form class="filters" part="filters" role="search" aria-label="Filter conversations" @submit=${(e: Event) => e.preventDefault()}>
      <label class="search">Search
        <input type="search" name="q" .value=${this.q} placeholder="Search messages…" @input=${(e: Event) => this.setFilter('q', e)}>
      </label>
      ${select('status', 'Status', [['', 'All'], ['active', 'Open or pending'], ['open', 'Open'], ['pending', 'Pending'], ['snoozed', 'Snoozed'], ['resolved', 'Resolved']])}
      ${select('assignee', 'Assignee', [['', 'Anyone'], ['me', 'Me'], ['none', 'Unassigned']])}
      ${this.teams.length ? select('team', 'Team', [['', 'All teams'], ...this.teams.map((t): [string, string] => [t.id, t.name])]) : nothing}
      ${this.channels.length > 1 ? select('channel', 'Channel', [['', 'All channels'], ...this.channels.map((c): [string, string] => [c.id, c.name])]) : nothing}
      ${select('priority', 'Priority', [['', 'Any'], ['urgent', 'Urgent'], ['high', 'High'], ['normal', 'Normal'], ['low', 'Low']])}
      ${select('sort', 'Sort', [['', 'Latest activity'], ['priority', 'Priority'], ['waiting', 'Waiting longest']])}
      <label>Category
        <input type="text" name="category" size="10" .value=${this.category} @change=${(e: Event) => this.setFilter('category', e)}>
      </label>
    </form>`;
  }

  protected override render() {
    const active = this.active;
    const { first, last } = this.window;
    // The one tab stop stays in the list even when the active row is scrolled out of the rendered window.
    const tabStop = active >= first && active < last ? active : first;
    return html`
      ${this.hideViews ? nothing : this.renderViews()}
      ${this.hideFilters ? nothing : this.renderFilters()}
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${this.loaded && !this.items.length ? html`<p class="empty">No conversations.</p>` : nothing}
      <div class="scroller" part="scroller" @scroll=${this.onScroll}>
        <ul part="list" role="listbox" aria-label="Conversations" @keydown=${this.onListKeydown}>
          ${repeat(this.items.slice(first, last), (c) => c.id, (c, i) => {
            const index = first + i;
            const setSize = this.nextCursor ? -1 : this.items.length;
            // A row already shown is not rendered again while scrolling: only what it shows can change it.
            return guard([c, index, index === tabStop, c.id === this.selected, this.users, this.status, setSize, this.tick], () => this.renderRow(c, index, tabStop));
          })}
        </ul>
      </div>`;
  }
}
