import { html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { state } from 'lit/decorators.js';
import { CHANNEL_LABELS } from '../shared/types.js';
import { AdminElement, failureOf, type Failure } from './admin-element.js';
import { adminStyles } from './admin.styles.js';
import { qrToSvg } from '../../connectors/whatsapp/web/qr.js';
import { emailErrors, emailRequest, newEmailForm, newPlatformForm, originErrors, platformErrors, platformRequest, randomSecret, type EmailForm, type FieldErrors, type PlatformForm, type PlatformKind } from './channel-forms.js';

interface Channel {
  id: string;
  kind: string;
  name: string;
  externalKey: string;
  enabled: boolean;
  config: Record<string, unknown>;
  /** whatsapp-web: the linked phone's state; the QR and pairing code only for admins. */
  link?: { state: string; qr?: string; pairingCode?: string; account?: string; code?: string; reason?: string };
}
interface ChannelStatus {
  channelId: string;
  state: 'active' | 'disabled' | 'failing' | 'disconnected';
  lastError: { code?: string; message: string; at: string } | null;
  /** When the channel started failing or was disconnected. */
  since: string | null;
}
interface Team { id: string; name: string }
interface Workspace { id: string; slackTeamId: string; slackTeamName: string | null; name: string; enabled: boolean; triage: { teams: Record<string, string> } }
interface CheckResult { ok: boolean; code?: string; message?: string }

const STATE_LABELS = { active: 'Active', disabled: 'Disabled', failing: 'Failing', disconnected: 'Disconnected' } as const;
const SLACK_CHANNEL = /^[CG][A-Z0-9]{2,20}$/;

/** The platforms added from ids and a token, or a code: a card each, with a slot an embedder may fill instead. */
export const PLATFORMS: readonly { kind: PlatformKind; label: string; hint: string }[] = [
  { kind: 'whatsapp', label: 'WhatsApp', hint: 'A business number on the WhatsApp Cloud API.' },
  { kind: 'whatsapp-web', label: 'WhatsApp (linked phone)', hint: 'Unofficial, for teams without the Business API: WhatsApp may ban numbers linked this way.' },
  { kind: 'messenger', label: 'Messenger', hint: 'A Facebook Page.' },
  { kind: 'teams', label: 'Microsoft Teams', hint: 'Add the HummDesk app to a team, then type the code its bot posts.' },
];

const PLATFORM_HELP: Record<PlatformKind, { title: string; keyLabel: string; keyHint: string; tokenHint: string; submit: string }> = {
  whatsapp: { title: 'New WhatsApp number', keyLabel: 'Phone number id', keyHint: 'Meta Business → WhatsApp Manager → the number → its id (digits).', tokenHint: "A system user's access token with whatsapp_business_messaging; the hub checks it owns the number.", submit: 'Connect WhatsApp' },
  'whatsapp-web': { title: 'New linked phone', keyLabel: '', keyHint: '', tokenHint: '', submit: 'Create and show the QR' },
  messenger: { title: 'New Messenger Page', keyLabel: 'Page id', keyHint: "The Page's About section → Page transparency → Page ID (digits).", tokenHint: "A Page access token; the hub checks it is that Page's.", submit: 'Connect Messenger' },
  teams: { title: 'Connect a Microsoft Teams team', keyLabel: 'Code from the bot', keyHint: 'The bot posts it in the General channel when it is added (mention it with "connect" for a new one).', tokenHint: '', submit: 'Connect team' },
};

/**
 * The admin console's channel screen: every channel with its state and last error, and set-up for web
 * chat (the identity secret and the embed snippet shown once), email (with "Test connection") and Slack
 * ("Add to Slack", a triage channel per team).
 *
 * @tag hummdesk-admin-channels
 * @slot teams - replaces the Microsoft Teams card's "Add" button (default: a form for the code the bot posts)
 * @slot whatsapp - replaces the WhatsApp card's "Add" button (default: phone number id and token)
 * @slot whatsapp-web - replaces the linked-phone card's "Add" button (default: a name; the QR shows in the list)
 * @slot messenger - replaces the Messenger card's "Add" button (default: Page id and Page token)
 * @csspart platform-form - the form that adds a WhatsApp number, a linked phone, a Messenger Page or claims a Teams team
 * @csspart list - the table of channels
 * @csspart preview - a web chat channel's live widget, under its row
 * @csspart webchat-form - the form that adds a web chat channel
 * @csspart email-form - the form that adds a mailbox
 * @csspart slack - the Slack section
 * @fires hummdesk-auth-expired - the access token was refused: set a fresh `token`
 */
export class HummdeskAdminChannels extends AdminElement {
  static override styles = adminStyles;

  @state() private channels: Channel[] = [];
  @state() private statuses = new Map<string, ChannelStatus>();
  @state() private teams: Team[] = [];
  @state() private workspaces: Workspace[] = [];
  @state() private loadFailure: Failure | null = null;
  @state() private adding: '' | 'webchat' | 'email' | PlatformKind = '';
  @state() private platform: Record<PlatformKind, PlatformForm> = { whatsapp: newPlatformForm(), 'whatsapp-web': newPlatformForm(), messenger: newPlatformForm(), teams: newPlatformForm() };
  @state() private platformDone = '';
  @state() private busy = false;
  @state() private formFailure: Failure | null = null;
  @state() private fieldErrors: FieldErrors = {};
  @state() private webchat = { name: '', origins: '' };
  @state() private email: EmailForm = newEmailForm();
  @state() private check: CheckResult | null = null;
  /** Shown once, right after a web chat channel is created; never readable again. */
  @state() private createdWidget: { name: string; widgetId: string; identitySecret: string } | null = null;
  @state() private rowNotice = new Map<string, { ok: boolean; text: string }>();
  /** The web chat channel whose live widget is shown under its row. */
  @state() private previewing = '';
  @state() private previewFailure = '';
  @state() private slackFailure: Failure | null = null;
  @state() private triageDrafts = new Map<string, Record<string, string>>();
  @state() private triageNotice = new Map<string, { ok: boolean; text: string }>();

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    if ((changed.has('token') || changed.has('hub')) && this.token) void this.load();
  }

  /** Reloads channels, their states, teams and Slack workspaces. */
  async load(): Promise<void> {
    try {
      const [channels, statuses, teams] = await Promise.all([
        this.api<{ items: Channel[] }>('/channels'),
        this.api<{ items: ChannelStatus[] }>('/channels/status'),
        this.api<{ items: Team[] }>('/teams'),
      ]);
      this.channels = channels.items;
      this.statuses = new Map(statuses.items.map((s) => [s.channelId, s]));
      this.teams = teams.items;
      this.loadFailure = null;
    } catch (err) {
      this.loadFailure = failureOf(err);
      return;
    }
    try {
      this.workspaces = (await this.api<{ items: Workspace[] }>('/slack/workspaces')).items;
    } catch (err) {
      this.slackFailure = failureOf(err);
    }
  }

  protected override render(): TemplateResult {
    return html`
      <h2 id="channels-title">Channels</h2>
      ${this.loadFailure ? this.failureNotice(this.loadFailure, 'Channels could not be loaded') : nothing}
      ${this.renderList()}
      <h2 id="add-title">Add a channel</h2>
      <div class="kinds" role="list" aria-labelledby="add-title">
        <div class="kind" role="listitem">
          <strong>Web chat</strong><p class="hint">A chat button on your website.</p>
          <button type="button" data-add="webchat" aria-expanded=${this.adding === 'webchat'} @click=${() => this.open('webchat')}>Add web chat</button>
        </div>
        <div class="kind" role="listitem">
          <strong>Email</strong><p class="hint">A support mailbox over IMAP and SMTP.</p>
          <button type="button" data-add="email" aria-expanded=${this.adding === 'email'} @click=${() => this.open('email')}>Add email</button>
        </div>
        <div class="kind" role="listitem">
          <strong>Slack</strong><p class="hint">Install the app into a workspace.</p>
          <button type="button" data-action="add-to-slack" ?disabled=${this.busy} @click=${this.addToSlack}>Add to Slack</button>
        </div>
        ${PLATFORMS.map((c) => html`
          <div class="kind" role="listitem" data-kind=${c.kind}>
            <strong>${c.label}</strong>
            <slot name=${c.kind}><p class="hint">${c.hint}</p>
              <button type="button" data-add=${c.kind} aria-expanded=${this.adding === c.kind} @click=${() => this.open(c.kind)}>Add ${c.label}</button></slot>
          </div>`)}
      </div>
      ${this.platformDone ? html`<div class="notice ok" role="status" data-platform-done>${this.platformDone}</div>` : nothing}
      ${this.slackFailure ? this.failureNotice(this.slackFailure, 'Slack') : nothing}
      ${this.createdWidget ? this.renderCreatedWidget() : nothing}
      ${this.adding === 'webchat' ? this.renderWebchatForm() : nothing}
      ${this.adding === 'email' ? this.renderEmailForm() : nothing}
      ${this.adding && this.adding !== 'webchat' && this.adding !== 'email' ? this.renderPlatformForm(this.adding) : nothing}
      ${this.renderSlack()}
    `;
  }

  private renderList(): TemplateResult {
    if (!this.channels.length) return html`<p class="muted">No channels yet: add one below.</p>`;
    return html`
      <table part="list" aria-labelledby="channels-title">
        <thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Address or id</th><th scope="col">State</th><th scope="col">Last error</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          ${this.channels.map((c) => {
            const s = this.statuses.get(c.id);
            const st = s?.state ?? (c.enabled ? 'active' : 'disabled');
            const notice = this.rowNotice.get(c.id);
            return html`
              <tr data-id=${c.id} data-kind=${c.kind}>
                <td>${c.name}</td>
                <td>${CHANNEL_LABELS[c.kind] ?? c.kind}</td>
                <td><code>${c.externalKey}</code></td>
                <td><span class="badge state-${st}" data-state=${st}>${STATE_LABELS[st]}</span>
                  ${s?.since ? html`<div class="muted since">since <time datetime=${s.since}>${new Date(s.since).toLocaleString()}</time></div>` : nothing}</td>
                <td class="last-error">${s?.lastError ? html`${s.lastError.message} <span class="muted">(${s.lastError.code ? html`<code>${s.lastError.code}</code>, ` : nothing}last <time datetime=${s.lastError.at}>${new Date(s.lastError.at).toLocaleString()}</time>)</span>` : html`<span class="muted">None</span>`}
                  ${notice ? html`<div class="notice ${notice.ok ? 'ok' : 'error'}" role="status">${notice.text}</div>` : nothing}
                  ${c.link ? this.renderLink(c.link) : nothing}</td>
                <td class="actions">
                  ${c.kind === 'email' ? html`<button type="button" class="secondary" data-action="test" ?disabled=${this.busy} @click=${() => this.testStored(c)}>Test connection<span class="sr-only"> of ${c.name}</span></button>` : nothing}
                  ${c.kind === 'webchat' ? html`<button type="button" class="secondary" data-action="preview" aria-expanded=${this.previewing === c.id} aria-controls="preview-${c.id}" @click=${() => this.togglePreview(c.id)}>Preview<span class="sr-only"> ${c.name}</span></button>` : nothing}
                  ${c.enabled
                    ? html`<button type="button" class="secondary" data-action="disable" ?disabled=${this.busy} @click=${() => this.setEnabled(c, false)}>Disable<span class="sr-only"> ${c.name}</span></button>`
                    : html`<button type="button" class="secondary" data-action="enable" ?disabled=${this.busy} @click=${() => this.setEnabled(c, true)}>Enable<span class="sr-only"> ${c.name}</span></button>`}
                </td>
              </tr>
              ${this.previewing === c.id ? html`<tr class="preview-row"><td colspan="6" id="preview-${c.id}">${this.renderPreview(c.externalKey, c.name)}</td></tr>` : nothing}`;
          })}
        </tbody>
      </table>`;
  }

  /** The channel's own widget, live and in place: what a visitor of the site sees (messages sent here are real). */
  private renderPreview(widgetId: string, name: string): TemplateResult {
    if (this.previewFailure) return html`<p class="notice error" role="alert">The preview could not load: ${this.previewFailure}</p>`;
    return html`<section part="preview" class="preview" aria-label="Live preview of ${name}" data-widget-id=${widgetId}>
        <p class="muted">Live preview: this is the widget your site shows. Messages written here arrive in the inbox like any visitor's.</p>
        <hummdesk-chat widget-id=${widgetId} hub=${this.base || location.origin} inline open></hummdesk-chat>
      </section>`;
  }

  /** The widget is the hub's own bundle, fetched only when a preview is first opened (the desk page has it already). */
  private async togglePreview(channelId: string): Promise<void> {
    if (this.previewing === channelId) {
      this.previewing = '';
      return;
    }
    this.previewFailure = '';
    this.previewing = channelId;
    if (customElements.get('hummdesk-chat')) return;
    try {
      await import(/* @vite-ignore */ `${this.base || location.origin}/embed/hummdesk-chat.js`);
    } catch (err) {
      this.previewFailure = err instanceof Error ? err.message : String(err);
    }
  }

  /** A linked phone (unofficial: WhatsApp may ban the number): its state, and how to link it when it wants linking. */
  private renderLink(l: NonNullable<Channel['link']>): TemplateResult {
    return html`<div class="link" data-link-state=${l.state}>
      <span class="badge">${l.state}</span>${l.account ? html` <code>${l.account}</code>` : nothing}
      ${l.reason ? html`<div class="muted">${l.reason}</div>` : nothing}
      ${l.pairingCode ? html`<div>Pairing code: <code>${l.pairingCode}</code> (WhatsApp → Linked devices → Link with phone number)</div>` : nothing}
      ${l.qr ? html`<div class="qr"><img alt="QR code to scan in WhatsApp → Linked devices → Link a device" width="240" height="240" src=${`data:image/svg+xml,${encodeURIComponent(qrToSvg(l.qr))}`}>
        <p class="hint">Scan in WhatsApp → Settings → Linked devices → Link a device, or run <code>hummdesk whatsapp-web link CHANNEL --phone NUMBER</code> for a pairing code.</p></div>` : nothing}
      <div class="hint">Unofficial: WhatsApp may ban numbers linked this way.</div>
    </div>`;
  }

  private failureNotice(f: Failure, what: string): TemplateResult {
    return html`<div class="notice error" role="alert" data-code=${f.code}>${what}: ${f.message} <code>${f.code}</code></div>`;
  }

  private open(kind: 'webchat' | 'email' | PlatformKind): void {
    // Switching forms keeps what was typed in each; only a successful save clears one.
    this.adding = this.adding === kind ? '' : kind;
    this.formFailure = null;
    this.fieldErrors = {};
    this.check = null;
    this.platformDone = '';
    if (this.adding) void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLInputElement>(`#${kind}-name, #${kind}-key`)?.focus());
  }

  private field(id: string, label: string, value: string, set: (v: string) => void, opts: { type?: string; hint?: string; required?: boolean; autocomplete?: string } = {}): TemplateResult {
    const error = this.fieldErrors[id];
    return html`
      <div class="field">
        <label for=${id}>${label}${opts.required ? html` <span aria-hidden="true">*</span>` : nothing}</label>
        <input id=${id} name=${id} type=${opts.type ?? 'text'} .value=${value} ?required=${opts.required} autocomplete=${opts.autocomplete ?? 'off'}
          aria-invalid=${error ? 'true' : 'false'} aria-describedby=${`${id}-hint ${id}-error`}
          @input=${(e: Event) => set((e.target as HTMLInputElement).value)}>
        <span id=${`${id}-hint`} class="hint">${opts.hint ?? ''}</span>
        <span id=${`${id}-error`} class="field-error">${error ?? ''}</span>
      </div>`;
  }

  private renderPlatformForm(kind: PlatformKind): TemplateResult {
    const f = this.platform[kind];
    const help = PLATFORM_HELP[kind];
    const set = (k: keyof PlatformForm) => (v: string) => (this.platform = { ...this.platform, [kind]: { ...this.platform[kind], [k]: v } });
    return html`
      <form part="platform-form" data-kind=${kind} novalidate aria-labelledby=${`${kind}-title`} @submit=${(e: Event) => this.createPlatform(e, kind)}>
        <h3 id=${`${kind}-title`}>${help.title}</h3>
        ${kind === 'teams' ? nothing : this.field(`${kind}-name`, 'Name', f.name, set('name'), { required: true, hint: 'Agents see it on every conversation.' })}
        ${help.keyLabel ? this.field(`${kind}-key`, help.keyLabel, f.key, set('key'), { required: true, hint: help.keyHint }) : nothing}
        ${help.tokenHint ? this.field(`${kind}-token`, 'Access token', f.token, set('token'), { required: true, type: 'password', hint: help.tokenHint }) : nothing}
        ${kind === 'whatsapp-web' ? html`<p class="hint">The channel starts a WhatsApp Web session on the hub; scan the QR that appears in the list above with the phone, or run <code>hummdesk whatsapp-web link CHANNEL</code>.</p>` : nothing}
        ${this.formFailure ? this.failureNotice(this.formFailure, kind === 'teams' ? 'Not connected' : 'Not created') : nothing}
        <div class="actions">
          <button type="submit" ?disabled=${this.busy}>${help.submit}</button>
          <button type="button" class="secondary" @click=${() => (this.adding = '')}>Cancel</button>
        </div>
      </form>`;
  }

  private async createPlatform(e: Event, kind: PlatformKind): Promise<void> {
    e.preventDefault();
    const f = this.platform[kind];
    this.fieldErrors = platformErrors(kind, f);
    this.formFailure = null;
    if (Object.keys(this.fieldErrors).length) return this.focusFirstError();
    const { path, body } = platformRequest(kind, f);
    this.busy = true;
    try {
      const created = await this.api<{ name?: string; teamName?: string | null }>(path, { method: 'POST', body });
      // Saved: only now is what was typed cleared (a refused save keeps it for the next try).
      this.platform = { ...this.platform, [kind]: newPlatformForm() };
      this.adding = '';
      this.platformDone = kind === 'teams' ? `Team ${created.teamName ?? ''} connected: route it to a Teams channel through the API (PUT /api/v1/msteams/installs/:id/routing).`.replace('  ', ' ') : `"${created.name ?? f.name}" is connected.`;
      await this.load();
    } catch (err) {
      this.formFailure = failureOf(err);
    } finally {
      this.busy = false;
    }
  }

  private renderWebchatForm(): TemplateResult {
    const w = this.webchat;
    return html`
      <form part="webchat-form" novalidate aria-labelledby="webchat-title" @submit=${this.createWebchat}>
        <h3 id="webchat-title">New web chat</h3>
        ${this.field('webchat-name', 'Name', w.name, (v) => (this.webchat = { ...this.webchat, name: v }), { required: true, hint: 'Agents see it on every conversation, e.g. "Website chat".' })}
        <div class="field">
          <label for="webchat-origins">Allowed origins</label>
          <textarea id="webchat-origins" rows="3" .value=${w.origins} aria-invalid=${this.fieldErrors['webchat-origins'] ? 'true' : 'false'}
            aria-describedby="webchat-origins-hint webchat-origins-error" @input=${(e: Event) => (this.webchat = { ...this.webchat, origins: (e.target as HTMLTextAreaElement).value })}></textarea>
          <span id="webchat-origins-hint" class="hint">The sites that may show the widget, one per line, e.g. https://www.example.com. Leave empty to allow any site.</span>
          <span id="webchat-origins-error" class="field-error">${this.fieldErrors['webchat-origins'] ?? ''}</span>
        </div>
        ${this.formFailure ? this.failureNotice(this.formFailure, 'Not created') : nothing}
        <div class="actions">
          <button type="submit" ?disabled=${this.busy}>Create web chat</button>
          <button type="button" class="secondary" @click=${() => (this.adding = '')}>Cancel</button>
        </div>
      </form>`;
  }

  private renderCreatedWidget(): TemplateResult {
    const w = this.createdWidget!;
    const snippet = `<script type="module" src="${this.base || location.origin}/embed/hummdesk-chat.js"></script>\n<hummdesk-chat widget-id="${w.widgetId}"></hummdesk-chat>`;
    return html`
      <section class="panel" part="created" aria-labelledby="created-title" data-widget-id=${w.widgetId}>
        <h3 id="created-title">"${w.name}" is ready</h3>
        <p>Add these two lines to every page of your site that should show the chat:</p>
        <pre id="snippet" class="snippet">${snippet}</pre>
        <div class="actions"><button type="button" data-action="copy-snippet" @click=${() => this.copy(snippet, 'snippet')}>Copy snippet</button></div>
        <p><strong>Identity secret</strong> (shown only now; keep it on your server). To vouch for a signed-in customer, your
          server sends <code>identity-hash</code>: the hex HMAC-SHA256 of the user id with this secret.</p>
        <pre id="identity-secret" class="secret">${w.identitySecret}</pre>
        <div class="actions">
          <button type="button" data-action="copy-secret" @click=${() => this.copy(w.identitySecret, 'secret')}>Copy secret</button>
          <button type="button" class="secondary" data-action="dismiss-created" @click=${() => (this.createdWidget = null)}>I have saved it</button>
          <span role="status" class="muted">${this.copied}</span>
        </div>
      </section>`;
  }

  @state() private copied = '';

  private async copy(text: string, what: 'snippet' | 'secret'): Promise<void> {
    try {
      await navigator.clipboard.writeText(text);
      this.copied = what === 'snippet' ? 'Snippet copied.' : 'Secret copied.';
    } catch {
      // No clipboard permission (an embedding frame): select the text for Ctrl+C instead.
      const pre = this.renderRoot.querySelector(what === 'snippet' ? '#snippet' : '#identity-secret');
      if (pre) getSelection()?.selectAllChildren(pre);
      this.copied = 'Selected: press Ctrl+C (⌘C) to copy.';
    }
  }

  private async createWebchat(e: Event): Promise<void> {
    e.preventDefault();
    const name = this.webchat.name.trim();
    const { origins, errors } = originErrors(this.webchat.origins);
    const fieldErrors: FieldErrors = {};
    if (!name) fieldErrors['webchat-name'] = 'Give the channel a name.';
    if (errors.length) fieldErrors['webchat-origins'] = errors.join(' ');
    this.fieldErrors = fieldErrors;
    this.formFailure = null;
    if (Object.keys(fieldErrors).length) return this.focusFirstError();
    const identitySecret = randomSecret();
    this.busy = true;
    try {
      const created = await this.api<Channel>('/channels', {
        method: 'POST',
        body: { kind: 'webchat', name, config: { allowedOrigins: origins.length ? origins : ['*'] }, secrets: { sessionSecret: randomSecret(), identitySecret } },
      });
      this.createdWidget = { name: created.name, widgetId: created.externalKey, identitySecret };
      this.webchat = { name: '', origins: '' };
      this.adding = '';
      await this.load();
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLElement>('#created-title')?.setAttribute('tabindex', '-1');
      this.renderRoot.querySelector<HTMLElement>('#created-title')?.focus();
    } catch (err) {
      this.formFailure = failureOf(err);
    } finally {
      this.busy = false;
    }
  }

  private renderEmailForm(): TemplateResult {
    const f = this.email;
    const set = (k: keyof EmailForm) => (v: string) => (this.email = { ...this.email, [k]: v });
    const secure = (k: 'imapSecure' | 'smtpSecure', label: string) => html`
      <div class="field inline"><input id=${`email-${k}`} type="checkbox" .checked=${f[k]} @change=${(e: Event) => (this.email = { ...this.email, [k]: (e.target as HTMLInputElement).checked })}>
        <label for=${`email-${k}`}>${label}</label></div>`;
    return html`
      <form part="email-form" novalidate aria-labelledby="email-title" @submit=${this.createEmail}>
        <h3 id="email-title">New email channel</h3>
        <div class="row">
          ${this.field('email-name', 'Name', f.name, set('name'), { required: true, hint: 'e.g. "Support mailbox".' })}
          ${this.field('email-address', 'Support address', f.address, set('address'), { type: 'email', required: true, hint: 'Customers write here; replies come from it.' })}
          ${this.field('email-displayName', 'Display name', f.displayName, set('displayName'), { hint: 'Shown as the sender of replies (optional).' })}
        </div>
        <fieldset>
          <legend>Incoming mail (IMAP)</legend>
          <div class="row">
            ${this.field('email-imapHost', 'Server', f.imapHost, set('imapHost'), { required: true, hint: 'e.g. imap.example.com' })}
            ${this.field('email-imapPort', 'Port', f.imapPort, set('imapPort'), { type: 'number', hint: '993 with TLS, 143 without' })}
          </div>
          ${secure('imapSecure', 'TLS from the start (port 993)')}
          <div class="row">
            ${this.field('email-imapUser', 'User name', f.imapUser, set('imapUser'), { hint: 'Leave empty to log in with the support address.' })}
            ${this.field('email-imapPassword', 'Password', f.imapPassword, set('imapPassword'), { type: 'password', required: true, autocomplete: 'new-password' })}
          </div>
          <div class="row">
            ${this.field('email-folder', 'Folder to read', f.folder, set('folder'), { hint: 'Usually INBOX.' })}
            ${this.field('email-sentFolder', 'Sent folder', f.sentFolder, set('sentFolder'), { hint: 'Optional: a copy of every reply is kept there.' })}
          </div>
        </fieldset>
        <fieldset>
          <legend>Outgoing mail (SMTP)</legend>
          <div class="row">
            ${this.field('email-smtpHost', 'Server', f.smtpHost, set('smtpHost'), { required: true, hint: 'e.g. smtp.example.com' })}
            ${this.field('email-smtpPort', 'Port', f.smtpPort, set('smtpPort'), { type: 'number', hint: '587, 465 with TLS, 25 or 2525' })}
          </div>
          ${secure('smtpSecure', 'TLS from the start (port 465)')}
          <div class="row">
            ${this.field('email-smtpUser', 'User name', f.smtpUser, set('smtpUser'), { hint: 'Leave empty to log in with the support address.' })}
            ${this.field('email-smtpPassword', 'Password', f.smtpPassword, set('smtpPassword'), { type: 'password', autocomplete: 'new-password', hint: 'Leave empty if the server needs no login.' })}
          </div>
        </fieldset>
        ${this.check ? html`<div class="notice ${this.check.ok ? 'ok' : 'error'}" role="status" data-check=${this.check.ok ? 'ok' : this.check.code ?? 'failed'}>
          ${this.check.ok ? 'Connection works: the hub logged in to both servers.' : html`Connection failed: ${this.check.message} <code>${this.check.code}</code>`}</div>` : nothing}
        ${this.formFailure ? this.failureNotice(this.formFailure, 'Not saved') : nothing}
        <div class="actions">
          <button type="button" class="secondary" data-action="test-connection" ?disabled=${this.busy} @click=${this.testEmail}>Test connection</button>
          <button type="submit" ?disabled=${this.busy}>Create email channel</button>
          <button type="button" class="secondary" @click=${() => (this.adding = '')}>Cancel</button>
          ${this.busy ? html`<span class="muted" role="status">Working…</span>` : nothing}
        </div>
      </form>`;
  }

  private validEmail(): ReturnType<typeof emailRequest> | undefined {
    this.fieldErrors = emailErrors(this.email);
    this.formFailure = null;
    if (Object.keys(this.fieldErrors).length) {
      this.focusFirstError();
      return undefined;
    }
    return emailRequest(this.email);
  }

  private focusFirstError(): void {
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
  }

  private async testEmail(): Promise<void> {
    const body = this.validEmail();
    if (!body) return;
    this.busy = true;
    this.check = null;
    try {
      this.check = await this.api<CheckResult>('/channels/check', { method: 'POST', body: { kind: 'email', externalKey: body.externalKey, config: body.config, secrets: body.secrets } });
    } catch (err) {
      const f = failureOf(err);
      this.check = { ok: false, code: f.code, message: f.message };
    } finally {
      this.busy = false;
    }
  }

  private async createEmail(e: Event): Promise<void> {
    e.preventDefault();
    const body = this.validEmail();
    if (!body) return;
    this.busy = true;
    try {
      const created = await this.api<Channel>('/channels', { method: 'POST', body: { kind: 'email', ...body } });
      this.email = newEmailForm();
      this.adding = '';
      this.check = null;
      await this.load();
      this.rowNotice = new Map(this.rowNotice).set(created.id, { ok: true, text: 'Created: the hub starts reading the mailbox within a minute.' });
    } catch (err) {
      this.formFailure = failureOf(err);
    } finally {
      this.busy = false;
    }
  }

  private async testStored(c: Channel): Promise<void> {
    this.busy = true;
    try {
      const r = await this.api<CheckResult>(`/channels/${c.id}/check`, { method: 'POST' });
      this.rowNotice = new Map(this.rowNotice).set(c.id, r.ok ? { ok: true, text: 'Connection works.' } : { ok: false, text: `Connection failed: ${r.message} (${r.code})` });
    } catch (err) {
      const f = failureOf(err);
      this.rowNotice = new Map(this.rowNotice).set(c.id, { ok: false, text: `${f.message} (${f.code})` });
    } finally {
      this.busy = false;
    }
  }

  private async setEnabled(c: Channel, enabled: boolean): Promise<void> {
    this.busy = true;
    try {
      if (enabled) await this.api(`/channels/${c.id}`, { method: 'PATCH', body: { enabled: true } });
      else await this.api(`/channels/${c.id}`, { method: 'DELETE' });
      this.rowNotice = new Map(this.rowNotice).set(c.id, { ok: true, text: enabled ? 'Enabled.' : 'Disabled: its conversations stay.' });
      await this.load();
    } catch (err) {
      const f = failureOf(err);
      this.rowNotice = new Map(this.rowNotice).set(c.id, { ok: false, text: `${f.message} (${f.code})` });
    } finally {
      this.busy = false;
    }
  }

  /** The install must start in this browser: the hub sets a cookie the OAuth callback checks, then Slack takes over. */
  private async addToSlack(): Promise<void> {
    this.busy = true;
    this.slackFailure = null;
    try {
      const { url } = await this.request<{ url: string }>('/slack/oauth/start', { method: 'POST' });
      window.location.assign(url);
    } catch (err) {
      const f = failureOf(err);
      this.slackFailure = f.code === 'route_not_found'
        ? { code: 'slack_not_configured', message: 'this hub has no Slack app: set SLACK_SIGNING_SECRET, SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (see connectors/slack/README.md)' }
        : f;
    } finally {
      this.busy = false;
    }
  }

  private renderSlack(): TemplateResult | typeof nothing {
    if (!this.workspaces.length) return nothing;
    return html`
      <section part="slack" aria-labelledby="slack-title">
        <h2 id="slack-title">Slack triage channels</h2>
        <p class="hint">Each team's conversations get a card and a thread in its triage channel (a Slack channel id such as C0123ABCD; invite the app there).</p>
        ${this.workspaces.map((w) => {
          const draft = this.triageDrafts.get(w.id) ?? w.triage.teams;
          const notice = this.triageNotice.get(w.id);
          return html`
            <form data-workspace=${w.id} novalidate @submit=${(e: Event) => this.saveTriage(e, w)} aria-label=${`Triage channels in ${w.slackTeamName ?? w.name}`}>
              <h3>${w.slackTeamName ?? w.name} <span class="muted">(${w.slackTeamId})</span></h3>
              ${this.teams.length ? this.teams.map((t) => {
                const id = `triage-${w.id}-${t.id}`;
                const error = this.fieldErrors[id];
                return html`<div class="field">
                  <label for=${id}>${t.name}</label>
                  <input id=${id} .value=${draft[t.id] ?? ''} placeholder="C0123ABCD" aria-invalid=${error ? 'true' : 'false'} aria-describedby=${`${id}-error`}
                    @input=${(e: Event) => this.triageDrafts = new Map(this.triageDrafts).set(w.id, { ...draft, [t.id]: (e.target as HTMLInputElement).value.trim() })}>
                  <span id=${`${id}-error`} class="field-error">${error ?? ''}</span></div>`;
              }) : html`<p class="muted">No teams yet: create one under People.</p>`}
              ${notice ? html`<div class="notice ${notice.ok ? 'ok' : 'error'}" role="status">${notice.text}</div>` : nothing}
              <div class="actions"><button type="submit" ?disabled=${this.busy || !this.teams.length}>Save triage channels</button></div>
            </form>`;
        })}
      </section>`;
  }

  private async saveTriage(e: Event, w: Workspace): Promise<void> {
    e.preventDefault();
    const draft = this.triageDrafts.get(w.id) ?? w.triage.teams;
    const errors: FieldErrors = {};
    const teams: Record<string, string> = {};
    for (const t of this.teams) {
      const v = (draft[t.id] ?? '').trim();
      if (!v) continue;
      if (!SLACK_CHANNEL.test(v)) errors[`triage-${w.id}-${t.id}`] = 'A Slack channel id starts with C or G, e.g. C0123ABCD (channel details → bottom of the About tab).';
      else teams[t.id] = v;
    }
    this.fieldErrors = errors;
    if (Object.keys(errors).length) return this.focusFirstError();
    this.busy = true;
    try {
      const saved = await this.api<Workspace>(`/slack/workspaces/${w.id}/triage`, { method: 'PUT', body: { teams } });
      this.workspaces = this.workspaces.map((x) => (x.id === w.id ? saved : x));
      const drafts = new Map(this.triageDrafts);
      drafts.delete(w.id);
      this.triageDrafts = drafts;
      this.triageNotice = new Map(this.triageNotice).set(w.id, { ok: true, text: 'Saved.' });
    } catch (err) {
      const f = failureOf(err);
      this.triageNotice = new Map(this.triageNotice).set(w.id, { ok: false, text: `Not saved: ${f.message} (${f.code})` });
    } finally {
      this.busy = false;
    }
  }
}

