import { css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { state } from 'lit/decorators.js';
import { unsafeHTML } from 'lit/directives/unsafe-html.js';
import { AdminElement, failureOf, type Failure } from './admin-element.js';
import { adminStyles } from './admin.styles.js';
import type { FieldErrors } from './channel-forms.js';
import { renderMarkdown } from './markdown.js';

interface Article { id: string; title: string; body: string; language: string; tags: string[]; status: 'published' | 'draft'; updatedAt: string }
interface Draft { id?: string; title: string; body: string; language: string; tags: string }

const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z0-9]+)?$/;
const empty = (): Draft => ({ title: '', body: '', language: 'en', tags: '' });

/**
 * The admin console's knowledge base: the articles drafts are grounded in, searchable by title and tag,
 * an editor with a sanitised Markdown preview, and publish / unpublish.
 *
 * @tag hummdesk-admin-kb
 * @csspart list - the table of articles
 * @csspart editor - the article form
 * @csspart preview - the rendered Markdown
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

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    if ((changed.has('token') || changed.has('hub')) && this.token) void this.load();
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
    `;
  }

  private renderList(): TemplateResult {
    const rows = this.shown;
    return html`
      <p class="muted" role="status">${rows.length} of ${this.articles.length} articles${this.nextCursor ? ' loaded' : ''}</p>
      <table part="list" aria-labelledby="kb-title">
        <thead><tr><th scope="col">Title</th><th scope="col">Language</th><th scope="col">Tags</th><th scope="col">Status</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          ${rows.map((a) => {
            const notice = this.rowNotice.get(a.id);
            return html`
              <tr data-id=${a.id}>
                <td>${a.title}</td><td>${a.language}</td><td>${a.tags.join(', ')}</td>
                <td><span class="badge ${a.status === 'published' ? 'state-active' : 'state-disabled'}" data-status=${a.status}>${a.status === 'published' ? 'Published' : 'Draft'}</span>
                  ${notice ? html`<div class="notice ${notice.ok ? 'ok' : 'error'}" role="status">${notice.text}</div>` : nothing}</td>
                <td class="actions">
                  <button type="button" class="secondary" data-action="edit" @click=${() => this.edit(a)}>Edit<span class="sr-only"> ${a.title}</span></button>
                  <button type="button" class="secondary" data-action=${a.status === 'published' ? 'unpublish' : 'publish'} ?disabled=${this.busy} @click=${() => this.setStatus(a, a.status === 'published' ? 'draft' : 'published')}>
                    ${a.status === 'published' ? 'Unpublish' : 'Publish'}<span class="sr-only"> ${a.title}</span></button>
                </td>
              </tr>`;
          })}
        </tbody>
      </table>`;
  }

  private edit(a?: Article): void {
    // An open editor with unsaved text is kept when the same article is chosen again.
    if (this.editing && this.editing.id === a?.id) return;
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
        <h3 id="editor-title">${d.id ? 'Edit article' : 'New article'}</h3>
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
        : await this.api<Article>('/kb/articles', { method: 'POST', body });
      this.editing = null;
      await this.load();
      this.rowNotice = new Map(this.rowNotice).set(saved.id, { ok: true, text: saved.status === 'published' ? 'Saved and published.' : 'Saved as a draft.' });
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
