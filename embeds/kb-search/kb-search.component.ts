import { html, nothing } from 'lit';
import { property, state } from 'lit/decorators.js';
import { AgentElement } from '../shared/agent-element.js';
import { emit } from '../shared/emit.js';
import { safeHttpUrl } from '../shared/safe-url.js';
import { kbSearchStyles } from './kb-search.styles.js';

/** One passage found by `GET /api/v1/kb/search`. */
export interface KbHit {
  chunkId: string;
  articleId: string;
  title: string;
  heading: string | null;
  text: string;
  language: string;
  url: string | null;
  score: number;
}

declare global {
  interface GlobalEventHandlersEventMap {
    /** An agent chose a passage in `<hummdesk-kb-search>` (for example to quote it in a reply). */
    'hummdesk-kb-select': CustomEvent<{ hit: KbHit }>;
  }
}

const SNIPPET = 280;

/** One article found by the public help center search, `GET /webchat/:widgetId/kb/search`. */
interface HelpHit {
  title: string;
  snippet: string;
  url: string | null;
}

/**
 * Knowledge-base search with snippets. For agents (with `token`), each hit has a "Use" button that
 * fires `hummdesk-kb-select`. With `widget-id` instead of a token it is a customer's help center
 * search: no login, the published articles of that web chat channel's account, no "Use" button.
 *
 * @fires hummdesk-kb-select - `detail.hit`
 * @fires hummdesk-auth-expired - the embed token was refused; set a fresh `token`
 *
 * @csspart results - the result list
 * @csspart hit - one passage
 *
 * @tag hummdesk-kb-search
 */
export class HummdeskKbSearch extends AgentElement {
  static override styles = kbSearchStyles;

  /** The query; setting it searches. */
  @property() q = '';
  /** Restrict to one language (en, fi, sv…). */
  @property() language = '';
  /** How many passages to show. */
  @property({ type: Number }) limit = 5;
  /** Public help center mode: the widget id of a web chat channel, used instead of `token`. */
  @property({ attribute: 'widget-id' }) widgetId = '';

  @state() private hits: KbHit[] = [];
  @state() private searched = false;
  @state() private error = '';
  private seq = 0;

  /** Searches for `q` now. */
  async search(q = this.q): Promise<void> {
    this.q = q;
    if ((!this.token && !this.widgetId) || !q.trim()) return;
    const seq = ++this.seq;
    const params = new URLSearchParams({ q, limit: String(Math.min(this.limit, this.widgetId ? 10 : 50)) });
    if (this.language) params.set('language', this.language);
    try {
      const items = this.widgetId ? await this.searchPublic(params) : (await this.api<{ items: KbHit[] }>(`/kb/search?${params}`)).items;
      if (seq !== this.seq) return;
      this.hits = items;
      this.searched = true;
      this.error = '';
    } catch (err) {
      if (seq === this.seq) this.error = (err as Error).message;
    }
  }

  private async searchPublic(params: URLSearchParams): Promise<KbHit[]> {
    const res = await fetch(`${this.base}/webchat/${encodeURIComponent(this.widgetId)}/kb/search?${params}`);
    if (!res.ok) throw new Error(res.status === 429 ? 'Too many searches; try again in a minute.' : `Search failed (HTTP ${res.status})`);
    const { items } = (await res.json()) as { items: HelpHit[] };
    return items.map((h, i) => ({ chunkId: String(i), articleId: '', title: h.title, heading: null, text: h.snippet, language: this.language, url: h.url, score: 0 }));
  }

  protected hubEvent(): void {
    /* articles do not change on the conversation stream */
  }

  private onSubmit(e: Event): void {
    e.preventDefault();
    const input = (e.target as HTMLFormElement).elements.namedItem('q') as HTMLInputElement;
    void this.search(input.value);
  }

  protected override render() {
    return html`
      <form role="search" aria-label="Knowledge base" @submit=${this.onSubmit}>
        <label class="sr-only" for="q">Search the knowledge base</label>
        <input id="q" name="q" type="search" .value=${this.q} placeholder="Search the knowledge base…">
        <button type="submit">Search</button>
      </form>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      <div role="status" aria-live="polite" class="sr-only">${this.searched ? `${this.hits.length} results` : ''}</div>
      ${this.searched && !this.hits.length ? html`<p class="empty">Nothing found.</p>` : nothing}
      <ul part="results">
        ${this.hits.map((h) => {
          const href = safeHttpUrl(h.url);
          const snippet = h.text.length > SNIPPET ? `${h.text.slice(0, SNIPPET)}…` : h.text;
          return html`<li part="hit">
            <div class="title">${href ? html`<a href=${href} target="_blank" rel="noopener noreferrer">${h.title}</a>` : h.title}</div>
            ${h.heading ? html`<div class="heading">${h.heading}</div>` : nothing}
            <p class="snippet">${snippet}</p>
            ${this.widgetId ? nothing : html`<button type="button" class="secondary" @click=${() => emit(this, 'hummdesk-kb-select', { hit: h })}>Use</button>`}
          </li>`;
        })}
      </ul>`;
  }
}
