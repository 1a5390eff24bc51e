/** Text crossing between Slack's mrkdwn and plain text, in both directions. */

/**
 * Escapes text for a mrkdwn field: with `&`, `<` and `>` escaped Slack renders no mention
 * (`<!channel>`, `<@U…>`), link or date token from it, only the literal characters.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
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
