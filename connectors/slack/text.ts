import { displayName } from '../core/text.js';

/** Text crossing between Slack's mrkdwn and plain text, in both directions. */

/**
 * Escapes text for a mrkdwn field: with `&`, `<` and `>` escaped Slack renders no mention
 * (`<!channel>`, `<@U…>`), link or date token from it, only the literal characters.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A name or subject someone else chose (a customer, an e-mail display name, a file), as one line
 * without bidi controls: a newline in a name cannot fake a line of our layout, an override cannot
 * reverse what it shows.
 */
export function oneLineName(text: string): string {
  return displayName(text).replace(/[\s\p{Cc}]+/gu, ' ').trim();
}

/** {@link oneLineName}, escaped for a mrkdwn field. */
export function escapeName(text: string): string {
  return escapeMrkdwn(oneLineName(text));
}

/** A link label must not close the `<url|label>` token it sits in. */
export function link(url: string, label: string): string {
  const safeUrl = url.replace(/[<>|\s]/g, encodeURIComponent);
  return `<${safeUrl}|${escapeMrkdwn(label).replace(/\|/g, '¦')}>`;
}

/** Slack's wire text (entities, `<@U1>`, `<url|label>`, `<#C1|name>`, `<!here>`) as plain text. */
export function slackToPlain(text: string): string {
  return text
    .replace(/<([^<>]*)>/g, (_m, inner: string) => {
      const [target = '', label] = inner.split('|', 2);
      if (target.startsWith('@')) return label ? `@${label}` : target;
      if (target.startsWith('#')) return label ? `#${label}` : target;
      if (target.startsWith('!')) {
        if (target.startsWith('!date^')) return label ?? '';
        if (target.startsWith('!subteam^')) return label ?? '@group';
        return `@${label ?? target.slice(1)}`;
      }
      if (label && label !== target && label !== target.replace(/^mailto:/, '')) return `${label} (${target})`;
      return target.replace(/^mailto:/, '');
    })
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Cuts `text` to at most `max` characters (whole code points), marking the cut with an ellipsis. */
export function truncate(text: string, max: number): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  let cut = text.slice(0, max - 1);
  // A surrogate pair cut in half shows as garbage: drop the broken half.
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return { text: `${cut}…`, truncated: true };
}

/**
 * Escapes `text` for mrkdwn within `max` characters of escaped text: the raw text is cut first, so an
 * entity (`&amp;`) is never cut in half.
 */
export function escapeTruncated(text: string, max: number): { text: string; truncated: boolean } {
  const escaped = escapeMrkdwn(text);
  if (escaped.length <= max) return { text: escaped, truncated: false };
  let out = '';
  for (const ch of text) {
    const e = escapeMrkdwn(ch);
    if (out.length + e.length > max - 1) break;
    out += e;
  }
  return { text: `${out}…`, truncated: true };
}

/**
 * Cuts mrkdwn that is already escaped and formatted to at most `max` characters without leaving half
 * of a token: an entity (`&amp;`), a link, mention or date (`<…>`) is dropped whole rather than cut.
 */
export function truncateMrkdwn(mrkdwn: string, max: number): { text: string; truncated: boolean } {
  if (mrkdwn.length <= max) return { text: mrkdwn, truncated: false };
  let cut = truncate(mrkdwn, max).text.slice(0, -1);
  const open = cut.lastIndexOf('<');
  if (open > cut.lastIndexOf('>')) cut = cut.slice(0, open);
  const amp = cut.lastIndexOf('&');
  if (amp >= 0 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  return { text: `${cut}…`, truncated: true };
}

/**
 * Splits escaped mrkdwn into parts of at most `max` characters, at a paragraph, line or word break
 * where one is in the second half of a part, and never inside an entity or a surrogate pair.
 */
export function splitMrkdwn(mrkdwn: string, max: number): string[] {
  const parts: string[] = [];
  let rest = mrkdwn;
  while (rest.length > max) {
    const window = rest.slice(0, max);
    let cut = -1;
    for (const sep of ['\n\n', '\n', ' ']) {
      const at = window.lastIndexOf(sep);
      if (at >= max / 2) {
        cut = at + sep.length;
        break;
      }
    }
    if (cut < 0) {
      cut = max;
      const amp = window.lastIndexOf('&');
      if (amp >= 0 && !window.slice(amp).includes(';')) cut = amp;
      const last = rest.charCodeAt(cut - 1);
      if (last >= 0xd800 && last <= 0xdbff) cut--;
    }
    parts.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest.length || !parts.length) parts.push(rest);
  return parts;
}
