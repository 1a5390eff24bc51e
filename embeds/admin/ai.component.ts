import { html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { state } from 'lit/decorators.js';
import { AdminElement, failureOf, type Failure } from './admin-element.js';
import { adminStyles } from './admin.styles.js';

interface Stats {
  days: number; drafts: number; decided: number; accepted: number; edited: number; rejected: number;
  acceptanceRate: number | null; unchangedRate: number | null; meanEditDistance: number | null;
  byCategory: Record<string, { decided: number; acceptanceRate: number | null }>;
  /** Conversations the AI classified in the period, and how many kept its category (no agent corrected it). */
  categoryAccuracy: KeptFigure & { byCategory: Record<string, KeptFigure> };
}
interface KeptFigure { classified: number; kept: number; keptRate: number | null }
interface Model { categories: string[]; trainedAt: string; examples: number }
type ProviderName = 'local' | 'anthropic' | 'openai-compatible';
interface AutoSend { enabled: boolean; minConfidence: number | null; categories: string[] }
/** `GET /api/v1/ai/settings`. */
export interface AiSettings {
  provider: { chosen: ProviderName | null; model: string | null; effective: ProviderName; accountKey: boolean };
  providers: { name: ProviderName; configured: boolean; defaultModel: string | null }[];
  tenantKeys: boolean;
  operatorDefault: ProviderName;
  autoSend: AutoSend;
  categories: { name: string; builtIn: boolean; examples: number; corrections: number; samples: string[] }[];
}
/** What the settings form holds; kept as typed when a save fails. */
interface SettingsForm { provider: ProviderName | ''; model: string; apiKey: string; forgetKey: boolean; enabled: boolean; threshold: string; categories: string[] }

const percent = (r: number | null) => (r === null ? '—' : `${Math.round(r * 100)} %`);
/** "75 % (3 of 4 conversations)": how many classified conversations kept the AI's category. */
const keptText = (f: KeptFigure | undefined) => (f?.classified ? `${percent(f.keptRate)} (${f.kept} of ${f.classified} conversations)` : '—');
const PROVIDER_LABELS: Record<ProviderName, string> = { local: 'Local models (offline)', anthropic: 'Claude (Anthropic)', 'openai-compatible': 'OpenAI-compatible server' };
const MODEL_PATTERN = /^[A-Za-z0-9._:/@-]+$/;

/** The form's problems before anything is sent, by field id; empty when it may be saved. */
export function settingsProblems(f: SettingsForm): Record<string, string> {
  const problems: Record<string, string> = {};
  const remote = f.provider === 'anthropic' || f.provider === 'openai-compatible';
  if (remote && f.model && !MODEL_PATTERN.test(f.model.trim())) problems['ai-model'] = 'A model name has letters, digits and . _ : / @ - only.';
  if (f.apiKey && f.apiKey.trim().length < 8) problems['ai-key'] = 'That key is too short.';
  // A provider the hub holds no key for is labelled so in the list; the hub's refusal (provider_not_configured) says the rest.
  if (f.threshold.trim()) {
    const n = Number(f.threshold);
    if (!Number.isFinite(n) || n <= 0 || n > 100) problems['ai-threshold'] = 'The threshold is a percentage above 0 and at most 100.';
  } else if (f.enabled) problems['ai-threshold'] = 'Auto-send needs a confidence threshold.';
  if (f.enabled && f.categories.length === 0) problems['ai-categories'] = 'Choose at least one category that may be sent without review.';
  return problems;
}

/**
 * The admin console's AI screen: the account's provider (among those the operator allows, with its own
 * key where the operator takes tenant keys), the auto-send policy, the categories with their examples,
 * how often agents kept the category it gave, and how agents use the drafts (acceptance, edits), over a period, per category.
 *
 * @tag hummdesk-admin-ai
 * @csspart settings - the provider and auto-send form
 * @csspart figures - the category and draft figures
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
  @state() private settings: AiSettings | null = null;
  @state() private form: SettingsForm | null = null;
  @state() private problems: Record<string, string> = {};
  @state() private saveFailure: Failure | null = null;
  @state() private saved = false;
  @state() private busy = false;
  @state() private example = { category: '', text: '' };
  @state() private exampleProblem = '';
  @state() private exampleFailure: Failure | null = null;
  @state() private exampleAdded = '';

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    if ((changed.has('token') || changed.has('hub')) && this.token) void this.load();
  }

  private formOf(s: AiSettings): SettingsForm {
    return {
      provider: s.provider.chosen ?? '', model: s.provider.model ?? '', apiKey: '', forgetKey: false,
      enabled: s.autoSend.enabled, threshold: s.autoSend.minConfidence === null ? '' : String(Math.round(s.autoSend.minConfidence * 1000) / 10), categories: [...s.autoSend.categories],
    };
  }

  private async loadSettings(): Promise<void> {
    try {
      this.settings = await this.api<AiSettings>('/ai/settings');
      // A form being edited is not overwritten by a reload.
      this.form ??= this.formOf(this.settings);
      this.saveFailure = null;
    } catch (err) {
      this.saveFailure = failureOf(err);
    }
  }

  async load(): Promise<void> {
    await this.loadSettings();
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

  private edit(patch: Partial<SettingsForm>): void {
    this.form = { ...this.form!, ...patch };
    this.saved = false;
    if (Object.keys(this.problems).length) this.problems = settingsProblems(this.form);
  }

  private async save(e: Event): Promise<void> {
    e.preventDefault();
    const f = this.form!;
    const s = this.settings!;
    this.problems = settingsProblems(f);
    this.saved = false;
    const first = Object.keys(this.problems)[0];
    if (first) return void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`#${first}`)?.focus());
    const remote = f.provider === 'anthropic' || f.provider === 'openai-compatible';
    const body: Record<string, unknown> = {
      provider: f.provider || null,
      autoSend: { enabled: f.enabled, minConfidence: f.threshold.trim() ? Number(f.threshold) / 100 : null, categories: f.categories },
    };
    if (remote) body.model = f.model.trim() || null;
    if (remote && f.apiKey.trim()) body.apiKey = f.apiKey.trim();
    else if (f.forgetKey) body.apiKey = null;
    this.busy = true;
    try {
      this.settings = await this.api<AiSettings>('/ai/settings', { method: 'PATCH', body });
      this.form = this.formOf(this.settings);
      this.saveFailure = null;
      this.saved = true;
    } catch (err) {
      // The form keeps what the admin typed; only the error is new.
      this.saveFailure = failureOf(err);
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLElement>('#ai-save-error')?.focus();
    } finally {
      this.busy = false;
    }
  }

  private async addExample(e: Event): Promise<void> {
    e.preventDefault();
    const category = this.example.category.trim().toLowerCase();
    const text = this.example.text.trim();
    this.exampleProblem = !/^[a-z0-9][a-z0-9_-]{0,63}$/.test(category)
      ? 'A category is lower-case letters, digits, - and _ (e.g. returns).'
      : !text ? 'Write an example message a customer might send.' : '';
    this.exampleAdded = '';
    if (this.exampleProblem) return;
    try {
      await this.api('/ai/examples', { method: 'POST', body: { examples: [{ category, text }] } });
      this.example = { category: '', text: '' };
      this.exampleFailure = null;
      this.exampleAdded = category;
      await this.loadSettings();
    } catch (err) {
      this.exampleFailure = failureOf(err);
    }
  }

  private renderSettings(): TemplateResult | typeof nothing {
    const s = this.settings;
    const f = this.form;
    if (!s || !f) return nothing;
    const remote = f.provider === 'anthropic' || f.provider === 'openai-compatible';
    const chosen = s.providers.find((p) => p.name === f.provider);
    const error = (id: string) => html`<span id="${id}-error" class="field-error">${this.problems[id] ?? ''}</span>`;
    const invalid = (id: string) => (this.problems[id] ? 'true' : 'false');
    return html`
      <form part="settings" novalidate aria-labelledby="ai-settings-title" @submit=${this.save}>
        <h2 id="ai-settings-title">AI settings</h2>
        <p class="hint">In use now: <strong data-effective=${s.provider.effective}>${PROVIDER_LABELS[s.provider.effective]}</strong>${s.provider.model ? html` (${s.provider.model})` : nothing}.</p>
        <div class="field"><label for="ai-provider">Provider</label>
          <select id="ai-provider" aria-invalid=${invalid('ai-provider')} aria-describedby="ai-provider-error"
            @change=${(e: Event) => this.edit({ provider: (e.target as HTMLSelectElement).value as ProviderName | '', model: '', apiKey: '', forgetKey: false })}>
            <option value="" ?selected=${f.provider === ''}>The hub's default (${PROVIDER_LABELS[s.operatorDefault]})</option>
            ${s.providers.map((p) => html`<option value=${p.name} ?selected=${p.name === f.provider}>${PROVIDER_LABELS[p.name]}${p.configured ? '' : s.tenantKeys ? ' — needs your key' : ' — not configured on this hub'}</option>`)}
          </select>${error('ai-provider')}</div>
        ${remote ? html`
          <div class="field"><label for="ai-model">Model</label>
            <input id="ai-model" .value=${f.model} placeholder=${chosen?.defaultModel ?? ''} autocomplete="off" aria-invalid=${invalid('ai-model')} aria-describedby="ai-model-hint ai-model-error"
              @input=${(e: Event) => this.edit({ model: (e.target as HTMLInputElement).value })}>
            <span id="ai-model-hint" class="hint">Empty: the hub's default${chosen?.defaultModel ? ` (${chosen.defaultModel})` : ''}.</span>${error('ai-model')}</div>
          ${s.tenantKeys ? html`
            <div class="field"><label for="ai-key">The account's own API key</label>
              <input id="ai-key" type="password" .value=${f.apiKey} autocomplete="off" aria-invalid=${invalid('ai-key')} aria-describedby="ai-key-hint ai-key-error"
                @input=${(e: Event) => this.edit({ apiKey: (e.target as HTMLInputElement).value })}>
              <span id="ai-key-hint" class="hint">${s.provider.accountKey && s.provider.chosen === f.provider ? 'A key is stored (never shown again); type a new one to replace it.' : chosen?.configured ? 'Optional: the hub has its own.' : 'Needed: this hub holds no key for it.'}</span>${error('ai-key')}</div>
            ${s.provider.accountKey && s.provider.chosen === f.provider ? html`
              <div class="field inline"><input id="ai-forget-key" type="checkbox" .checked=${f.forgetKey} @change=${(e: Event) => this.edit({ forgetKey: (e.target as HTMLInputElement).checked })}>
                <label for="ai-forget-key">Forget the stored key</label></div>` : nothing}` : nothing}` : nothing}
        <fieldset>
          <legend>Auto-send</legend>
          <p class="hint">Drafts go to the customer without an agent only when every condition holds; negative or urgent messages always wait for an agent.</p>
          <div class="field inline"><input id="ai-autosend" type="checkbox" .checked=${f.enabled} @change=${(e: Event) => this.edit({ enabled: (e.target as HTMLInputElement).checked })}>
            <label for="ai-autosend">Send drafts automatically</label></div>
          <div class="field"><label for="ai-threshold">When the classification's confidence is at least (%)</label>
            <input id="ai-threshold" type="number" min="1" max="100" step="1" inputmode="decimal" .value=${f.threshold} aria-invalid=${invalid('ai-threshold')} aria-describedby="ai-threshold-error"
              @input=${(e: Event) => this.edit({ threshold: (e.target as HTMLInputElement).value })}>${error('ai-threshold')}</div>
          <div role="group" id="ai-categories" tabindex="-1" aria-labelledby="ai-categories-label" aria-describedby="ai-categories-error">
            <span id="ai-categories-label">For these categories</span>
            <div class="row">${s.categories.map((c) => html`
              <label class="field inline"><input type="checkbox" name="auto-category" value=${c.name} .checked=${f.categories.includes(c.name)}
                @change=${(e: Event) => this.edit({ categories: (e.target as HTMLInputElement).checked ? [...f.categories, c.name] : f.categories.filter((x) => x !== c.name) })}>${c.name}</label>`)}</div>
            ${error('ai-categories')}
          </div>
        </fieldset>
        ${this.saveFailure ? html`<div id="ai-save-error" class="notice error" role="alert" tabindex="-1" data-code=${this.saveFailure.code}>${this.saveFailure.message} <code>${this.saveFailure.code}</code></div>` : nothing}
        ${this.saved ? html`<div class="notice ok" role="status">Saved.</div>` : nothing}
        <div class="actions"><button type="submit" ?disabled=${this.busy}>Save AI settings</button>
          <button type="button" class="secondary" ?disabled=${this.busy} @click=${() => { this.form = this.formOf(s); this.problems = {}; this.saveFailure = null; }}>Undo changes</button></div>
      </form>`;
  }

  private renderCategories(): TemplateResult | typeof nothing {
    const s = this.settings;
    if (!s) return nothing;
    const byCategory = this.stats?.byCategory ?? {};
    const kept = this.stats?.categoryAccuracy.byCategory ?? {};
    return html`
      <h3 id="categories-title">Categories and their examples</h3>
      <table part="categories" aria-labelledby="categories-title">
        <thead><tr><th scope="col">Category</th><th scope="col">Own examples</th><th scope="col">Corrections (30 days)</th><th scope="col">Category kept by agents</th><th scope="col">Draft acceptance</th><th scope="col">Examples</th></tr></thead>
        <tbody>${s.categories.map((c) => html`
          <tr data-category=${c.name}>
            <td>${c.name}${c.builtIn ? nothing : html` <span class="muted">(own)</span>`}</td>
            <td data-figure="examples">${c.examples}</td><td data-figure="corrections">${c.corrections}</td>
            <td data-figure="category-kept">${keptText(kept[c.name])}</td>
            <td data-figure="category-acceptance">${percent(byCategory[c.name]?.acceptanceRate ?? null)}</td>
            <td><ul class="samples">${c.samples.map((x) => html`<li dir="auto">${x}</li>`)}</ul></td>
          </tr>`)}</tbody>
      </table>
      <form novalidate aria-labelledby="example-title" @submit=${this.addExample}>
        <h3 id="example-title">Teach a category</h3>
        <div class="row">
          <div class="field"><label for="example-category">Category (an existing one or a new name)</label>
            <input id="example-category" list="example-categories" .value=${this.example.category} autocomplete="off" aria-describedby="example-error"
              @input=${(e: Event) => (this.example = { ...this.example, category: (e.target as HTMLInputElement).value })}>
            <datalist id="example-categories">${s.categories.map((c) => html`<option value=${c.name}></option>`)}</datalist></div>
          <div class="field"><label for="example-text">Example message</label>
            <textarea id="example-text" rows="2" dir="auto" .value=${this.example.text} aria-describedby="example-error"
              @input=${(e: Event) => (this.example = { ...this.example, text: (e.target as HTMLTextAreaElement).value })}></textarea></div>
        </div>
        <span id="example-error" class="field-error">${this.exampleProblem}</span>
        ${this.exampleFailure ? html`<div class="notice error" role="alert" data-code=${this.exampleFailure.code}>${this.exampleFailure.message} <code>${this.exampleFailure.code}</code></div>` : nothing}
        ${this.exampleAdded ? html`<div class="notice ok" role="status">Added to ${this.exampleAdded}; the model retrains in the background.</div>` : nothing}
        <div class="actions"><button type="submit">Add example</button></div>
      </form>`;
  }

  protected override render(): TemplateResult {
    const s = this.stats;
    return html`
      ${this.renderSettings()}
      <h2 id="ai-title">AI categories and drafts</h2>
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
            <tr><th scope="row">Category kept by agents</th><td data-figure="kept">${keptText(s.categoryAccuracy)}</td></tr>
            <tr><th scope="row">Acceptance (sent, edited or not)</th><td data-figure="acceptance">${percent(s.acceptanceRate)}</td></tr>
            <tr><th scope="row">Sent unchanged</th><td data-figure="unchanged">${percent(s.unchangedRate)}</td></tr>
            <tr><th scope="row">Mean edit of edited drafts</th><td data-figure="edit">${s.meanEditDistance === null ? '—' : `${Math.round(s.meanEditDistance * 100)} % rewritten`}</td></tr>
          </tbody>
        </table>
        ${Object.keys(s.byCategory).length ? nothing : html`<p class="muted">No decided drafts in this period.</p>`}` : nothing}
      ${this.renderCategories()}
      ${this.model ? html`<p class="muted" data-model>The category model: ${this.model.examples} examples, trained ${new Date(this.model.trainedAt).toLocaleString()}.</p>` : nothing}
      ${this.modelFailure ? html`<p class="muted" data-code=${this.modelFailure.code}>The category model is not available on this hub: ${this.modelFailure.message} (${this.modelFailure.code})</p>` : nothing}
    `;
  }
}
