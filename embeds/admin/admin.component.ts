import { LitElement, css, html, type TemplateResult } from 'lit';
import { property, state } from 'lit/decorators.js';
import { adminStyles } from './admin.styles.js';

const SCREENS = [
  { id: 'channels', label: 'Channels' },
  { id: 'people', label: 'People' },
  { id: 'kb', label: 'Knowledge base' },
  { id: 'ai', label: 'AI' },
  { id: 'security', label: 'API keys and audit' },
] as const;
type Screen = (typeof SCREENS)[number]['id'];

/**
 * The admin console (admins and owners): one tab per screen, each a component of its own that can also
 * be embedded alone. Takes the admin's short-lived access token (settings routes refuse embed tokens).
 *
 * @tag hummdesk-admin
 * @csspart tabs - the tab list
 * @csspart panel - the current screen
 * @fires hummdesk-auth-expired - the access token was refused: set a fresh `token`
 */
export class HummdeskAdmin extends LitElement {
  static override styles = [
    adminStyles,
    css`
      [role='tablist'] { display: flex; flex-wrap: wrap; gap: 0.25rem; border-block-end: 1px solid var(--_border); margin-block-end: 0.5rem; }
      [role='tab'] { background: transparent; color: var(--_fg); border: 1px solid transparent; border-block-end: none; border-radius: calc(var(--_radius) / 2) calc(var(--_radius) / 2) 0 0; padding: 0.4em 1em; }
      @media (max-width: 600px) { [role='tab'] { padding: 0.4em 0.6em; } }
      [role='tab'][aria-selected='true'] { border-color: var(--_border); background: var(--_bg); color: var(--_accent); font-weight: 600; margin-block-end: -1px; }
    `,
  ];

  /** Base URL of the hub; defaults to the origin the script was loaded from. */
  @property() hub = '';

  /** An admin's or owner's access token. */
  @property() token = '';

  /** The screen shown: `channels`, `people`, `kb`, `ai` or `security` (API keys and audit log). */
  @property({ reflect: true }) screen: Screen = 'channels';

  @state() private visited = new Set<Screen>(['channels']);

  protected override render(): TemplateResult {
    return html`
      <div role="tablist" part="tabs" aria-label="Settings" @keydown=${this.onKey}>
        ${SCREENS.map((s) => html`
          <button type="button" role="tab" id=${`tab-${s.id}`} data-screen=${s.id} aria-controls=${`panel-${s.id}`}
            aria-selected=${this.screen === s.id ? 'true' : 'false'} tabindex=${this.screen === s.id ? 0 : -1}
            @click=${() => this.show(s.id)}>${s.label}</button>`)}
      </div>
      ${SCREENS.filter((s) => this.visited.has(s.id) || this.screen === s.id).map((s) => html`
        <div role="tabpanel" part="panel" id=${`panel-${s.id}`} aria-labelledby=${`tab-${s.id}`} ?hidden=${this.screen !== s.id}>
          ${s.id === 'channels'
            ? html`<hummdesk-admin-channels .hub=${this.hub} .token=${this.token}></hummdesk-admin-channels>`
            : s.id === 'people'
              ? html`<hummdesk-admin-people .hub=${this.hub} .token=${this.token}></hummdesk-admin-people>`
              : s.id === 'kb'
                ? html`<hummdesk-admin-kb .hub=${this.hub} .token=${this.token}></hummdesk-admin-kb>`
                : s.id === 'ai'
                  ? html`<hummdesk-admin-ai .hub=${this.hub} .token=${this.token}></hummdesk-admin-ai>`
                  : html`<hummdesk-admin-security .hub=${this.hub} .token=${this.token}></hummdesk-admin-security>`}
        </div>`)}
    `;
  }

  private show(screen: Screen): void {
    this.screen = screen;
    this.visited = new Set(this.visited).add(screen);
  }

  /** Arrow keys move between tabs (WAI-ARIA tabs pattern); Tab moves into the panel. */
  private onKey(e: KeyboardEvent): void {
    const i = SCREENS.findIndex((s) => s.id === this.screen);
    const next = e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? SCREENS.length - 1 : undefined;
    if (next === undefined) return;
    e.preventDefault();
    const s = SCREENS[(next + SCREENS.length) % SCREENS.length]!;
    this.show(s.id);
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`#tab-${s.id}`)?.focus());
  }
}
