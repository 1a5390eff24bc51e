import { css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { state } from 'lit/decorators.js';
import { unsafeHTML } from 'lit/directives/unsafe-html.js';
import { AdminElement, failureOf, type Failure } from './admin-element.js';
import { adminStyles } from './admin.styles.js';
import type { FieldErrors } from './channel-forms.js';
import { renderMarkdown } from './markdown.js';

interface Article { id: string; title: string; body: string; language: string; tags: string[]; status: 'published' | 'draft'; variantGroup: string; updatedAt: string }
/** The editor's text; `variantOf` names the article a new language variant is made from. */
interface Draft { id?: string; variantOf?: { id: string; title: string }; title: string; body: string; language: string; tags: string }
interface ImportStatus { id: string; state: 'queued' | 'running' | 'done' | 'failed'; total: number; done: number; created: number; updated: number; error: { code: string; message: string } | null }
interface Cited { articleId: string; title: string; language: string; status: 'published' | 'draft'; drafts: number; sent: number }

const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z0-9]+)?$/;
const empty = (): Draft => ({ title: '', body: '', language: 'en', tags: '' });
const IMPORT_MAX = 500;
const IMPORT_POLL_MS = 1000;

/** The articles of an import file: a JSON list, or `{ "articles": [...] }` as `POST /kb/import` takes it; else why not. */
export function importArticles(text: string): { articles: Record<string, unknown>[] } | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { error: 'The file is not JSON.' };
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { articles?: unknown } | null)?.articles;
  if (!Array.isArray(list) || !list.length) return { error: 'The file holds no articles: a JSON list of {"title", "body"} objects is expected.' };
  if (list.length > IMPORT_MAX) return { error: `At most ${IMPORT_MAX} articles per import; this file has ${list.length}.` };
  const bad = list.findIndex((a) => !a || typeof a !== 'object' || typeof a.title !== 'string' || !a.title.trim() || typeof a.body !== 'string' || !a.body.trim());
  if (bad >= 0) return { error: `Article ${bad + 1} needs a "title" and a "body".` };
  return { articles: list as Record<string, unknown>[] };
}

/**
 * The admin console's knowledge base: the articles drafts are grounded in, searchable by title and tag,
 * an editor with a sanitised Markdown preview, language variants of one article, publish / unpublish,
 * an import with its progress, and which articles the AI's drafts cite most.
 *
 * @tag hummdesk-admin-kb
 * @csspart list - the table of articles
 * @csspart editor - the article form
 * @csspart preview - the rendered Markdown
 * @csspart import - the import form and its progress
 * @csspart cited - the articles drafts cite most
 * @fires hummdesk-auth-expired - the access token was refused: set a fresh `token`
 */
export class HummdeskAdminKb extends AdminElement {
  static override styles = [
    adminStyles,
    css`
      .editor { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 0.75rem; }
      .editor textarea { inline-size: 100%; min-block-size: 16rem; font-family: ui-monospace, monospace; }
      [part='preview'] { border: 1px solid var(--_border); border-radius: calc(var(--_radius) / 2); padding: 0 0.75rem; overflow-wrap: anywhere; }
      .filters { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: end; }
      button.link { background: none; border: none; padding: 0; color: var(--_accent); text-decoration: underline; font: inherit; cursor: pointer; }
      .import-progress { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; margin-block: 0.5rem; }
      .import-progress progress { inline-size: min(20rem, 100%); }
      @media (max-width: 700px) { .editor { grid-template-columns: 1fr; } }
    `,
  ];

  @state() private articles: Article[] = [];
  @state() private nextCursor: string | null = null;
  @state() private loadFailure: Failure | null = null;
  @state() private query = '';
  @state() private statusFilter: '' | 'published' | 'draft' = '';
  @state() private editing: Draft | null = null;
  @state() private fieldErrors: FieldErrors = {};
  @state() private saveFailure: Failure | null = null;
  @state() private busy = false;
  @state() private rowNotice = new Map<string, { ok: boolean; text: string }>();
  @state() private importError = '';
  @state() private importFailure: Failure | null = null;
  @state() private importing: ImportStatus | null = null;
  @state() private citedDays = 30;
  @state() private cited: Cited[] | null = null;
  @state() private citedFailure: Failure | null = null;
  private importTimer: ReturnType<typeof setTimeout> | undefined;

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    if ((changed.has('token') || changed.has('hub')) && this.token) {
      void this.load();
      void this.loadCited();
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.importTimer);
  }

  async loadCited(): Promise<void> {
    try {
      this.cited = (await this.api<{ items: Cited[] }>(`/kb/cited?days=${this.citedDays}&limit=10`)).items;
      this.citedFailure = null;
    } catch (err) {
      this.citedFailure = failureOf(err);
    }
  }

  async load(more = false): Promise<void> {
    try {
      const page = await this.api<{ items: Article[]; nextCursor: string | null }>(`/kb/articles?limit=100${more && this.nextCursor ? `&cursor=${encodeURIComponent(this.nextCursor)}` : ''}`);
      this.articles = more ? [...this.articles, ...page.items] : page.items;
      this.nextCursor = page.nextCursor;
      this.loadFailure = null;
    } catch (err) {
      this.loadFailure = failureOf(err);
    }
  }

  private get shown(): Article[] {
    const q = this.query.trim().toLowerCase();
    return this.articles.filter((a) =>
      (!this.statusFilter || a.status === this.statusFilter) &&
      (!q || a.title.toLowerCase().includes(q) || a.tags.some((t) => t.toLowerCase().includes(q)) || a.body.toLowerCase().includes(q)));
  }

  protected override render(): TemplateResult {
    return html`
      <h2 id="kb-title">Knowledge base</h2>
      ${this.loadFailure ? html`<div class="notice error" role="alert">Articles could not be loaded: ${this.loadFailure.message} <code>${this.loadFailure.code}</code></div>` : nothing}
      <div class="filters">
        <div class="field"><label for="kb-query">Search articles</label>
          <input id="kb-query" type="search" .value=${this.query} @input=${(e: Event) => (this.query = (e.target as HTMLInputElement).value)}></div>
        <div class="field"><label for="kb-status">Status</label>
          <select id="kb-status" @change=${(e: Event) => (this.statusFilter = (e.target as HTMLSelectElement).value as '' | 'published' | 'draft')}>
            <option value="">All</option><option value="published">Published</option><option value="draft">Drafts</option>
          </select></div>
        <button type="button" data-action="new-article" @click=${() => this.edit()}>New article</button>
      </div>
      ${this.editing ? this.renderEditor(this.editing) : nothing}
      ${this.renderList()}
      ${this.nextCursor ? html`<div class="actions"><button type="button" class="secondary" @click=${() => this.load(true)}>Load more</button></div>` : nothing}
      ${this.renderImport()}
      ${this.renderCited()}
    `;
  }

  private renderImport(): TemplateResult {
    const job = this.importing;
    const running = job && (job.state === 'queued' || job.state === 'running');
    return html`
      <form part="import" novalidate aria-labelledby="import-title" @submit=${this.startImport}>
        <h3 id="import-title">Import articles</h3>
        <div class="field"><label for="import-file">Articles file (JSON)</label>
          <input id="import-file" type="file" accept="application/json,.json" aria-invalid=${this.importError ? 'true' : 'false'} aria-describedby="import-file-hint import-file-error"
            @change=${() => (this.importError = '')}>
          <span id="import-file-hint" class="hint">A list of up to ${IMPORT_MAX} articles, e.g. [{"title": "Returns", "body": "Markdown…", "language": "en", "externalId": "help-12"}]. An article whose externalId is already here is updated.</span>
          <span id="import-file-error" class="field-error">${this.importError}</span></div>
        ${this.importFailure ? html`<div class="notice error" role="alert" data-code=${this.importFailure.code}>Not imported: ${this.importFailure.message} <code>${this.importFailure.code}</code></div>` : nothing}
        ${job ? html`<div class="import-progress" data-state=${job.state}>
          <progress id="import-progress" max=${job.total || 1} .value=${job.done} aria-label="Articles imported"></progress>
          <span role="status">${job.state === 'done'
            ? `Imported ${job.done} of ${job.total}: ${job.created} new, ${job.updated} updated.`
            : job.state === 'failed'
              ? `Import stopped after ${job.done} of ${job.total}: ${job.error?.message ?? 'failed'} (${job.error?.code ?? 'failed'})`
              : `${job.state === 'queued' ? 'Waiting to start' : 'Importing'}: ${job.done} of ${job.total} articles${job.error ? ` (retrying: ${job.error.message})` : ''}…`}</span>
        </div>` : nothing}
        <div class="actions"><button type="submit" data-action="import" ?disabled=${running}>Import</button></div>
      </form>`;
  }

  private async startImport(e: Event): Promise<void> {
    e.preventDefault();
    const input = this.renderRoot.querySelector<HTMLInputElement>('#import-file')!;
    const file = input.files?.[0];
    this.importFailure = null;
    const parsed = file ? importArticles(await file.text()) : { error: 'Choose a JSON file of articles.' };
    if ('error' in parsed) {
      this.importError = parsed.error;
      void this.updateComplete.then(() => input.focus());
      return;
    }
    this.importError = '';
    try {
      this.importing = await this.api<ImportStatus>('/kb/import', { method: 'POST', body: { articles: parsed.articles } });
      this.followImport();
    } catch (err) {
      this.importFailure = failureOf(err);
    }
  }

  /** Polls the import's progress until it ends, then shows the new articles. */
  private followImport(): void {
    clearTimeout(this.importTimer);
    this.importTimer = setTimeout(async () => {
      const job = this.importing;
      if (!job || !this.isConnected) return;
      try {
        this.importing = await this.api<ImportStatus>(`/kb/imports/${job.id}`);
      } catch (err) {
        this.importFailure = failureOf(err);
        return;
      }
      if (this.importing.state === 'queued' || this.importing.state === 'running') return this.followImport();
      await this.load();
      await this.loadCited();
    }, IMPORT_POLL_MS);
  }

  private renderCited(): TemplateResult {
    return html`
      <section part="cited" aria-labelledby="cited-title">
        <h3 id="cited-title">Most cited by drafts</h3>
        <div class="filters">
          <div class="field"><label for="cited-days">Period</label>
            <select id="cited-days" @change=${(e: Event) => { this.citedDays = Number((e.target as HTMLSelectElement).value); void this.loadCited(); }}>
              ${[7, 30, 90, 365].map((d) => html`<option value=${d} ?selected=${d === this.citedDays}>Last ${d} days</option>`)}
            </select></div>
        </div>
        ${this.citedFailure ? html`<div class="notice error" role="alert">Not loaded: ${this.citedFailure.message} <code>${this.citedFailure.code}</code></div>` : nothing}
        ${this.cited && !this.cited.length ? html`<p class="muted">No draft cited an article in this period.</p>` : nothing}
        ${this.cited?.length ? html`
          <table aria-labelledby="cited-title">
            <thead><tr><th scope="col">Article</th><th scope="col">Language</th><th scope="col">Drafts citing it</th><th scope="col">Sent by agents</th></tr></thead>
            <tbody>${this.cited.map((c) => html`<tr data-id=${c.articleId}><td>${c.title}${c.status === 'draft' ? html` <span class="badge state-disabled">Draft</span>` : nothing}</td><td>${c.language}</td><td data-count="drafts">${c.drafts}</td><td data-count="sent">${c.sent}</td></tr>`)}</tbody>
          </table>` : nothing}
      </section>`;
  }

  private renderList(): TemplateResult {
    const rows = this.shown;
    return html`
      <p class="muted" role="status">${rows.length} of ${this.articles.length} articles${this.nextCursor ? ' loaded' : ''}</p>
      <table part="list" aria-labelledby="kb-title">
        <thead><tr><th scope="col">Title</th><th scope="col">Language</th><th scope="col">Also in</th><th scope="col">Tags</th><th scope="col">Status</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          ${rows.map((a) => {
            const notice = this.rowNotice.get(a.id);
            return html`
              <tr data-id=${a.id}>
                <td>${a.title}</td><td>${a.language}</td>
                <td data-variants>${this.variantsOf(a).map((v, i) => html`${i ? ', ' : ''}<button type="button" class="link" data-action="edit-variant" data-language=${v.language} @click=${() => this.edit(v)}>${v.language}<span class="sr-only"> version of ${a.title}</span></button>`)}</td>
                <td>${a.tags.join(', ')}</td>
                <td><span class="badge ${a.status === 'published' ? 'state-active' : 'state-disabled'}" data-status=${a.status}>${a.status === 'published' ? 'Published' : 'Draft'}</span>
                  ${notice ? html`<div class="notice ${notice.ok ? 'ok' : 'error'}" role="status">${notice.text}</div>` : nothing}</td>
                <td class="actions">
                  <button type="button" class="secondary" data-action="edit" @click=${() => this.edit(a)}>Edit<span class="sr-only"> ${a.title}</span></button>
                  <button type="button" class="secondary" data-action="add-variant" @click=${() => this.addVariant(a)}>Add language<span class="sr-only"> to ${a.title}</span></button>
                  <button type="button" class="secondary" data-action=${a.status === 'published' ? 'unpublish' : 'publish'} ?disabled=${this.busy} @click=${() => this.setStatus(a, a.status === 'published' ? 'draft' : 'published')}>
                    ${a.status === 'published' ? 'Unpublish' : 'Publish'}<span class="sr-only"> ${a.title}</span></button>
                </td>
              </tr>`;
          })}
        </tbody>
      </table>`;
  }

  /** The article's other language variants among the loaded articles. */
  private variantsOf(a: Article): Article[] {
    return this.articles.filter((x) => x.variantGroup === a.variantGroup && x.id !== a.id).sort((x, y) => x.language.localeCompare(y.language));
  }

  /** A new language variant starts from the article's text, to be translated. */
  private addVariant(a: Article): void {
    this.editing = { variantOf: { id: a.id, title: a.title }, title: a.title, body: a.body, language: '', tags: a.tags.join(', ') };
    this.fieldErrors = {};
    this.saveFailure = null;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLInputElement>('#article-language')?.focus());
  }

  private edit(a?: Article): void {
    // An open editor with unsaved text is kept when the same article is chosen again.
    if (this.editing && this.editing.id === a?.id && !this.editing.variantOf) return;
    this.editing = a ? { id: a.id, title: a.title, body: a.body, language: a.language, tags: a.tags.join(', ') } : empty();
    this.fieldErrors = {};
    this.saveFailure = null;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLInputElement>('#article-title')?.focus());
  }

  private renderEditor(d: Draft): TemplateResult {
    const set = (k: keyof Draft) => (e: Event) => (this.editing = { ...this.editing!, [k]: (e.target as HTMLInputElement).value });
    const err = (id: string) => this.fieldErrors[id] ?? '';
    return html`
      <form part="editor" novalidate aria-labelledby="editor-title" @submit=${(e: Event) => this.save(e, undefined)}>
        <h3 id="editor-title">${d.id ? 'Edit article' : d.variantOf ? html`New language version of "${d.variantOf.title}"` : 'New article'}</h3>
        <div class="row">
          <div class="field"><label for="article-title">Title</label>
            <input id="article-title" .value=${d.title} aria-invalid=${err('article-title') ? 'true' : 'false'} aria-describedby="article-title-error" @input=${set('title')}>
            <span id="article-title-error" class="field-error">${err('article-title')}</span></div>
          <div class="field"><label for="article-language">Language</label>
            <input id="article-language" .value=${d.language} aria-invalid=${err('article-language') ? 'true' : 'false'} aria-describedby="article-language-hint article-language-error" @input=${set('language')}>
            <span id="article-language-hint" class="hint">A language code such as en, fi or pt-BR.</span>
            <span id="article-language-error" class="field-error">${err('article-language')}</span></div>
          <div class="field"><label for="article-tags">Tags</label>
            <input id="article-tags" .value=${d.tags} aria-describedby="article-tags-hint" @input=${set('tags')}>
            <span id="article-tags-hint" class="hint">Separated by commas.</span></div>
        </div>
        <div class="editor">
          <div class="field" style="max-inline-size:none"><label for="article-body">Text (Markdown)</label>
            <textarea id="article-body" .value=${d.body} aria-invalid=${err('article-body') ? 'true' : 'false'} aria-describedby="article-body-error" @input=${set('body')}></textarea>
            <span id="article-body-error" class="field-error">${err('article-body')}</span></div>
          <section part="preview" aria-label="Preview">${unsafeHTML(renderMarkdown(d.body))}</section>
        </div>
        ${this.saveFailure ? html`<div class="notice error" role="alert" data-code=${this.saveFailure.code}>Not saved: ${this.saveFailure.message} <code>${this.saveFailure.code}</code></div>` : nothing}
        <div class="actions">
          <button type="submit" data-action="save-draft" ?disabled=${this.busy} @click=${(e: Event) => this.save(e, 'draft')}>Save as draft</button>
          <button type="submit" data-action="save-publish" ?disabled=${this.busy} @click=${(e: Event) => this.save(e, 'published')}>Save and publish</button>
          <button type="button" class="secondary" @click=${() => (this.editing = null)}>Close</button>
          ${this.busy ? html`<span class="muted" role="status">Saving…</span>` : nothing}
        </div>
      </form>`;
  }

  private async save(e: Event, status: 'draft' | 'published' | undefined): Promise<void> {
    e.preventDefault();
    e.stopPropagation();
    const d = this.editing!;
    const errors: FieldErrors = {};
    if (!d.title.trim()) errors['article-title'] = 'Give the article a title.';
    if (!d.body.trim()) errors['article-body'] = 'Write the article\'s text.';
    if (!LANGUAGE.test(d.language.trim())) errors['article-language'] = 'Use a language code such as en, fi or pt-BR.';
    this.fieldErrors = errors;
    this.saveFailure = null;
    if (Object.keys(errors).length) {
      void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
      return;
    }
    const body = {
      title: d.title.trim(), body: d.body, language: d.language.trim(),
      tags: [...new Set(d.tags.split(',').map((t) => t.trim()).filter(Boolean))],
      ...(status ? { status } : {}),
    };
    this.busy = true;
    try {
      const saved = d.id
        ? await this.api<Article>(`/kb/articles/${d.id}`, { method: 'PATCH', body })
        : d.variantOf
          ? await this.api<Article>(`/kb/articles/${d.variantOf.id}/variants`, { method: 'POST', body })
          : await this.api<Article>('/kb/articles', { method: 'POST', body });
      this.editing = null;
      await this.load();
      this.rowNotice = new Map(this.rowNotice).set(saved.id, { ok: true, text: saved.status === 'published' ? 'Saved and published.' : 'Saved as a draft.' });
      // The editor is gone: keyboard users go on from the saved article's row, not from the top of the page.
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLElement>(`tr[data-id="${saved.id}"] [data-action=edit]`)?.focus();
    } catch (err) {
      this.saveFailure = failureOf(err);
    } finally {
      this.busy = false;
    }
  }

  private async setStatus(a: Article, status: 'draft' | 'published'): Promise<void> {
    this.busy = true;
    try {
      const saved = await this.api<Article>(`/kb/articles/${a.id}`, { method: 'PATCH', body: { status } });
      this.articles = this.articles.map((x) => (x.id === a.id ? saved : x));
      this.rowNotice = new Map(this.rowNotice).set(a.id, { ok: true, text: status === 'published' ? 'Published.' : 'Unpublished: drafts no longer cite it.' });
    } catch (err) {
      const f = failureOf(err);
      this.rowNotice = new Map(this.rowNotice).set(a.id, { ok: false, text: `${f.message} (${f.code})` });
    } finally {
      this.busy = false;
    }
  }
}
