import { css } from 'lit';

/**
 * The theme variables every component reads: one set of `--hummdesk-*` custom properties for pages to
 * override. Each default has a light and a dark value (`light-dark()`), chosen by the page's
 * `color-scheme`: a page that declares `color-scheme: light dark` follows the visitor's setting, one that
 * sets `dark` is dark, and a page that says nothing stays light as before.
 */
export const themeTokens = css`
  :host {
    --_accent: var(--hummdesk-accent, light-dark(#1d4ed8, #93c5fd));
    --_accent-fg: var(--hummdesk-accent-contrast, light-dark(#ffffff, #0b1220));
    --_bg: var(--hummdesk-background, light-dark(#ffffff, #111827));
    --_fg: var(--hummdesk-foreground, light-dark(#111827, #f3f4f6));
    --_muted: var(--hummdesk-muted, light-dark(#4b5563, #a1a1aa));
    --_border: var(--hummdesk-border, light-dark(#d1d5db, #3f3f46));
    --_surface: var(--hummdesk-surface, light-dark(#f9fafb, #1f2937));
    --_selected: var(--hummdesk-selected, light-dark(#eff6ff, #1c3455));
    --_badge-bg: var(--hummdesk-badge-background, light-dark(#e5e7eb, #374151));
    --_badge-fg: var(--hummdesk-badge-foreground, light-dark(#1f2937, #e5e7eb));
    --_danger: var(--hummdesk-danger, light-dark(#b91c1c, #fca5a5));
    --_danger-bg: light-dark(#fee2e2, #7f1d1d);
    --_danger-fg: light-dark(#7f1d1d, #fee2e2);
    --_warn-bg: light-dark(#fef3c7, #78350f);
    --_warn-fg: light-dark(#78350f, #fef3c7);
    --_draft-bg: light-dark(#f5f3ff, #2e1065);
  }
`;
