import type { MessageRow } from '../../storage/repositories/messages.js';

/** Thread mirroring decisions shared by every surface. */

/** The customer's own first message: not a notice, nor someone who joined the thread (whose Date may be earlier). */
export function customersFirst(messages: MessageRow[], contactId: string): MessageRow | undefined {
  const inbound = messages.filter((m) => m.direction === 'inbound' && m.authorKind === 'contact');
  return inbound.find((m) => !m.sender || m.sender.contactId === contactId) ?? inbound[0];
}

/** Who a customer message is from, for coalescing: the sender's identity, else the author's name. */
const fromWhom = (m: MessageRow) => (m.direction === 'inbound' && m.authorKind === 'contact' && !m.notice && !m.attachments.length ? `${m.sender?.identityId ?? ''}|${m.authorName ?? ''}` : undefined);

/**
 * Coalesces messages waiting for the thread: consecutive customer messages of one sender (without
 * files, which go with their own message) become one post, at most `max` to a post. Anything else is
 * a post of its own. Order is kept.
 */
export function coalesce(waiting: MessageRow[], max = 10): MessageRow[][] {
  const posts: MessageRow[][] = [];
  let last: string | undefined;
  for (const m of waiting) {
    const who = fromWhom(m);
    const current = posts.at(-1);
    if (who !== undefined && who === last && current && current.length < max) current.push(m);
    else posts.push([m]);
    last = who;
  }
  return posts;
}
