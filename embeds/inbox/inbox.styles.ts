import { css } from 'lit';
import { agentBaseStyles } from '../shared/agent-styles.js';

export const inboxStyles = [
  agentBaseStyles,
  css`
    :host { display: flex; flex-direction: column; min-block-size: 0; }
    .filters { display: flex; flex-wrap: wrap; gap: 6px; padding: 8px; border-block-end: 1px solid var(--_border); }
    .filters label { display: flex; flex-direction: column; font-size: 0.8em; color: var(--_muted); gap: 2px; }
    .filters .search { flex: 1 1 100%; }
    .filters .search input { inline-size: 100%; }
    .scroller { overflow-y: auto; flex: 1; min-block-size: 0; }
    ul { list-style: none; margin: 0; padding: 0; min-block-size: 100%; box-sizing: border-box; }
    /* Every row is ROW_HEIGHT (inbox.component.ts) tall: only the rows in view are rendered. */
    li {
      display: grid; grid-template-columns: 1fr auto; grid-template-rows: auto auto 1fr; gap: 2px 8px; box-sizing: border-box;
      block-size: 80px; overflow: hidden;
      padding-block: 8px; padding-inline: 12px; border-block-end: 1px solid var(--_border); cursor: pointer;
    }
    li:hover { background: var(--_surface); }
    li[aria-selected='true'] { background: var(--_selected); border-inline-start: 3px solid var(--_accent); }
    .name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .time { color: var(--_muted); font-size: 0.8em; }
    .tags { grid-column: 1 / -1; display: flex; flex-wrap: nowrap; gap: 4px; overflow: hidden; }
    .tags .badge { flex: none; }
    .priority-high, .priority-urgent { background: var(--_danger-bg); color: var(--_danger-fg); }
    .empty { padding: 16px; color: var(--_muted); }
    .views { display: flex; flex-wrap: wrap; gap: 4px; padding: 8px; border-block-end: 1px solid var(--_border); }
    .view { background: transparent; color: var(--_fg); border-color: var(--_border); font-size: 0.85em; }
    .view[aria-pressed='true'] { background: var(--_accent); color: var(--_accent-fg); border-color: var(--_accent); }
    .count { font-variant-numeric: tabular-nums; opacity: 0.8; }
    .preview { grid-column: 1 / -1; color: var(--_muted); font-size: 0.9em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    li.unread .name { font-weight: 800; }
    .dot { display: inline-block; inline-size: 8px; block-size: 8px; border-radius: 50%; background: var(--_accent); margin-inline-end: 6px; vertical-align: middle; }
    .waiting { background: var(--_warn-bg); color: var(--_warn-fg); }
  `,
];
