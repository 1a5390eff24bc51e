import { html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { AgentElement } from '../shared/agent-element.js';
import type { HubStreamEvent } from '../shared/agent-stream.js';
import { emit } from '../shared/emit.js';
import { CHANNEL_LABELS, formatTime, type ConversationView } from '../shared/types.js';
import { inboxStyles } from './inbox.styles.js';
import { displayName } from '../shared/display-name.js';

declare global {
  interface GlobalEventHandlersEventMap {
    /** An agent chose a conversation in `<hummdesk-inbox>`. */
    'hummdesk-conversation-select': CustomEvent<{ conversationId: string; conversation: ConversationView }>;
  }
}

const FILTERS = ['status', 'assignee', 'team', 'channel', 'category', 'priority', 'q'] as const;

/**
 * An agent's conversation list with filters, search, live updates and keyboard navigation
 * (arrow keys, Home/End, Enter to open).
 *
 * @fires hummdesk-conversation-select - `detail.conversationId`, `detail.conversation`
 * @fires hummdesk-auth-expired - the embed token was refused; set a fresh `token`
 *
 * @csspart filters - the filter bar
 * @csspart list - the conversation list
 * @csspart item - one conversation
 *
 * @tag hummdesk-inbox
 */
export class HummdeskInbox extends AgentElement {
  static override styles = inboxStyles;

  /** Status filter: open, pending, snoozed, resolved, or empty for all. */
  @property() status = 'open';
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
  /** The selected conversation's id. */
  @property({ reflect: true }) selected = '';
  /** Hide the built-in filter bar (the page sets the filter properties itself). */
  @property({ type: Boolean, attribute: 'hide-filters' }) hideFilters = false;

  @state() private items: ConversationView[] = [];
  /** Choices for the team and channel filters, loaded with the first token. */
  @state() private teams: { id: string; name: string }[] = [];
  @state() private channels: { id: string; name: string; kind: string }[] = [];
  @state() private error = '';
  @state() private loaded = false;
  /** The conversation that holds the list's one tab stop (roving tabindex). */
  private activeId = '';
  private reloadTimer?: ReturnType<typeof setTimeout>;
  private loadSeq = 0;

  /** Reloads the list now. */
  async reload(): Promise<void> {
    if (!this.token) return;
    const seq = ++this.loadSeq;
    const params = new URLSearchParams({ limit: '50' });
    for (const f of FILTERS) if (this[f]) params.set(f, this[f]);
    try {
      const { items } = await this.api<{ items: ConversationView[] }>(`/conversations?${params}`);
      if (seq !== this.loadSeq) return; // a newer filter won
      this.items = items;
      this.error = '';
      this.loaded = true;
    } catch (err) {
      if (seq === this.loadSeq) this.error = (err as Error).message;
    }
  }

  protected override willUpdate(changed: PropertyValues): void {
    if (changed.has('token') || FILTERS.some((f) => changed.has(f))) this.scheduleReload(changed.has('q') ? 250 : 0);
    if (changed.has('token') && this.token && !this.hideFilters && !this.teams.length) void this.loadChoices();
  }

  private async loadChoices(): Promise<void> {
    try {
      const [teams, channels] = await Promise.all([
        this.api<{ items: { id: string; name: string }[] }>('/teams'),
        this.api<{ items: { id: string; name: string; kind: string }[] }>('/channels'),
      ]);
      this.teams = teams.items;
      this.channels = channels.items;
    } catch {
      // The filters still work by id through the properties; only the choices are missing.
    }
  }

  protected hubEvent(e: HubStreamEvent): void {
    if (e.type === 'message.updated' || e.type === 'draft.created') return;
    this.scheduleReload(100);
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
  }

  private focusItem(index: number): void {
    const items = Array.from(this.renderRoot.querySelectorAll<HTMLLIElement>('li[role="option"]'));
    if (!items.length) return;
    const at = Math.max(0, Math.min(index, items.length - 1));
    this.activeId = this.items[at]?.id ?? '';
    for (const [i, li] of items.entries()) li.tabIndex = i === at ? 0 : -1;
    items[at]!.focus();
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
      this.focusItem(move());
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
    const select = (name: 'status' | 'assignee' | 'team' | 'channel' | 'priority', label: string, options: [string, string][]) => html`
      <label>${label}
        <select name=${name} .value=${this[name]} @change=${(e: Event) => this.setFilter(name, e)}>
          ${options.map(([v, l]) => html`<option value=${v} ?selected=${this[name] === v}>${l}</option>`)}
        </select>
      </label>`;
    return html`<form class="filters" part="filters" role="search" aria-label="Filter conversations" @submit=${(e: Event) => e.preventDefault()}>
      <label class="search">Search
        <input type="search" name="q" .value=${this.q} placeholder="Search messages…" @input=${(e: Event) => this.setFilter('q', e)}>
      </label>
      ${select('status', 'Status', [['', 'All'], ['open', 'Open'], ['pending', 'Pending'], ['snoozed', 'Snoozed'], ['resolved', 'Resolved']])}
      ${select('assignee', 'Assignee', [['', 'Anyone'], ['me', 'Me'], ['none', 'Unassigned']])}
      ${this.teams.length ? select('team', 'Team', [['', 'All teams'], ...this.teams.map((t): [string, string] => [t.id, t.name])]) : nothing}
      ${this.channels.length > 1 ? select('channel', 'Channel', [['', 'All channels'], ...this.channels.map((c): [string, string] => [c.id, c.name])]) : nothing}
      ${select('priority', 'Priority', [['', 'Any'], ['urgent', 'Urgent'], ['high', 'High'], ['normal', 'Normal'], ['low', 'Low']])}
      <label>Category
        <input type="text" name="category" size="10" .value=${this.category} @change=${(e: Event) => this.setFilter('category', e)}>
      </label>
    </form>`;
  }

  protected override render() {
    const active = this.active;
    return html`
      ${this.hideFilters ? nothing : this.renderFilters()}
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${this.loaded && !this.items.length ? html`<p class="empty">No conversations.</p>` : nothing}
      <ul part="list" role="listbox" aria-label="Conversations" @keydown=${this.onListKeydown}>
        ${repeat(this.items, (c) => c.id, (c, i) => html`
          <li part="item" role="option" id=${`c-${c.id}`} data-id=${c.id} aria-selected=${String(c.id === this.selected)}
            tabindex=${i === active ? '0' : '-1'}
            @click=${() => this.choose(c)} @focus=${() => (this.activeId = c.id)}>
            <span class="name">${displayName(c.contactName ?? '') || 'Visitor'}</span>
            <time class="time" datetime=${c.lastMessageAt}>${formatTime(c.lastMessageAt)}</time>
            <span class="tags">
              <span class="badge channel">${CHANNEL_LABELS[c.channelKind] ?? c.channelKind}</span>
              <span class="badge">${c.status}</span>
              ${c.priority !== 'normal' ? html`<span class="badge priority-${c.priority}">${c.priority}</span>` : nothing}
              ${c.category ? html`<span class="badge">${c.category}</span>` : nothing}
            </span>
          </li>`)}
      </ul>`;
  }
}
