import { html, nothing, type ReactiveController, type ReactiveControllerHost } from 'lit';
import type { ConversationView } from '../shared/types.js';

/** What the actions need from the conversation view that hosts them. */
export interface ActionsHost extends ReactiveControllerHost, HTMLElement {
  readonly token: string;
  readonly conversationId: string;
  hubApi<T>(path: string, init?: { method?: string; body?: unknown }): Promise<T>;
  /** After an action: show its result now (the stream tells the other agents' views). */
  actionDone(error?: Error): void;
  focusReply(): void;
}

/** Keyboard shortcuts, shown under `?`; none fires while the agent types in a field. */
export const SHORTCUTS: { key: string; label: string }[] = [
  { key: 'a', label: 'Assign to me' },
  { key: 'e', label: 'Resolve, or reopen' },
  { key: 's', label: 'Snooze' },
  { key: 'p', label: 'Priority' },
  { key: 'c', label: 'Category' },
  { key: 't', label: 'Tags' },
  { key: 'r', label: 'Write a reply' },
  { key: 'Ctrl+Enter', label: 'Send the reply or note' },
  { key: '?', label: 'Show or hide these shortcuts' },
];

const HOUR = 3600_000;

/** Snooze presets, as the agent's own clock reads them. */
export function snoozePresets(now = new Date()): { key: string; label: string; until: Date }[] {
  const at9 = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate(), 9, 0, 0, 0);
  const tomorrow = at9(new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1));
  const daysToMonday = ((8 - now.getDay()) % 7) || 7;
  const monday = at9(new Date(now.getFullYear(), now.getMonth(), now.getDate() + daysToMonday));
  return [
    { key: '1h', label: 'For 1 hour', until: new Date(now.getTime() + HOUR) },
    { key: '4h', label: 'For 4 hours', until: new Date(now.getTime() + 4 * HOUR) },
    { key: 'tomorrow', label: 'Tomorrow 9:00', until: tomorrow },
    { key: 'monday', label: 'Next Monday 9:00', until: monday },
  ];
}

/** The user id inside an embed token (a JWT), to offer "Assign to me"; read, not verified (the hub verifies). */
function tokenUser(token: string): string | undefined {
  try {
    const payload = token.split('.')[1] ?? '';
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { sub?: unknown };
    return typeof json.sub === 'string' ? json.sub : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The actions bar of `<hummdesk-conversation>`: assign (me, an agent, a team), resolve / reopen,
 * snooze until, priority, category correction and tags, each one click or one key away. Every action
 * goes through the hub's API as the signed-in agent, so other agents see it live.
 */
export class ConversationActions implements ReactiveController {
  users: { id: string; name: string; role: string }[] = [];
  teams: { id: string; name: string }[] = [];
  categories: string[] = [];
  helpOpen = false;
  pickingDate = false;
  busy = false;
  private loadedFor = '';

  constructor(private readonly host: ActionsHost) {
    host.addController(this);
  }

  hostConnected(): void {
    window.addEventListener('keydown', this.onKeydown);
  }

  hostDisconnected(): void {
    window.removeEventListener('keydown', this.onKeydown);
  }

  hostUpdate(): void {
    // Read again for each conversation opened: agents and teams added since appear without a reload.
    const key = `${this.host.token} ${this.host.conversationId}`;
    if (this.host.token && this.loadedFor !== key) {
      this.loadedFor = key;
      void this.loadChoices();
    }
  }

  get me(): string | undefined {
    return tokenUser(this.host.token);
  }

  private async loadChoices(): Promise<void> {
    const [users, teams, model] = await Promise.allSettled([
      this.host.hubApi<{ items: { id: string; name: string; role: string }[] }>('/users'),
      this.host.hubApi<{ items: { id: string; name: string }[] }>('/teams'),
      this.host.hubApi<{ categories: string[] }>('/ai/model'),
    ]);
    // A choice that could not be loaded only narrows the menus; the actions still work.
    if (users.status === 'fulfilled') this.users = users.value.items.filter((u) => u.role !== 'viewer');
    if (teams.status === 'fulfilled') this.teams = teams.value.items;
    if (model.status === 'fulfilled') this.categories = model.value.categories;
    this.host.requestUpdate();
  }

  private async act(path: string, body: unknown): Promise<void> {
    const id = this.host.conversationId;
    if (!id || this.busy) return;
    this.busy = true;
    this.host.requestUpdate();
    try {
      await this.host.hubApi(`/${path.replace(':id', encodeURIComponent(id))}`, { method: 'POST', body });
      this.host.actionDone();
    } catch (err) {
      this.host.actionDone(err as Error);
    } finally {
      this.busy = false;
      this.host.requestUpdate();
    }
  }

  assign(to: { assigneeId?: string | null; teamId?: string | null }): Promise<void> {
    return this.act('conversations/:id/assign', to);
  }

  setStatus(status: 'open' | 'resolved' | 'snoozed', snoozedUntil?: Date): Promise<void> {
    return this.act('conversations/:id/status', { status, ...(snoozedUntil ? { snoozedUntil: snoozedUntil.toISOString() } : {}) });
  }

  setPriority(priority: string): Promise<void> {
    return this.act('conversations/:id/priority', { priority });
  }

  correctCategory(category: string): Promise<void> {
    return this.act('ai/conversations/:id/category', { category });
  }

  setTags(tags: string[]): Promise<void> {
    return this.act('conversations/:id/tags', { tags });
  }

  private field(name: string): HTMLElement | null | undefined {
    return this.host.shadowRoot?.querySelector<HTMLElement>(`[data-action="${name}"]`);
  }

  private readonly onKeydown = (e: KeyboardEvent): void => {
    if (!this.host.conversationId || e.ctrlKey || e.metaKey || e.altKey || !this.host.isConnected) return;
    const target = e.composedPath()[0] as HTMLElement | undefined;
    // Typing in any field (here or on the page) is text, never a shortcut.
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    const c = this.current;
    const run: Record<string, () => void> = {
      '?': () => {
        this.helpOpen = !this.helpOpen;
        this.host.requestUpdate();
      },
      a: () => void (this.me && this.assign({ assigneeId: this.me })),
      e: () => void (c && this.setStatus(c.status === 'resolved' ? 'open' : 'resolved')),
      s: () => this.field('snooze')?.focus(),
      p: () => this.field('priority')?.focus(),
      c: () => this.field('category')?.focus(),
      t: () => this.field('tags')?.focus(),
      r: () => this.host.focusReply(),
    };
    const action = run[e.key];
    if (!action) return;
    e.preventDefault();
    action();
  };

  current?: ConversationView;

  private onSnooze(e: Event): void {
    const select = e.target as HTMLSelectElement;
    const choice = select.value;
    select.value = '';
    if (choice === 'date') {
      this.pickingDate = true;
      this.host.requestUpdate();
      return;
    }
    const preset = snoozePresets().find((p) => p.key === choice);
    if (preset) void this.setStatus('snoozed', preset.until);
  }

  private onSnoozeDate(e: Event): void {
    e.preventDefault();
    const input = (e.target as HTMLFormElement).querySelector('input')!;
    const until = new Date(input.value);
    if (Number.isNaN(until.getTime()) || until.getTime() <= Date.now()) {
      this.host.actionDone(new Error('Choose a time in the future to snooze until.'));
      return;
    }
    this.pickingDate = false;
    void this.setStatus('snoozed', until);
  }

  private onTagsKeydown(e: KeyboardEvent): void {
    if (e.key !== 'Enter' && e.key !== ',') return;
    e.preventDefault();
    const input = e.target as HTMLInputElement;
    const tag = input.value.trim().toLowerCase();
    const tags = this.current?.tags ?? [];
    if (!tag || tags.includes(tag)) return void (input.value = '');
    input.value = '';
    void this.setTags([...tags, tag]);
  }

  render(c: ConversationView | undefined) {
    this.current = c;
    if (!c) return nothing;
    const me = this.me;
    const snoozedUntil = c.status === 'snoozed' && c.snoozedUntil ? new Date(c.snoozedUntil) : undefined;
    return html`<div class="toolbar" part="actions" role="toolbar" aria-label="Conversation actions">
      ${c.status === 'resolved' || c.status === 'snoozed'
        ? html`<button type="button" data-action="reopen" ?disabled=${this.busy} @click=${() => void this.setStatus('open')} aria-keyshortcuts="e">Reopen</button>`
        : html`<button type="button" data-action="resolve" ?disabled=${this.busy} @click=${() => void this.setStatus('resolved')} aria-keyshortcuts="e">Resolve</button>`}
      ${me && c.assigneeId !== me
        ? html`<button type="button" class="secondary" data-action="assign-me" ?disabled=${this.busy} @click=${() => void this.assign({ assigneeId: me })} aria-keyshortcuts="a">Assign to me</button>`
        : nothing}
      <label>Assignee
        <select data-action="assignee" ?disabled=${this.busy} @change=${(e: Event) => void this.assign({ assigneeId: (e.target as HTMLSelectElement).value || null })}>
          <option value="" ?selected=${!c.assigneeId}>Unassigned</option>
          ${this.users.map((u) => html`<option value=${u.id} ?selected=${u.id === c.assigneeId}>${u.id === me ? `${u.name} (me)` : u.name}</option>`)}
        </select>
      </label>
      ${this.teams.length ? html`<label>Team
        <select data-action="team" ?disabled=${this.busy} @change=${(e: Event) => void this.assign({ teamId: (e.target as HTMLSelectElement).value || null })}>
          <option value="" ?selected=${!c.teamId}>No team</option>
          ${this.teams.map((t) => html`<option value=${t.id} ?selected=${t.id === c.teamId}>${t.name}</option>`)}
        </select>
      </label>` : nothing}
      <label>Snooze
        <select data-action="snooze" ?disabled=${this.busy} aria-keyshortcuts="s" @change=${(e: Event) => this.onSnooze(e)}>
          <option value="">${snoozedUntil ? `Until ${snoozedUntil.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })}` : 'Snooze…'}</option>
          ${snoozePresets().map((p) => html`<option value=${p.key}>${p.label}</option>`)}
          <option value="date">Pick a date…</option>
        </select>
      </label>
      ${this.pickingDate ? html`<form class="snooze-date" @submit=${(e: Event) => this.onSnoozeDate(e)}>
        <label>Snooze until <input type="datetime-local" required></label>
        <button type="submit">Snooze</button>
        <button type="button" class="secondary" @click=${() => { this.pickingDate = false; this.host.requestUpdate(); }}>Cancel</button>
      </form>` : nothing}
      <label>Priority
        <select data-action="priority" ?disabled=${this.busy} aria-keyshortcuts="p" @change=${(e: Event) => void this.setPriority((e.target as HTMLSelectElement).value)}>
          ${['urgent', 'high', 'normal', 'low'].map((p) => html`<option value=${p} ?selected=${p === c.priority}>${p[0]!.toUpperCase() + p.slice(1)}</option>`)}
        </select>
      </label>
      ${this.categories.length ? html`<label>Category
        <select data-action="category" ?disabled=${this.busy} aria-keyshortcuts="c" title="Correcting the category teaches the AI" @change=${(e: Event) => void this.correctCategory((e.target as HTMLSelectElement).value)}>
          ${c.category && !this.categories.includes(c.category) ? html`<option value=${c.category} selected>${c.category}</option>` : nothing}
          ${c.category ? nothing : html`<option value="" selected disabled>—</option>`}
          ${this.categories.map((name) => html`<option value=${name} ?selected=${name === c.category}>${name}</option>`)}
        </select>
      </label>` : nothing}
      <div class="tags" role="group" aria-label="Tags">
        ${(c.tags ?? []).map((tag) => html`<span class="badge tag">${tag}<button type="button" class="remove-tag" aria-label=${`Remove tag ${tag}`} @click=${() => void this.setTags((c.tags ?? []).filter((x) => x !== tag))}>×</button></span>`)}
        <label class="sr-only" for="add-tag">Add a tag</label>
        <input id="add-tag" data-action="tags" size="8" placeholder="+ tag" aria-keyshortcuts="t" @keydown=${(e: KeyboardEvent) => this.onTagsKeydown(e)}>
      </div>
      <button type="button" class="secondary help" aria-expanded=${String(this.helpOpen)} aria-controls="shortcuts" title="Keyboard shortcuts (?)" @click=${() => { this.helpOpen = !this.helpOpen; this.host.requestUpdate(); }}>?</button>
    </div>
    ${this.helpOpen ? html`<section id="shortcuts" class="shortcuts" part="shortcuts" aria-label="Keyboard shortcuts">
      <dl>${SHORTCUTS.map((s) => html`<dt><kbd>${s.key}</kbd></dt><dd>${s.label}</dd>`)}</dl>
    </section>` : nothing}`;
  }
}
