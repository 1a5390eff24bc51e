/** Who is copied on a thread: Cc lists as they arrive in mail and as replies carry them. */

/** Most addresses a reply copies; a Cc line longer than this is a mailing list, not a conversation. */
export const MAX_COPIED = 50;

/** True for the mailbox itself and its plus-addresses (`support+token@`): copying it would loop. */
export function isMailboxAddress(address: string, mailbox: string | undefined): boolean {
  if (!mailbox) return false;
  const [l, d] = split(address);
  const [ml, md] = split(mailbox);
  if (d !== md) return false;
  return l === ml || l.startsWith(`${ml}+`);
}

/**
 * The addresses to copy: lower-cased, deduplicated in first-seen order, without the mailbox
 * (no loops) or the `exclude`d ones (the reply's own recipient), and only things that look like
 * an address.
 */
export function copyList(addresses: readonly string[], opts: { mailbox?: string; exclude?: readonly string[] } = {}): string[] {
  const skip = new Set((opts.exclude ?? []).map((a) => a.trim().toLowerCase()));
  const out: string[] = [];
  for (const raw of addresses) {
    const a = raw.trim().toLowerCase();
    if (!/^[^\s@<>",;]+@[^\s@<>",;]+$/u.test(a) || skip.has(a) || isMailboxAddress(a, opts.mailbox)) continue;
    skip.add(a);
    out.push(a);
    if (out.length >= MAX_COPIED) break;
  }
  return out;
}

function split(a: string): [string, string] {
  const s = a.trim().toLowerCase();
  const at = s.lastIndexOf('@');
  return at < 0 ? [s, ''] : [s.slice(0, at), s.slice(at + 1)];
}
