import { css } from 'lit';
import { agentBaseStyles } from '../shared/agent-styles.js';

export const draftStyles = [
  agentBaseStyles,
  css`
    :host { border: 1px solid var(--_border); border-radius: var(--_radius); padding: 10px 12px; }
    h3 { margin: 0 0 6px; font-size: 1em; display: flex; gap: 6px; align-items: center; }
    .text { white-space: pre-wrap; overflow-wrap: anywhere; background: var(--_draft-bg); border-radius: calc(var(--_radius) / 2); padding: 8px; margin: 0 0 8px; }
    .honest { font-size: 0.8em; color: var(--_muted); margin: 0 0 6px; }
    .citations { font-size: 0.85em; margin: 0 0 8px; padding-inline-start: 1.2em; }
    .citations .excerpt { display: block; color: var(--_muted); }
    textarea { inline-size: 100%; min-block-size: 90px; resize: vertical; margin-block-end: 6px; }
    .actions { display: flex; gap: 6px; flex-wrap: wrap; }
    .alternatives { border: 0; padding: 0; margin: 0 0 6px; display: flex; gap: 10px; flex-wrap: wrap; font-size: 0.9em; }
    .alternatives label { display: inline-flex; gap: 4px; align-items: center; cursor: pointer; }
    .empty { color: var(--_muted); margin: 0; }
  `,
];
