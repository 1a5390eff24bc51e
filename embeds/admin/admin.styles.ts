import { css } from 'lit';
import { agentBaseStyles } from '../shared/agent-styles.js';

/** What every admin screen shares: tables, forms, notices, on the agent components' theme tokens. */
export const adminStyles = [
  ...agentBaseStyles,
  css`
    :host { padding: 0.25rem 0; }
    h2 { font-size: 1.15em; margin: 0.75rem 0 0.5rem; }
    h3 { font-size: 1em; margin: 0.75rem 0 0.4rem; }
    table { border-collapse: collapse; inline-size: 100%; }
    th, td { text-align: start; padding: 0.35rem 0.5rem; border-block-end: 1px solid var(--_border); vertical-align: top; }
    th { font-weight: 600; color: var(--_muted); font-size: 0.9em; }
    .preview hummdesk-chat { max-inline-size: 24rem; }
    form, .panel { border: 1px solid var(--_border); border-radius: var(--_radius); padding: 0.75rem; margin-block: 0.75rem; }
    fieldset { border: 1px solid var(--_border); border-radius: calc(var(--_radius) / 2); margin: 0.5rem 0; padding: 0.5rem 0.75rem; }
    legend { font-weight: 600; padding-inline: 0.25rem; }
    .field { display: flex; flex-direction: column; gap: 0.15rem; margin-block: 0.4rem; max-inline-size: 32rem; }
    .field.inline { flex-direction: row; align-items: center; gap: 0.5rem; }
    .row { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: flex-start; }
    .row .field { flex: 1 1 12rem; }
    .hint { color: var(--_muted); font-size: 0.85em; }
    .field-error { color: var(--_danger); font-size: 0.85em; }
    [aria-invalid='true'] { border-color: var(--_danger); }
    .actions { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; margin-block-start: 0.5rem; }
    .notice { border-radius: calc(var(--_radius) / 2); padding: 0.5rem 0.75rem; margin-block: 0.5rem; }
    .notice.error { background: #fef2f2; color: #991b1b; border: 1px solid #fecaca; }
    .notice.ok { background: #f0fdf4; color: #166534; border: 1px solid #bbf7d0; }
    .notice.info { background: #eff6ff; color: #1e3a8a; border: 1px solid #bfdbfe; }
    code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.9em; }
    pre { background: #f3f4f6; color: #111827; padding: 0.5rem; border-radius: calc(var(--_radius) / 2); overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
    .state-active { background: #dcfce7; color: #14532d; }
    .state-failing { background: #fee2e2; color: #7f1d1d; }
    .state-disabled { background: #e5e7eb; color: #1f2937; }
    .state-disconnected { background: #ffedd5; color: #7c2d12; }
    .kinds { display: grid; grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr)); gap: 0.5rem; }
    .kind { border: 1px solid var(--_border); border-radius: var(--_radius); padding: 0.6rem 0.75rem; }
    .kind p { margin: 0.25rem 0 0.5rem; }
    /* A phone: tables share out the width instead of running off the screen; long values wrap. */
    @media (max-width: 600px) {
      table { table-layout: fixed; }
      th, td { overflow-wrap: anywhere; padding-inline: 0.25rem; }
      td select, td input, td button { max-inline-size: 100%; }
    }
  `,
];
