import { html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { state } from 'lit/decorators.js';
import { AdminElement, failureOf, type Failure } from './admin-element.js';
import { adminStyles } from './admin.styles.js';

interface ApiKey { id: string; name: string; prefix: string; role: string; createdAt: string; lastUsedAt: string | null; revokedAt: string | null }
interface AuditEntry { id: string; actorKind: string; actorId: string | null; action: string; targetKind: string | null; targetId: string | null; data: Record<string, unknown>; createdAt: string }

/** The most audit rows one CSV export reads (pages of 200). */
const EXPORT_MAX = 10_000;

/** One CSV field: quoted when needed, and a leading = + - @ neutralised so a spreadsheet never runs it as a formula. */
export function csvField(value: unknown): string {
  let s = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function auditCsv(entries: AuditEntry[]): string {
  const head = ['time', 'actor kind', 'actor id', 'action', 'target kind', 'target id', 'data'];
  const rows = entries.map((e) => [e.createdAt, e.actorKind, e.actorId, e.action, e.targetKind, e.targetId, e.data].map(csvField).join(','));
  return `${head.join(',')}\r\n${rows.join('\r\n')}\r\n`;
}

/**
 * The admin console's API keys (create, shown once; revoke) and audit log (filter, export CSV).
 *
 * @tag hummdesk-admin-security
 * @csspart keys - the table of API keys
 * @csspart new-key - the key just created, shown once
 * @csspart audit - the audit log table
 * @fires hummdesk-auth-expired - the access token was refused: set a fresh `token`
 */
export class HummdeskAdminSecurity extends AdminElement {
  static override styles = adminStyles;

  @state() private keys: ApiKey[] = [];
  @state() private keyForm = { name: '', role: 'agent' };
  @state() private keyError = '';
  @state() private keyFailure: Failure | null = null;
  @state() private createdKey: { name: string; key: string } | null = null;
  @state() private confirmRevoke = '';
  @state() private entries: AuditEntry[] = [];
  @state() private nextCursor: string | null = null;
  @state() private filter = { action: '', targetKind: '' };
  @state() private auditFailure: Failure | null = null;
  @state() private busy = false;
  @state() private exportNote = '';

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    if ((changed.has('token') || changed.has('hub')) && this.token) void this.load();
  }

  async load(): Promise<void> {
    try {
      this.keys = (await this.api<{ items: ApiKey[] }>('/api-keys')).items;
      this.keyFailure = null;
    } catch (err) {
      this.keyFailure = failureOf(err);
    }
    await this.loadAudit();
  }

  private auditQuery(cursor?: string | null, limit = 50): string {
    const q = new URLSearchParams({ limit: String(limit) });
    if (this.filter.action.trim()) q.set('action', this.filter.action.trim());
    if (this.filter.targetKind) q.set('targetKind', this.filter.targetKind);
    if (cursor) q.set('cursor', cursor);
    return `/audit?${q}`;
  }

  private async loadAudit(more = false): Promise<void> {
    try {
      const page = await this.api<{ items: AuditEntry[]; nextCursor: string | null }>(this.auditQuery(more ? this.nextCursor : undefined));
      this.entries = more ? [...this.entries, ...page.items] : page.items;
      this.nextCursor = page.nextCursor;
      this.auditFailure = null;
    } catch (err) {
      this.auditFailure = failureOf(err);
    }
  }

  protected override render(): TemplateResult {
    return html`${this.renderKeys()}${this.renderAudit()}`;
  }

  private renderKeys(): TemplateResult {
    return html`
      <h2 id="keys-title">API keys</h2>
      <p class="hint">For servers and scripts; a key acts with its role. Never put one in a web page.</p>
      ${this.keyFailure ? html`<div class="notice error" role="alert" data-code=${this.keyFailure.code}>${this.keyFailure.message} <code>${this.keyFailure.code}</code></div>` : nothing}
      ${this.createdKey ? html`
        <section class="panel" part="new-key" aria-labelledby="new-key-title">
          <h3 id="new-key-title" tabindex="-1">Key "${this.createdKey.name}" (shown only now)</h3>
          <pre id="new-key">${this.createdKey.key}</pre>
          <div class="actions"><button type="button" class="secondary" data-action="dismiss-key" @click=${() => (this.createdKey = null)}>I have saved it</button></div>
        </section>` : nothing}
      <table part="keys" aria-labelledby="keys-title">
        <thead><tr><th scope="col">Name</th><th scope="col">Starts with</th><th scope="col">Role</th><th scope="col">Last used</th><th scope="col">State</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          ${this.keys.map((k) => html`
            <tr data-id=${k.id}>
              <td>${k.name}</td><td><code>${k.prefix}</code></td><td>${k.role}</td>
              <td>${k.lastUsedAt ? new Date(k.lastUsedAt).toLocaleString() : html`<span class="muted">Never</span>`}</td>
              <td><span class="badge ${k.revokedAt ? 'state-disabled' : 'state-active'}" data-state=${k.revokedAt ? 'revoked' : 'active'}>${k.revokedAt ? 'Revoked' : 'Active'}</span></td>
              <td class="actions">${k.revokedAt ? nothing : this.confirmRevoke === k.id
                ? html`<span>Revoke "${k.name}"? Scripts using it stop at once.</span>
                    <button type="button" data-action="confirm-revoke" @click=${() => this.revoke(k)}>Revoke</button>
                    <button type="button" class="secondary" @click=${() => (this.confirmRevoke = '')}>Keep</button>`
                : html`<button type="button" class="secondary" data-action="revoke" @click=${() => (this.confirmRevoke = k.id)}>Revoke<span class="sr-only"> ${k.name}</span></button>`}</td>
            </tr>`)}
        </tbody>
      </table>
      <form novalidate aria-labelledby="new-key-form-title" @submit=${this.createKey}>
        <h3 id="new-key-form-title">New API key</h3>
        <div class="row">
          <div class="field"><label for="key-name">Name</label>
            <input id="key-name" .value=${this.keyForm.name} aria-invalid=${this.keyError ? 'true' : 'false'} aria-describedby="key-name-error" autocomplete="off"
              @input=${(e: Event) => (this.keyForm = { ...this.keyForm, name: (e.target as HTMLInputElement).value })}>
            <span id="key-name-error" class="field-error">${this.keyError}</span></div>
          <div class="field"><label for="key-role">Role</label>
            <select id="key-role" @change=${(e: Event) => (this.keyForm = { ...this.keyForm, role: (e.target as HTMLSelectElement).value })}>
              ${['viewer', 'agent', 'admin'].map((r) => html`<option value=${r} ?selected=${r === this.keyForm.role}>${r}</option>`)}
            </select></div>
        </div>
        <div class="actions"><button type="submit" ?disabled=${this.busy}>Create key</button></div>
      </form>`;
  }

  private async createKey(e: Event): Promise<void> {
    e.preventDefault();
    const name = this.keyForm.name.trim();
    this.keyError = name ? '' : 'Name the key after what uses it, e.g. "CRM sync".';
    if (!name) return void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('#key-name')?.focus());
    this.busy = true;
    try {
      const created = await this.api<{ key: string; apiKey: ApiKey }>('/api-keys', { method: 'POST', body: { name, role: this.keyForm.role } });
      this.createdKey = { name, key: created.key };
      this.keyForm = { name: '', role: 'agent' };
      this.keyFailure = null;
      await this.load();
      this.renderRoot.querySelector<HTMLElement>('#new-key-title')?.focus();
    } catch (err) {
      this.keyFailure = failureOf(err);
    } finally {
      this.busy = false;
    }
  }

  private async revoke(k: ApiKey): Promise<void> {
    this.busy = true;
    try {
      await this.api(`/api-keys/${k.id}`, { method: 'DELETE' });
      this.confirmRevoke = '';
      await this.load();
    } catch (err) {
      this.keyFailure = failureOf(err);
    } finally {
      this.busy = false;
    }
  }

  private renderAudit(): TemplateResult {
    return html`
      <h2 id="audit-title">Audit log</h2>
      <form class="row" novalidate aria-label="Filter the audit log" @submit=${(e: Event) => (e.preventDefault(), void this.loadAudit())}>
        <div class="field"><label for="audit-action">Action</label>
          <input id="audit-action" .value=${this.filter.action} placeholder="user.created" @input=${(e: Event) => (this.filter = { ...this.filter, action: (e.target as HTMLInputElement).value })}></div>
        <div class="field"><label for="audit-target">Target</label>
          <select id="audit-target" @change=${(e: Event) => (this.filter = { ...this.filter, targetKind: (e.target as HTMLSelectElement).value })}>
            ${['', 'user', 'team', 'channel', 'api_key', 'conversation'].map((k) => html`<option value=${k} ?selected=${k === this.filter.targetKind}>${k || 'Any'}</option>`)}
          </select></div>
        <div class="actions">
          <button type="submit">Filter</button>
          <button type="button" class="secondary" data-action="export" ?disabled=${this.busy} @click=${this.exportCsv}>Export CSV</button>
          <span role="status" class="muted">${this.exportNote}</span>
        </div>
      </form>
      ${this.auditFailure ? html`<div class="notice error" role="alert" data-code=${this.auditFailure.code}>${this.auditFailure.message} <code>${this.auditFailure.code}</code></div>` : nothing}
      <table part="audit" aria-labelledby="audit-title">
        <thead><tr><th scope="col">Time</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Details</th></tr></thead>
        <tbody>
          ${this.entries.map((a) => html`
            <tr data-action=${a.action}>
              <td>${new Date(a.createdAt).toLocaleString()}</td>
              <td>${a.actorKind}${a.actorId ? html` <code>${a.actorId.slice(0, 8)}</code>` : nothing}</td>
              <td>${a.action}</td>
              <td>${a.targetKind ?? ''}${a.targetId ? html` <code>${a.targetId.slice(0, 8)}</code>` : nothing}</td>
              <td><code>${Object.keys(a.data).length ? JSON.stringify(a.data) : ''}</code></td>
            </tr>`)}
        </tbody>
      </table>
      ${this.nextCursor ? html`<div class="actions"><button type="button" class="secondary" @click=${() => this.loadAudit(true)}>Load more</button></div>` : nothing}`;
  }

  /** Every entry the filter matches (up to EXPORT_MAX), as a CSV file the browser downloads. */
  private async exportCsv(): Promise<void> {
    this.busy = true;
    this.exportNote = 'Exporting…';
    try {
      const all: AuditEntry[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: AuditEntry[]; nextCursor: string | null } = await this.api(this.auditQuery(cursor, 200));
        all.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor && all.length < EXPORT_MAX);
      const url = URL.createObjectURL(new Blob([auditCsv(all)], { type: 'text/csv;charset=utf-8' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `hummdesk-audit-${new Date().toISOString().slice(0, 10)}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      this.exportNote = `${all.length} entries exported${cursor ? ` (the first ${EXPORT_MAX})` : ''}.`;
    } catch (err) {
      const f = failureOf(err);
      this.exportNote = `Not exported: ${f.message} (${f.code})`;
    } finally {
      this.busy = false;
    }
  }
}
