import { html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { state } from 'lit/decorators.js';
import { live } from 'lit/directives/live.js';
import { AdminElement, failureOf, type Failure } from './admin-element.js';
import { adminStyles } from './admin.styles.js';
import type { FieldErrors } from './channel-forms.js';

type Role = 'viewer' | 'agent' | 'admin' | 'owner';
interface User { id: string; email: string; name: string; role: Role; available: boolean; skills: string[] }
interface Team { id: string; name: string; settings: Record<string, unknown>; memberIds: string[] }

const ROLES: { value: Role; label: string }[] = [
  { value: 'viewer', label: 'Viewer (reads only)' },
  { value: 'agent', label: 'Agent' },
  { value: 'admin', label: 'Admin' },
  { value: 'owner', label: 'Owner' },
];
const STRATEGIES = [
  { value: 'round_robin', label: 'Round robin' },
  { value: 'least_loaded', label: 'Fewest open conversations' },
  { value: 'skill_based', label: 'By skill (category and language)' },
  { value: 'capacity', label: 'By capacity' },
] as const;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const INVITE_DAYS = 7;

/**
 * The admin console's people screen: agents (invite, change role, skills, remove) and teams (members,
 * routing strategy). An invite is a one-time link, shown to copy (the hub sends no mail), at which the
 * invitee sets their own password.
 *
 * @tag hummdesk-admin-people
 * @csspart users - the table of users
 * @csspart add-user - the form that invites a user
 * @csspart invite - the invite link, shown once
 * @csspart teams - the teams section
 * @fires hummdesk-auth-expired - the access token was refused: set a fresh `token`
 */
export class HummdeskAdminPeople extends AdminElement {
  static override styles = adminStyles;

  @state() private users: User[] = [];
  @state() private teams: Team[] = [];
  @state() private loadFailure: Failure | null = null;
  @state() private busy = false;
  @state() private fieldErrors: FieldErrors = {};
  @state() private addForm = { name: '', email: '', role: 'agent' as Role };
  @state() private addFailure: Failure | null = null;
  /** The new user's invite link, shown once. */
  @state() private added: { name: string; email: string; url: string } | null = null;
  @state() private copied = '';
  @state() private rowNotice = new Map<string, { ok: boolean; text: string }>();
  @state() private confirmRemove = '';
  @state() private teamName = '';
  @state() private teamFailure: Failure | null = null;
  @state() private teamNotice = new Map<string, { ok: boolean; text: string }>();
  @state() private skillDrafts = new Map<string, string>();

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    if ((changed.has('token') || changed.has('hub')) && this.token) void this.load();
  }

  async load(): Promise<void> {
    try {
      const [users, teams] = await Promise.all([this.api<{ items: User[] }>('/users'), this.api<{ items: Team[] }>('/teams')]);
      this.users = users.items;
      this.teams = teams.items;
      this.loadFailure = null;
    } catch (err) {
      this.loadFailure = failureOf(err);
    }
  }

  protected override render(): TemplateResult {
    return html`
      <h2 id="people-title">People</h2>
      ${this.loadFailure ? html`<div class="notice error" role="alert">People could not be loaded: ${this.loadFailure.message} <code>${this.loadFailure.code}</code></div>` : nothing}
      ${this.renderUsers()}
      ${this.renderAdd()}
      ${this.renderTeams()}
    `;
  }

  private renderUsers(): TemplateResult {
    return html`
      <table part="users" aria-labelledby="people-title">
        <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Skills</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          ${this.users.map((u) => {
            const notice = this.rowNotice.get(u.id);
            const skills = this.skillDrafts.get(u.id) ?? u.skills.join(', ');
            return html`
              <tr data-id=${u.id}>
                <td>${u.name}${u.available ? nothing : html` <span class="badge">Away</span>`}</td>
                <td>${u.email}</td>
                <td>
                  <select data-action="role" aria-label=${`Role of ${u.name}`} ?disabled=${this.busy} @change=${(e: Event) => this.changeRole(u, e.target as HTMLSelectElement)}>
                    ${ROLES.map((r) => html`<option value=${r.value} ?selected=${r.value === u.role}>${r.label}</option>`)}
                  </select>
                  ${notice ? html`<div class="notice ${notice.ok ? 'ok' : 'error'}" role="status">${notice.text}</div>` : nothing}
                </td>
                <td>
                  <form class="inline-form" novalidate @submit=${(e: Event) => this.saveSkills(e, u)} aria-label=${`Skills of ${u.name}`}>
                    <input data-action="skills" aria-label=${`Skills of ${u.name}, separated by commas`} .value=${skills} placeholder="billing, lang:fi"
                      @input=${(e: Event) => (this.skillDrafts = new Map(this.skillDrafts).set(u.id, (e.target as HTMLInputElement).value))}>
                    <button type="submit" class="secondary" ?disabled=${this.busy}>Save<span class="sr-only"> skills of ${u.name}</span></button>
                  </form>
                </td>
                <td class="actions">
                  ${this.confirmRemove === u.id
                    ? html`<span>Remove ${u.name}?</span>
                        <button type="button" data-action="confirm-remove" @click=${() => this.removeUser(u)}>Remove</button>
                        <button type="button" class="secondary" @click=${() => (this.confirmRemove = '')}>Keep</button>`
                    : html`<button type="button" class="secondary" data-action="invite" ?disabled=${this.busy} @click=${() => this.invite(u)}>Invite link<span class="sr-only"> for ${u.name}</span></button>
                        <button type="button" class="secondary" data-action="remove" @click=${() => (this.confirmRemove = u.id)}>Remove<span class="sr-only"> ${u.name}</span></button>`}
                </td>
              </tr>`;
          })}
        </tbody>
      </table>`;
  }

  private renderAdd(): TemplateResult {
    const f = this.addForm;
    const err = (id: string) => this.fieldErrors[id] ?? '';
    return html`
      ${this.added ? html`
        <section class="panel" part="invite" aria-labelledby="added-title">
          <h3 id="added-title" tabindex="-1">Invite ${this.added.name}</h3>
          <p>The hub sends no mail: send ${this.added.email} this link. It works once, for ${INVITE_DAYS} days; they choose their own password there.</p>
          <pre id="invite-link">${this.added.url}</pre>
          <div class="actions">
            <button type="button" data-action="copy-invite" @click=${this.copyInvite}>Copy link</button>
            <button type="button" class="secondary" @click=${() => (this.added = null)}>Done</button>
            <span role="status" class="muted">${this.copied}</span>
          </div>
        </section>` : nothing}
      <form part="add-user" novalidate aria-labelledby="add-user-title" @submit=${this.addUser}>
        <h3 id="add-user-title">Invite an agent</h3>
        <div class="row">
          <div class="field">
            <label for="user-name">Name</label>
            <input id="user-name" .value=${f.name} aria-invalid=${err('user-name') ? 'true' : 'false'} aria-describedby="user-name-error" autocomplete="off"
              @input=${(e: Event) => (this.addForm = { ...this.addForm, name: (e.target as HTMLInputElement).value })}>
            <span id="user-name-error" class="field-error">${err('user-name')}</span>
          </div>
          <div class="field">
            <label for="user-email">Email</label>
            <input id="user-email" type="email" .value=${f.email} aria-invalid=${err('user-email') ? 'true' : 'false'} aria-describedby="user-email-error" autocomplete="off"
              @input=${(e: Event) => (this.addForm = { ...this.addForm, email: (e.target as HTMLInputElement).value })}>
            <span id="user-email-error" class="field-error">${err('user-email')}</span>
          </div>
          <div class="field">
            <label for="user-role">Role</label>
            <select id="user-role" @change=${(e: Event) => (this.addForm = { ...this.addForm, role: (e.target as HTMLSelectElement).value as Role })}>
              ${ROLES.map((r) => html`<option value=${r.value} ?selected=${r.value === f.role}>${r.label}</option>`)}
            </select>
          </div>
        </div>
        ${this.addFailure ? html`<div class="notice error" role="alert" data-code=${this.addFailure.code}>Not added: ${this.addFailure.message} <code>${this.addFailure.code}</code></div>` : nothing}
        <div class="actions"><button type="submit" ?disabled=${this.busy}>Invite</button></div>
      </form>`;
  }

  private async addUser(e: Event): Promise<void> {
    e.preventDefault();
    const name = this.addForm.name.trim();
    const email = this.addForm.email.trim();
    const errors: FieldErrors = {};
    if (!name) errors['user-name'] = 'Enter their name.';
    if (!EMAIL.test(email)) errors['user-email'] = 'Enter their email address, e.g. sam@example.com.';
    this.fieldErrors = errors;
    this.addFailure = null;
    if (Object.keys(errors).length) {
      void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
      return;
    }
    this.busy = true;
    try {
      // No password: the invitee sets their own at a one-time link.
      const user = await this.api<User>('/users', { method: 'POST', body: { name, email, role: this.addForm.role } });
      const { url } = await this.api<{ url: string }>(`/users/${user.id}/invite`, { method: 'POST' });
      this.added = { name, email, url };
      this.copied = '';
      this.addForm = { name: '', email: '', role: 'agent' };
      await this.load();
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLElement>('#added-title')?.focus();
    } catch (err) {
      this.addFailure = failureOf(err);
    } finally {
      this.busy = false;
    }
  }

  /** A new link for someone whose link was lost or expired (the last unused one stops working). */
  private async invite(u: User): Promise<void> {
    this.busy = true;
    try {
      const { url } = await this.api<{ url: string }>(`/users/${u.id}/invite`, { method: 'POST' });
      this.added = { name: u.name, email: u.email, url };
      this.copied = '';
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLElement>('#added-title')?.focus();
    } catch (err) {
      const f = failureOf(err);
      this.rowNotice = new Map(this.rowNotice).set(u.id, { ok: false, text: `No link: ${f.message} (${f.code})` });
    } finally {
      this.busy = false;
    }
  }

  private async copyInvite(): Promise<void> {
    try {
      await navigator.clipboard.writeText(this.added!.url);
      this.copied = 'Link copied.';
    } catch {
      const pre = this.renderRoot.querySelector('#invite-link');
      if (pre) getSelection()?.selectAllChildren(pre);
      this.copied = 'Selected: press Ctrl+C (⌘C) to copy.';
    }
  }

  private async changeRole(u: User, select: HTMLSelectElement): Promise<void> {
    const role = select.value as Role;
    this.busy = true;
    try {
      const saved = await this.api<User>(`/users/${u.id}`, { method: 'PATCH', body: { role } });
      this.users = this.users.map((x) => (x.id === u.id ? saved : x));
      this.rowNotice = new Map(this.rowNotice).set(u.id, { ok: true, text: `Now ${ROLES.find((r) => r.value === role)?.label ?? role}.` });
    } catch (err) {
      const f = failureOf(err);
      select.value = u.role;
      this.rowNotice = new Map(this.rowNotice).set(u.id, { ok: false, text: `Not changed: ${f.message} (${f.code})` });
    } finally {
      this.busy = false;
    }
  }

  private async saveSkills(e: Event, u: User): Promise<void> {
    e.preventDefault();
    const skills = [...new Set((this.skillDrafts.get(u.id) ?? u.skills.join(',')).split(',').map((s) => s.trim().toLowerCase()).filter(Boolean))];
    this.busy = true;
    try {
      const saved = await this.api<User>(`/users/${u.id}`, { method: 'PATCH', body: { skills } });
      this.users = this.users.map((x) => (x.id === u.id ? saved : x));
      const drafts = new Map(this.skillDrafts);
      drafts.delete(u.id);
      this.skillDrafts = drafts;
      this.rowNotice = new Map(this.rowNotice).set(u.id, { ok: true, text: 'Skills saved.' });
    } catch (err) {
      const f = failureOf(err);
      this.rowNotice = new Map(this.rowNotice).set(u.id, { ok: false, text: `Skills not saved: ${f.message} (${f.code})` });
    } finally {
      this.busy = false;
    }
  }

  private async removeUser(u: User): Promise<void> {
    this.busy = true;
    try {
      await this.api(`/users/${u.id}`, { method: 'DELETE' });
      this.confirmRemove = '';
      await this.load();
      void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('#user-name')?.focus());
    } catch (err) {
      const f = failureOf(err);
      this.confirmRemove = '';
      this.rowNotice = new Map(this.rowNotice).set(u.id, { ok: false, text: `Not removed: ${f.message} (${f.code})` });
    } finally {
      this.busy = false;
    }
  }

  private renderTeams(): TemplateResult {
    return html`
      <section part="teams" aria-labelledby="teams-title">
        <h2 id="teams-title">Teams</h2>
        ${this.teams.map((t) => {
          const routing = (t.settings.routing ?? {}) as { strategy?: string };
          const notice = this.teamNotice.get(t.id);
          return html`
            <fieldset data-team=${t.id}>
              <legend>${t.name}</legend>
              <div class="field inline">
                <label for=${`strategy-${t.id}`}>Routing</label>
                <select id=${`strategy-${t.id}`} data-action="strategy" ?disabled=${this.busy} @change=${(e: Event) => this.setStrategy(t, e.target as HTMLSelectElement)}>
                  ${STRATEGIES.map((s) => html`<option value=${s.value} ?selected=${s.value === (routing.strategy ?? 'round_robin')}>${s.label}</option>`)}
                </select>
              </div>
              <div role="group" aria-label=${`Members of ${t.name}`} class="row">
                ${this.users.filter((u) => u.role !== 'viewer').map((u) => html`
                  <div class="field inline">
                    <input type="checkbox" id=${`member-${t.id}-${u.id}`} data-member=${u.id} .checked=${live(t.memberIds.includes(u.id))} ?disabled=${this.busy}
                      @change=${(e: Event) => this.setMember(t, u, (e.target as HTMLInputElement).checked)}>
                    <label for=${`member-${t.id}-${u.id}`}>${u.name}</label>
                  </div>`)}
              </div>
              ${notice ? html`<div class="notice ${notice.ok ? 'ok' : 'error'}" role="status">${notice.text}</div>` : nothing}
            </fieldset>`;
        })}
        <form novalidate aria-labelledby="new-team-title" @submit=${this.addTeam}>
          <h3 id="new-team-title">New team</h3>
          <div class="field">
            <label for="team-name">Team name</label>
            <input id="team-name" .value=${this.teamName} aria-invalid=${this.fieldErrors['team-name'] ? 'true' : 'false'} aria-describedby="team-name-error" autocomplete="off"
              @input=${(e: Event) => (this.teamName = (e.target as HTMLInputElement).value)}>
            <span id="team-name-error" class="field-error">${this.fieldErrors['team-name'] ?? ''}</span>
          </div>
          ${this.teamFailure ? html`<div class="notice error" role="alert" data-code=${this.teamFailure.code}>Not created: ${this.teamFailure.message} <code>${this.teamFailure.code}</code></div>` : nothing}
          <div class="actions"><button type="submit" ?disabled=${this.busy}>Create team</button></div>
        </form>
      </section>`;
  }

  private async addTeam(e: Event): Promise<void> {
    e.preventDefault();
    const name = this.teamName.trim();
    this.fieldErrors = name ? {} : { 'team-name': 'Name the team, e.g. "Billing".' };
    this.teamFailure = null;
    if (!name) {
      void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('#team-name')?.focus());
      return;
    }
    this.busy = true;
    try {
      await this.api('/teams', { method: 'POST', body: { name } });
      this.teamName = '';
      await this.load();
    } catch (err) {
      this.teamFailure = failureOf(err);
    } finally {
      this.busy = false;
    }
  }

  private async setStrategy(t: Team, select: HTMLSelectElement): Promise<void> {
    const routing = { ...((t.settings.routing ?? {}) as Record<string, unknown>), strategy: select.value };
    await this.saveTeam(t, () => this.api<Team>(`/teams/${t.id}`, { method: 'PATCH', body: { settings: { ...t.settings, routing } } }), 'Routing saved.', () => {
      select.value = ((t.settings.routing ?? {}) as { strategy?: string }).strategy ?? 'round_robin';
    });
  }

  private async setMember(t: Team, u: User, member: boolean): Promise<void> {
    // The box stays as clicked while the hub saves it (put back if the hub refuses), never flicking back meanwhile.
    const shown = { ...t, memberIds: member ? [...new Set([...t.memberIds, u.id])] : t.memberIds.filter((id) => id !== u.id) };
    this.teams = this.teams.map((x) => (x.id === t.id ? shown : x));
    await this.saveTeam(shown, () => this.api<Team>(`/teams/${t.id}/members/${u.id}`, { method: member ? 'PUT' : 'DELETE' }), member ? `${u.name} added.` : `${u.name} removed.`, () => {
      this.teams = this.teams.map((x) => (x.id === t.id ? t : x));
    });
  }

  private async saveTeam(t: Team, save: () => Promise<Team>, ok: string, undo: () => void): Promise<void> {
    this.busy = true;
    try {
      const saved = await save();
      this.teams = this.teams.map((x) => (x.id === t.id ? saved : x));
      this.teamNotice = new Map(this.teamNotice).set(t.id, { ok: true, text: ok });
    } catch (err) {
      const f = failureOf(err);
      undo();
      this.teamNotice = new Map(this.teamNotice).set(t.id, { ok: false, text: `Not saved: ${f.message} (${f.code})` });
    } finally {
      this.busy = false;
    }
  }
}
