import { css } from 'lit';
import { agentBaseStyles } from '../shared/agent-styles.js';

export const conversationStyles = [
  agentBaseStyles,
  css`
    :host { display: flex; flex-direction: column; min-block-size: 0; }
    header { padding-block: 8px; padding-inline: 12px; border-block-end: 1px solid var(--_border); }
    header h2 { margin: 0 0 4px; font-size: 1.1em; }
    .facts { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; }
    .ai { display: flex; flex-wrap: wrap; gap: 6px 12px; align-items: center; margin-block-start: 6px; font-size: 0.85em; }
    .ai meter { inline-size: 80px; }
    .thread { list-style: none; margin: 0; padding: 12px; overflow-y: auto; flex: 1; display: flex; flex-direction: column; gap: 8px; }
    .message { max-inline-size: 85%; padding-block: 6px; padding-inline: 10px; border-radius: var(--_radius); border: 1px solid var(--_border); }
    .message.inbound { align-self: flex-start; background: #f9fafb; }
    .message.outbound { align-self: flex-end; background: #eff6ff; }
    .message.note { align-self: stretch; max-inline-size: none; background: var(--_note-bg); border-style: dashed; border-color: #ca8a04; }
    .meta { display: flex; gap: 6px; flex-wrap: wrap; align-items: center; font-size: 0.78em; color: var(--_muted); margin-block-end: 2px; }
    .author { font-weight: 600; color: var(--_fg); }
    .text { white-space: pre-wrap; overflow-wrap: anywhere; }
    .html { overflow-wrap: anywhere; }
    .html img { max-inline-size: 100%; }
    .failed { color: #b91c1c; }
    .typing { margin: 0; padding-block: 2px; padding-inline: 12px; font-size: 0.85em; font-style: italic; color: var(--_muted); }
    form { display: flex; flex-direction: column; gap: 6px; padding: 8px 12px; border-block-start: 1px solid var(--_border); }
    textarea { inline-size: 100%; min-block-size: 60px; resize: vertical; }
    .actions { display: flex; gap: 6px; justify-content: flex-end; align-items: center; }
    .hint { margin-inline-end: auto; font-size: 0.8em; color: var(--_muted); }
    .empty { padding: 16px; color: var(--_muted); }
  `,
];
