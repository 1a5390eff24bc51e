import { css } from 'lit';

/** The theme variables every component reads: one set of `--hummdesk-*` custom properties for pages to override. */
export const themeTokens = css`
  :host {
    --_accent: var(--hummdesk-accent, #1d4ed8);
    --_accent-fg: var(--hummdesk-accent-contrast, #ffffff);
    --_bg: var(--hummdesk-background, #ffffff);
    --_fg: var(--hummdesk-foreground, #111827);
    --_muted: var(--hummdesk-muted, #4b5563);
    --_border: var(--hummdesk-border, #d1d5db);
  }
`;
