import { html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { state } from 'lit/decorators.js';
import { AdminElement, failureOf, type Failure } from './admin-element.js';
import { adminStyles } from './admin.styles.js';

interface Stats {
  days: number; drafts: number; decided: number; accepted: number; edited: number; rejected: number;
  acceptanceRate: number | null; unchangedRate: number | null; meanEditDistance: number | null;
  byCategory: Record<string, { decided: number; acceptanceRate: number | null }>;
}
interface Model { categories: string[]; trainedAt: string; examples: number }

const percent = (r: number | null) => (r === null ? '—' : `${Math.round(r * 100)} %`);

/**
 * The admin console's AI figures: how agents use the drafts (acceptance, edits) over a period, per
 * category, and the account's category model. Read-only: the hub has no settings route for the AI yet.
 *
 * @tag hummdesk-admin-ai
 * @csspart figures - the draft figures
 * @csspart categories - the per-category table
 * @fires hummdesk-auth-expired - the access token was refused: set a fresh `token`
 */
export class HummdeskAdminAi extends AdminElement {
  static override styles = adminStyles;

  @state() private days = 30;
  @state() private stats: Stats | null = null;
  @state() private model: Model | null = null;
  @state() private failure: Failure | null = null;
  @state() private modelFailure: Failure | null = null;

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    if ((changed.has('token') || changed.has('hub')) && this.token) void this.load();
  }

  async load(): Promise<void> {
    try {
      this.stats = await this.api<Stats>(`/ai/stats?days=${this.days}`);
      this.failure = null;
    } catch (err) {
      this.failure = failureOf(err);
    }
    try {
      this.model = await this.api<Model>('/ai/model');
      this.modelFailure = null;
    } catch (err) {
      this.modelFailure = failureOf(err);
    }
  }

  protected override render(): TemplateResult {
    const s = this.stats;
    return html`
      <h2 id="ai-title">AI drafts</h2>
      <div class="field inline">
        <label for="ai-days">Period</label>
        <select id="ai-days" @change=${(e: Event) => ((this.days = Number((e.target as HTMLSelectElement).value)), void this.load())}>
          ${[7, 30, 90, 365].map((d) => html`<option value=${d} ?selected=${d === this.days}>Last ${d} days</option>`)}
        </select>
      </div>
      ${this.failure ? html`<div class="notice error" role="alert" data-code=${this.failure.code}>${this.failure.message} <code>${this.failure.code}</code></div>` : nothing}
      ${s ? html`
        <table part="figures" aria-labelledby="ai-title">
          <tbody>
            <tr><th scope="row">Drafts proposed</th><td data-figure="drafts">${s.drafts}</td></tr>
            <tr><th scope="row">Decided by an agent</th><td data-figure="decided">${s.decided} (${s.accepted} sent as is, ${s.edited} edited, ${s.rejected} rejected)</td></tr>
            <tr><th scope="row">Acceptance (sent, edited or not)</th><td data-figure="acceptance">${percent(s.acceptanceRate)}</td></tr>
            <tr><th scope="row">Sent unchanged</th><td data-figure="unchanged">${percent(s.unchangedRate)}</td></tr>
            <tr><th scope="row">Mean edit of edited drafts</th><td data-figure="edit">${s.meanEditDistance === null ? '—' : `${Math.round(s.meanEditDistance * 100)} % rewritten`}</td></tr>
          </tbody>
        </table>
        <h3 id="by-category">By category</h3>
        ${Object.keys(s.byCategory).length ? html`
          <table part="categories" aria-labelledby="by-category">
            <thead><tr><th scope="col">Category</th><th scope="col">Decided</th><th scope="col">Acceptance</th></tr></thead>
            <tbody>${Object.entries(s.byCategory).map(([c, v]) => html`<tr data-category=${c}><td>${c}</td><td>${v.decided}</td><td>${percent(v.acceptanceRate)}</td></tr>`)}</tbody>
          </table>` : html`<p class="muted">No decided drafts in this period.</p>`}` : nothing}
      <h3 id="model-title">Categories</h3>
      ${this.model ? html`<p>${this.model.categories.join(', ')} <span class="muted">(${this.model.examples} examples, trained ${new Date(this.model.trainedAt).toLocaleString()})</span></p>` : nothing}
      ${this.modelFailure ? html`<p class="muted" data-code=${this.modelFailure.code}>The category model is not available on this hub: ${this.modelFailure.message} (${this.modelFailure.code})</p>` : nothing}
    `;
  }
}
