import type { Queryable } from '../../storage/database.js';
import type { MessageRow } from '../../storage/repositories/messages.js';
import type { SurfaceName } from './claims.js';
import { planIntents, type Intent, type PlannedIntent } from './intents.js';
import { coalesce } from './mirror.js';

/**
 * The surface-neutral half of a sync's plan: which intents a conversation's thread needs (the root card
 * per target, one post per message or coalesced group), read from what the thread shows already. A
 * surface supplies only what is its own: how a message renders, what a made post needs (an update, files).
 */

/** Where a thread is (or goes): an installation and its channel. */
export interface ThreadTarget {
  installationId: string;
  channel: string;
}

/** The root card's intent: one per target and thread number, so a move (a new thread) posts a new root. */
export const rootIntentKey = (target: ThreadTarget, threadCount: number) => `root:${target.installationId}:${target.channel}:${threadCount}`;

/** A thread post's intent: the thread's own id on its surface (Slack ts, Teams root id) and the group's first message. */
export const postIntentKey = (threadRef: string, messageId: string) => `msg:${threadRef}:${messageId}`;

/** A post the thread shows, as seen from one message in it. */
export interface MadePost {
  /** The platform's id of the post (null for a post recorded without one). */
  remoteId: string | null;
  /** What the post shows as made (detail.shown); 'grouped' for every message of a group but its first. */
  state: string;
  intentKey: string;
  /** The group's messages, on its first message. */
  group?: string[];
}

/** What a thread's intents say per message: posts made, and posts an earlier attempt planned (and may have made). */
export interface ThreadPosts {
  made: Map<string, MadePost>;
  pending: Map<string, Intent>;
}

/** Reads a thread's post intents (keys under `postIntentKey(threadRef, …)`) into made and pending posts per message. */
export function threadPosts(intents: Iterable<Intent>, threadRef: string, made: Map<string, MadePost> = new Map()): ThreadPosts {
  const prefix = postIntentKey(threadRef, '');
  const pending = new Map<string, Intent>();
  for (const intent of intents) {
    if (!intent.key.startsWith(prefix)) continue;
    const group = (intent.detail.group as string[] | undefined) ?? [intent.key.slice(prefix.length)];
    if (intent.state === 'done') group.forEach((id, i) => made.set(id, { remoteId: intent.remoteId, state: i === 0 ? String(intent.detail.shown ?? '') : 'grouped', intentKey: intent.key, ...(i === 0 ? { group } : {}) }));
    else for (const id of group) pending.set(id, intent);
  }
  return { made, pending };
}

export interface ThreadWalk<S> {
  messages: MessageRow[];
  threadRef: string;
  posts: ThreadPosts;
  /** Whether a message shows in the thread at all. */
  mirrored(m: MessageRow): boolean;
  /** The steps of a post to make: a new (coalesced) group, or the group an earlier attempt planned. */
  post(key: string, group: MessageRow[]): S[];
  /** The steps for a message whose post is made: an update when what it shows changed, its files. */
  made(m: MessageRow, post: MadePost): S[];
}

/**
 * The thread's steps in message order. Messages not in the thread yet wait and go out coalesced
 * (consecutive customer messages of one sender, hub/surfaces/mirror.ts); a reply, a note or a message
 * with files ends a group. A group an earlier attempt planned goes out (or is found) as planned,
 * whatever came since.
 */
export function walkThread<S>(w: ThreadWalk<S>): S[] {
  const steps: S[] = [];
  const waiting: MessageRow[] = [];
  const byId = new Map(w.messages.map((m) => [m.id, m]));
  const flush = () => {
    if (!waiting.length) return;
    for (const group of coalesce(waiting.splice(0))) steps.push(...w.post(postIntentKey(w.threadRef, group[0]!.id), group));
  };
  for (const m of w.messages) {
    const made = w.posts.made.get(m.id);
    const pending = w.posts.pending.get(m.id);
    if (!made && !pending && w.mirrored(m)) {
      waiting.push(m);
      if (m.attachments.length || m.direction !== 'inbound') flush();
      continue;
    }
    flush();
    if (made && (made.state === 'root' || made.state === 'skip')) {
      steps.push(...w.made(m, made));
      continue;
    }
    if (pending) {
      if (pending.key === postIntentKey(w.threadRef, m.id)) {
        const group = ((pending.detail.group as string[] | undefined) ?? [m.id]).map((id) => byId.get(id)).filter((x): x is MessageRow => !!x);
        steps.push(...w.post(pending.key, group));
      }
      continue;
    }
    if (made) steps.push(...w.made(m, made));
  }
  flush();
  return steps;
}

/** The intents a plan's posts need that are not recorded yet. */
export function unplanned(intents: Map<string, Intent>, posts: { key: string; detail: Record<string, unknown> }[], target: Record<string, unknown>): PlannedIntent[] {
  return posts.flatMap((p) => (intents.has(p.key) ? [] : [{ key: p.key, target, detail: p.detail }]));
}

/** What a sync pass keeps of its intents: all it read, and those it planned itself (their calls have not gone out). */
export interface PlannedPass {
  accountId: string;
  conversationId: string;
  intents: Map<string, Intent>;
  fresh: Set<string>;
}

/** Records intents (hub/surfaces/intents.ts) and adds them to the pass, marked as its own. */
export async function planInto(tx: Queryable, surface: SurfaceName, pass: PlannedPass, items: PlannedIntent[]): Promise<void> {
  const made = await planIntents(tx, { accountId: pass.accountId, conversationId: pass.conversationId, surface }, items);
  for (const [k, intent] of made) {
    pass.intents.set(k, intent);
    pass.fresh.add(k);
  }
}
