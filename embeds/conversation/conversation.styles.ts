import { css } from 'lit';
import { agentBaseStyles } from '../shared/agent-styles.js';

export const conversationStyles = [
  agentBaseStyles,
  css`
    :host { display: flex; flex-direction: column; min-block-size: 0; --_note-edge: light-dark(#ca8a04, #eab308); --_note-fg: light-dark(#854d0e, #fde68a); }
    header { padding-block: 8px; padding-inline: 12px; border-block-end: 1px solid var(--_border); }
    header h2 { margin: 0 0 4px; font-size: 1.1em; }
    .facts { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; }
    .ai { display: flex; flex-wrap: wrap; gap: 6px 12px; align-items: center; margin-block-start: 6px; font-size: 0.85em; }
    .ai meter { inline-size: 80px; }
    .thread { list-style: none; margin: 0; padding: 12px; overflow-y: auto; flex: 1; display: flex; flex-direction: column; gap: 8px; }
    .message { max-inline-size: 85%; padding-block: 6px; padding-inline: 10px; border-radius: var(--_radius); border: 1px solid var(--_border); }
    .message.inbound { align-self: flex-start; background: var(--_surface); }
    .message.outbound { align-self: flex-end; background: var(--_selected); }
    .message.note { align-self: stretch; max-inline-size: none; background: var(--_note-bg); border-style: dashed; border-color: var(--_note-edge); }
    .message.notice { align-self: center; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; font-size: 0.85em; color: var(--_muted); border-style: dotted; }
    .message.notice button { font-size: 0.9em; }
    .address { color: var(--_muted); overflow-wrap: anywhere; }
    .badge.forged { color: var(--_danger); border-color: var(--_danger); }
    .meta { display: flex; gap: 6px; flex-wrap: wrap; align-items: center; font-size: 0.78em; color: var(--_muted); margin-block-end: 2px; }
    .author { font-weight: 600; color: var(--_fg); }
    .text { white-space: pre-wrap; overflow-wrap: anywhere; }
    .html { overflow-wrap: anywhere; }
    .html img { max-inline-size: 100%; }
    .failed { color: var(--_danger); }
    .typing { margin: 0; padding-block: 2px; padding-inline: 12px; font-size: 0.85em; font-style: italic; color: var(--_muted); }
    form { display: flex; flex-direction: column; gap: 6px; padding: 8px 12px; border-block-start: 1px solid var(--_border); }
    textarea { inline-size: 100%; min-block-size: 60px; resize: vertical; }
    .mode { display: inline-flex; align-self: flex-start; margin: 0; padding: 0; border: 0; }
    .mode label { position: relative; }
    .mode input { position: absolute; inset: 0; margin: 0; opacity: 0; cursor: pointer; }
    .mode span {
      display: block; padding-block: 0.2em; padding-inline: 0.8em; font-size: 0.9em;
      border: 1px solid var(--_border); background: var(--_bg); color: var(--_fg);
    }
    .mode label:first-of-type span { border-start-start-radius: calc(var(--_radius) / 2); border-end-start-radius: calc(var(--_radius) / 2); }
    .mode label:last-of-type span { border-inline-start: 0; border-start-end-radius: calc(var(--_radius) / 2); border-end-end-radius: calc(var(--_radius) / 2); }
    .mode input:checked + span { background: var(--_accent); border-color: var(--_accent); color: var(--_accent-fg); font-weight: 600; }
    .mode input:focus-visible + span { outline: 2px solid var(--_accent); outline-offset: 2px; }
    /* The note colours of the thread, so a note being written looks like the note it becomes. */
    form.note { background: var(--_note-bg); }
    form.note textarea { background: var(--_note-bg); border: 1px dashed var(--_note-edge); }
    form.note .mode input[value=note]:checked + span, form.note button.send { background: var(--_note-fg); border-color: var(--_note-fg); color: var(--_note-bg); }
    .actions { display: flex; gap: 6px; justify-content: flex-end; align-items: center; }
    .hint { margin-inline-end: auto; font-size: 0.8em; color: var(--_muted); }
    .empty { padding: 16px; color: var(--_muted); }
    form.dropping { outline: 2px dashed var(--_accent); outline-offset: -4px; }
    .staged { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 6px; }
    .staged li { display: flex; align-items: center; gap: 6px; padding: 4px 6px; border: 1px solid var(--_border); border-radius: calc(var(--_radius) / 2); max-inline-size: 100%; }
    .staged li.failed { border-color: #b91c1c; }
    .staged img { inline-size: 40px; block-size: 40px; object-fit: cover; border-radius: 4px; }
    .staged .name { overflow-wrap: anywhere; }
    .staged .file-error { color: #b91c1c; font-size: 0.85em; }
    .staged .unstage { padding: 0 6px; }
    .attachments { list-style: none; margin: 6px 0 0; padding: 0; display: flex; flex-direction: column; gap: 4px; }
    .attachments img { display: block; max-inline-size: min(320px, 100%); max-block-size: 240px; border-radius: calc(var(--_radius) / 2); border: 1px solid var(--_border); }
    .attachments .download { overflow-wrap: anywhere; margin-inline-end: 4px; }
    .toolbar { display: flex; flex-wrap: wrap; gap: 6px 10px; align-items: flex-end; margin-block-start: 8px; }
    .toolbar label { display: flex; flex-direction: column; font-size: 0.75em; color: var(--_muted); gap: 1px; }
    .toolbar select { font-size: 1.15em; }
    .toolbar .tags { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; }
    .tag { display: inline-flex; gap: 2px; align-items: center; }
    .remove-tag { background: none; border: 0; color: inherit; padding: 0 2px; line-height: 1; }
    .snooze-date { display: flex; flex-direction: row; gap: 6px; align-items: flex-end; padding: 0; border: 0; }
    .shortcuts { margin-block-start: 6px; font-size: 0.85em; }
    .shortcuts dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; margin: 0; }
    .shortcuts dt { text-align: end; }
    .shortcuts dd { margin: 0; }
    kbd { font: 0.9em ui-monospace, monospace; border: 1px solid var(--_border); border-radius: 4px; padding: 0 4px; }
    .translation { margin-block-start: 4px; padding-inline-start: 8px; border-inline-start: 2px solid var(--_border); }
    button.translate { font-size: 0.8em; }
    .reply-translation { display: grid; grid-template-columns: 1fr 1fr auto; gap: 8px; align-items: start; margin-block: 6px; }
    .reply-translation p { margin: 2px 0 0; white-space: pre-wrap; }
  `,
];
