import { css } from 'lit';
import { themeTokens } from '../shared/theme.js';

/** Logical properties only (inline-start/end), so the widget mirrors itself under `dir="rtl"`. */
const own = css`
  .files img { display: block; max-inline-size: 100%; max-block-size: 200px; border-radius: 6px; margin-block-end: 4px; }
  :host {
    /* The widget keeps its light look on any site (a customer's page may declare a dark color-scheme); sites theme it with the custom properties. */
    color-scheme: light;
    --_radius: var(--hummdesk-radius, 12px);
    --_inbound-bg: var(--hummdesk-visitor-bubble, var(--_accent));
    --_inbound-fg: var(--hummdesk-visitor-bubble-text, var(--_accent-fg));
    --_outbound-bg: var(--hummdesk-agent-bubble, #f3f4f6);
    --_outbound-fg: var(--hummdesk-agent-bubble-text, #111827);
    position: fixed;
    inset-block-end: var(--hummdesk-offset-block, 20px);
    inset-inline-end: var(--hummdesk-offset-inline, 20px);
    z-index: var(--hummdesk-z-index, 2147483000);
    font: var(--hummdesk-font, 15px/1.45 system-ui, sans-serif);
    color: var(--_fg);
    display: flex;
    flex-direction: column;
    align-items: flex-end;
    gap: 12px;
  }
  :host([inline]) { position: static; align-items: stretch; }
  *, *::before, *::after { box-sizing: border-box; }
  [hidden] { display: none !important; }
  .sr-only {
    position: absolute; inline-size: 1px; block-size: 1px; overflow: hidden;
    clip-path: inset(50%); white-space: nowrap;
  }
  :focus-visible { outline: 2px solid var(--_accent); outline-offset: 2px; }

  .launcher {
    position: relative; order: 2; align-self: flex-end;
    inline-size: 56px; block-size: 56px; border-radius: 50%; border: none; cursor: pointer;
    background: var(--_accent); color: var(--_accent-fg);
    box-shadow: 0 4px 14px rgb(0 0 0 / 0.25);
    display: grid; place-items: center;
  }
  .launcher svg { inline-size: 28px; block-size: 28px; fill: currentColor; }
  .badge {
    position: absolute; inset-block-start: -4px; inset-inline-end: -4px;
    min-inline-size: 22px; block-size: 22px; padding-inline: 6px; border-radius: 11px;
    background: #b91c1c; color: #fff; font-size: 12px; font-weight: 700; line-height: 22px; text-align: center;
  }

  .panel {
    order: 1; inline-size: min(380px, calc(100vw - 40px)); block-size: min(560px, calc(100vh - 120px));
    display: flex; flex-direction: column; overflow: hidden;
    background: var(--_bg); border: 1px solid var(--_border); border-radius: var(--_radius);
    box-shadow: 0 12px 32px rgb(0 0 0 / 0.2);
  }
  header {
    display: flex; align-items: center; gap: 8px;
    padding-block: 12px; padding-inline: 16px;
    background: var(--_accent); color: var(--_accent-fg);
  }
  header h2 { margin: 0; font-size: 1.05em; flex: 1; }
  .connection { font-size: 0.8em; }
  .close {
    border: none; background: transparent; color: inherit; cursor: pointer;
    font-size: 1.4em; line-height: 1; padding-inline: 6px;
  }
  .offline-banner {
    margin: 0; padding-block: 6px; padding-inline: 16px;
    background: #fef3c7; color: #78350f; font-size: 0.85em;
  }

  .log { flex: 1; overflow-y: auto; padding-block: 12px; padding-inline: 12px; }
  .log ul { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 8px; }
  .greeting { color: var(--_muted); text-align: center; margin-block: 4px 12px; }
  .message { display: flex; gap: 8px; align-items: flex-end; max-inline-size: 85%; }
  .message.inbound { align-self: flex-end; flex-direction: row-reverse; }
  .message.outbound { align-self: flex-start; }
  .avatar {
    flex: none; inline-size: 28px; block-size: 28px; border-radius: 50%;
    background: #e0e7ff; color: #312e81; font-size: 12px; font-weight: 700;
    display: grid; place-items: center;
  }
  .bubble {
    padding-block: 8px; padding-inline: 12px; border-radius: var(--_radius);
    white-space: pre-wrap; overflow-wrap: anywhere; text-align: start;
  }
  .inbound .bubble { background: var(--_inbound-bg); color: var(--_inbound-fg); border-end-end-radius: 4px; }
  .outbound .bubble { background: var(--_outbound-bg); color: var(--_outbound-fg); border-end-start-radius: 4px; }
  .inbound .bubble a { color: inherit; }
  .meta { display: block; font-size: 0.75em; margin-block-start: 2px; color: var(--_muted); }
  .inbound .meta { text-align: end; }
  .message.failed .bubble { opacity: 0.75; }
  .retry { font: inherit; font-size: 1em; border: none; background: none; color: #b91c1c; text-decoration: underline; cursor: pointer; padding: 0; margin-inline-start: 4px; }

  form.composer {
    display: flex; gap: 8px; align-items: flex-end;
    padding-block: 10px; padding-inline: 12px; border-block-start: 1px solid var(--_border);
  }
  textarea, input {
    font: inherit; color: var(--_fg); background: var(--_bg);
    border: 1px solid var(--_border); border-radius: 8px; padding-block: 8px; padding-inline: 10px;
  }
  textarea { flex: 1; resize: none; min-block-size: 40px; max-block-size: 120px; }
  .send, .start {
    font: inherit; border: none; border-radius: 8px; cursor: pointer;
    background: var(--_accent); color: var(--_accent-fg); padding-block: 9px; padding-inline: 14px;
  }
  form.prechat { display: flex; flex-direction: column; gap: 10px; padding: 16px; }
  form.prechat label { display: flex; flex-direction: column; gap: 4px; font-size: 0.9em; }
  .error { color: #b91c1c; font-size: 0.85em; margin: 0; }
  .attach { border: none; background: none; color: var(--_muted); cursor: pointer; padding: 8px; inline-size: 40px; block-size: 40px; }
  .attach svg { inline-size: 20px; block-size: 20px; }
  .files { list-style: none; margin: 4px 0 0; padding: 0; font-size: 0.9em; }
  .files a { color: inherit; text-decoration: underline; overflow-wrap: anywhere; }
  .staged { padding-block: 6px 0; padding-inline: 12px; font-size: 0.85em; }
  .staged ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 6px; }
  .staged li { display: flex; align-items: center; gap: 4px; border: 1px solid var(--_border); border-radius: 8px; padding-block: 2px; padding-inline: 8px 2px; overflow-wrap: anywhere; }
  .unstage { border: none; background: none; cursor: pointer; font: inherit; color: var(--_muted); padding-inline: 4px; }
  .typing { margin: 4px 0 0; font-size: 0.85em; font-style: italic; color: var(--_muted); }
  .away { margin: 0; padding-block: 6px; padding-inline: 16px; background: #e0f2fe; color: #0c4a6e; font-size: 0.85em; }
  .away p { margin-block: 4px; }
  .reply-email { display: flex; flex-wrap: wrap; gap: 6px; align-items: flex-end; }
  .reply-email label { display: flex; flex-direction: column; flex: 1; gap: 2px; }
  .csat { display: flex; flex-direction: column; gap: 6px; margin: 0; padding-block: 8px; padding-inline: 12px; border-block-start: 1px solid var(--_border); }
  .csat fieldset { border: none; margin: 0; padding: 0; }
  .csat legend { font-weight: 600; padding: 0; }
  .star { font-size: 1.5em; line-height: 1; border: none; background: none; color: #b45309; cursor: pointer; padding-inline: 2px; }
  .start:disabled { opacity: 0.5; cursor: default; }
  .panel.dragging { outline: 2px dashed var(--_accent); outline-offset: -6px; }
`;

export const chatStyles = [themeTokens, own];
