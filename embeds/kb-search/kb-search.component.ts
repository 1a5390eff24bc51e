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

/**
 * Knowledge-base search with snippets. Each hit has a "Use" button that fires `hummdesk-kb-select`.
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

  @state() private hits: KbHit[] = [];
  @state() private searched = false;
  @state() private error = '';
  private seq = 0;

  /** Searches for `q` now. */
  async search(q = this.q): Promise<void> {
    this.q = q;
    if (!this.token || !q.trim()) return;
    const seq = ++this.seq;
    const params = new URLSearchParams({ q, limit: String(this.limit) });
    if (this.language) params.set('language', this.language);
    try {
      const { items } = await this.api<{ items: KbHit[] }>(`/kb/search?${params}`);
      if (seq !== this.seq) return;
      this.hits = items;
      this.searched = true;
      this.error = '';
    } catch (err) {
      if (seq === this.seq) this.error = (err as Error).message;
    }
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
            <button type="button" class="secondary" @click=${() => emit(this, 'hummdesk-kb-select', { hit: h })}>Use</button>
          </li>`;
        })}
      </ul>`;
  }
}
