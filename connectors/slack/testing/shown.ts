import type { EmulatedMessage, SlackEmulator } from './emulator.js';

/**
 * Test support: which customer messages each post of a surface shows. Every customer message carries
 * a unique token (matched by `token`); each post or update into the watched channels is scanned for
 * tokens, so a message is "shown" from the first post that carries it, and "doubled" when a second,
 * different post carries it too (an update of the same post is the same post).
 */
export class ShownMessages {
  /** token → when first shown (performance.now()) and the posts (channel:ts) that showed it. */
  private readonly shown = new Map<string, { at: number; posts: Set<string> }>();

  constructor(
    emulator: SlackEmulator,
    private readonly opts: { channels: (channel: string) => boolean; token: RegExp; now?: () => number },
  ) {
    if (!opts.token.global) throw new Error('the token pattern must be global (/…/g)');
    emulator.onMessage((m) => this.see(m));
  }

  private see(m: EmulatedMessage): void {
    if (!this.opts.channels(m.channel)) return;
    const at = (this.opts.now ?? performance.now.bind(performance))();
    const post = `${m.channel}:${m.ts}`;
    for (const token of new Set(`${m.text} ${JSON.stringify(m.blocks ?? [])}`.match(this.opts.token) ?? [])) {
      const entry = this.shown.get(token);
      if (entry) entry.posts.add(post);
      else this.shown.set(token, { at, posts: new Set([post]) });
    }
  }

  /** When the message was first shown, if it was. */
  shownAt(token: string): number | undefined {
    return this.shown.get(token)?.at;
  }

  /** How many different posts show the message. */
  postsShowing(token: string): number {
    return this.shown.get(token)?.posts.size ?? 0;
  }

  /** Of these messages: how many are shown, how many in more than one post, and when the last was first shown. */
  tally(tokens: Iterable<string>): { shown: number; doubled: number; lastShownAt: number | undefined } {
    let shown = 0;
    let doubled = 0;
    let lastShownAt: number | undefined;
    for (const t of tokens) {
      const entry = this.shown.get(t);
      if (!entry) continue;
      shown++;
      if (entry.posts.size > 1) doubled++;
      lastShownAt = Math.max(lastShownAt ?? entry.at, entry.at);
    }
    return { shown, doubled, lastShownAt };
  }
}
