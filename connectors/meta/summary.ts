import type { InboundEvent } from '../core/types.js';

/**
 * One line per normalized event, with everything an expected-output file needs to pin down (who,
 * which thread, the text, files, replies, notices, which details were kept): conformance compares
 * these lines, and a person can check them by reading the payload beside them.
 */
export function eventLine(e: InboundEvent): string {
  if (e.type === 'ignored') return `ignored: ${e.reason}`;
  if (e.type === 'status') return `status ${e.externalId} ${e.status}${e.reference ? ` ref=${e.reference}` : ''}${e.error ? ` error=${JSON.stringify(e.error)}` : ''}`;
  if (e.type === 'edited') return `edited ${e.externalId} at=${e.editedAt} text=${JSON.stringify(e.text)}`;
  if (e.type === 'watermark') return `watermark ${e.threadKey} ${e.status} upTo=${e.upTo}`;
  if (e.type === 'deleted') return `deleted ${e.externalId} at=${e.deletedAt}`;
  if (e.type === 'control') return `control ${e.threadKey} owner=${e.owner} app=${e.appId ?? '-'} previous=${e.previousAppId ?? '-'} at=${e.at}`;
  const m = e.message;
  const parts = [`message ${m.direction} ${m.externalId}`, `from=${m.sender.externalId}`];
  if (m.sender.address) parts.push(`phone=${m.sender.address}`);
  if (m.sender.displayName) parts.push(`name=${JSON.stringify(m.sender.displayName)}`);
  parts.push(`thread=${m.threadKey}`, `at=${m.sentAt}`, `text=${JSON.stringify(m.text)}`);
  if (m.inReplyToExternalId) parts.push(`replyTo=${m.inReplyToExternalId}`);
  if (m.attachments.length) parts.push(`files=${m.attachments.map((a) => [a.kind, a.mimeType ?? '', a.name ?? '', a.ref].join('|')).join(',')}`);
  if (m.keptRaw) parts.push(`notice=${m.keptRaw.code}`);
  if (m.autoReply) parts.push('auto');
  if (m.elsewhere) parts.push(`elsewhere=${m.elsewhere.by}`);
  if (m.details) parts.push(`details=${Object.keys(m.details).sort().join(',')}`);
  return parts.join(' ');
}
