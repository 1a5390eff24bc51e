import { css } from 'lit';
import { agentBaseStyles } from '../shared/agent-styles.js';

export const kbSearchStyles = [
  agentBaseStyles,
  css`
    form { display: flex; gap: 6px; }
    input { flex: 1; }
    ul { list-style: none; margin: 8px 0 0; padding: 0; display: flex; flex-direction: column; gap: 8px; }
    li { border: 1px solid var(--_border); border-radius: calc(var(--_radius) / 2); padding: 6px 8px; }
    .title { font-weight: 600; }
    .heading { color: var(--_muted); font-size: 0.85em; }
    .snippet { margin: 4px 0; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 0.9em; }
    .empty { color: var(--_muted); margin: 8px 0 0; }
  `,
];
