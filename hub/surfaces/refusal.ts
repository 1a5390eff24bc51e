import type { HubError } from '../errors.js';

/** A template the agent could send instead of a refused reply (WhatsApp's window closed). */
export interface OfferedTemplate {
  name: string;
  language: string;
}

/**
 * What a refused reply offers instead, for any surface to render: WhatsApp's approved templates when
 * the 24-hour window closed ([] when the number has none), undefined when the refusal offers nothing.
 */
export function templatesOffered(err: HubError): OfferedTemplate[] | undefined {
  const templates = (err.details as { templates?: unknown } | undefined)?.templates;
  if (!Array.isArray(templates)) return undefined;
  return templates.filter((t): t is OfferedTemplate => !!t && typeof t.name === 'string' && typeof t.language === 'string');
}

/**
 * What a refused reply offers instead, as a line a surface appends ('' when nothing): `where` names the
 * conversation in the surface's own link syntax, `name` writes one template in its markup.
 */
export function offeredInstead(err: HubError, where: string, name: (t: OfferedTemplate) => string): string {
  const templates = templatesOffered(err);
  if (!templates) return '';
  return templates.length
    ? `\nApproved templates you can send instead, from ${where}: ${templates.map(name).join(', ')}.`
    : '\nThis number has no approved template to send instead: sync its templates in HummDesk once Meta approves one.';
}

/** The refusal in plain text (Teams, email-like surfaces): the reason and what could be sent instead. */
export function plainRefusal(err: HubError, conversationUrl: string): string {
  return `Nothing was sent: ${err.message}${offeredInstead(err, `HummDesk (${conversationUrl})`, (t) => `${t.name} (${t.language})`)}`;
}
