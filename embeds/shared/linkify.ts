import { html, type TemplateResult } from 'lit';
import { safeHttpUrl } from './safe-url.js';

const WEB_LINK = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;

/** Message text as text nodes, with http(s) links made clickable; nothing in it is ever parsed as HTML. */
export function linkify(text: string): (string | TemplateResult)[] {
  const parts: (string | TemplateResult)[] = [];
  let last = 0;
  for (const match of text.matchAll(WEB_LINK)) {
    const href = safeHttpUrl(match[0]);
    if (!href) continue;
    parts.push(text.slice(last, match.index));
    parts.push(html`<a href=${href} target="_blank" rel="noopener noreferrer nofollow">${match[0]}</a>`);
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return parts;
}
