import { css } from 'lit';
import { themeTokens } from './theme.js';

/** What every agent component shares: theme variables, focus rings, the visually hidden helper. */
const own = css`
  :host {
    --_radius: var(--hummdesk-radius, 8px);
    --_note-bg: var(--hummdesk-note-background, light-dark(#fef9c3, #422006));
    display: block;
    font: var(--hummdesk-font, 14px/1.45 system-ui, sans-serif);
    color: var(--_fg);
    background: var(--_bg);
    box-sizing: border-box;
  }
  *, *::before, *::after { box-sizing: inherit; }
  [hidden] { display: none !important; }
  .sr-only {
    position: absolute; inline-size: 1px; block-size: 1px; overflow: hidden;
    clip-path: inset(50%); white-space: nowrap;
  }
  button {
    font: inherit; cursor: pointer; border-radius: calc(var(--_radius) / 2);
    border: 1px solid var(--_accent); background: var(--_accent); color: var(--_accent-fg);
    padding-block: 0.3em; padding-inline: 0.8em;
  }
  button.secondary { background: transparent; color: var(--_accent); }
  button:disabled { opacity: 0.6; cursor: default; }
  input, select, textarea {
    font: inherit; color: var(--_fg); background: var(--_bg);
    border: 1px solid var(--_border); border-radius: calc(var(--_radius) / 2); padding: 0.3em 0.5em;
  }
  :focus-visible { outline: 2px solid var(--_accent); outline-offset: 2px; }
  .badge {
    display: inline-block; font-size: 0.75em; padding-inline: 0.5em; border-radius: 999px;
    background: var(--_badge-bg); color: var(--_badge-fg); white-space: nowrap;
  }
  .error { color: var(--_danger); }
  .muted { color: var(--_muted); }
`;

export const agentBaseStyles = [themeTokens, own];
