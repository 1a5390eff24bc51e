import { randomUUID } from 'node:crypto';
import { PermanentError, RateLimitError } from '../../connectors/core/errors.js';
import { TeamsRetryableError, TeamsRosterRefusedError, type OutboundActivity, type TeamsConnectorClient } from '../../connectors/teams/client.js';
import { threadConversationId } from '../../connectors/teams/activity.js';
import type { Surface } from '../ai-stage.js';
import { RetryLaterError } from '../queue/jobs.js';
import type { Database, Queryable } from '../../storage/database.js';
import { tenantReads, withAccount } from '../../storage/session.js';
import { listMessages, type MessageRow } from '../../storage/repositories/messages.js';
import { claimSync, releaseSync, SYNC_LEASE_MS, type SyncKey } from '../surfaces/claims.js';
import { IntentRunner, intentsByKey, noteIntent, type Found, type Intent, type PlannedIntent } from '../surfaces/intents.js';
import { Pacer, type PaceLimits } from '../surfaces/pacing.js';
import { customersFirst } from '../surfaces/mirror.js';
import { planInto, rootIntentKey, threadPosts, unplanned, walkThread, type MadePost } from '../surfaces/planner.js';
import { readCardModel } from '../surfaces/card-store.js';
import { replyDigest } from './graph.js';
import { combine, hashActivity, movedCardActivity, rootCardActivity, threadPost, type CardModel } from './render.js';
import { hasTeamsInstall, insertThread, readSyncSnapshot, retireThread, saveRootHash, teamsConfig, threadKey, type TeamsInstallConfig, type TeamsSyncSnapshot, type TeamsThread } from './store.js';

/**
 * Looks for a post an earlier attempt may have made (its call went out, its result was not recorded: a
 * crash, a gateway timeout). The Bot Connector cannot list a channel's messages; Microsoft Graph can, with
 * the app's `ChannelMessage.Read.Group` consent (hub/teams/graph.ts).
 */
export interface TeamsPostFinder {
  /** A root post of ours in `channel` whose card names the conversation, posted at or after `since`. */
  findRoot(install: TeamsInstall, channel: string, conversationId: string, since: Date): Promise<Found>;
  /** A reply of ours under `rootId` whose text has this digest (replyDigest), posted at or after `since`, other than the `recorded` ones. */
  findReply?(install: TeamsInstall, channel: string, rootId: string, digest: string, since: Date, recorded: Set<string>): Promise<Found>;
}

export interface TeamsInstall {
  id: string;
  accountId: string;
  /** The Teams team id. */
  teamId: string;
  config: TeamsInstallConfig;
}

export interface TeamsSurfaceDeps {
  db: Database;
  client: () => TeamsConnectorClient;
  conversationUrl: (conversationId: string) => string;
  finder?: TeamsPostFinder;
  /** A 403 roster refusal: the installation is checked (and disconnected when the bot is gone). */
  onRosterRefused?: (install: TeamsInstall) => Promise<'disconnected' | 'channel'>;
  limits?: Partial<TeamsSurfaceLimits>;
}

export interface TeamsSurfaceLimits {
  /**
   * Teams' per-thread windows every post or update in one thread (and every new thread in one channel)
   * counts against: 7 in 1 s, 8 in 2 s, 60 in 30 s, 1,800 an hour (sliding windows of hub/surfaces/pacing.ts).
   */
  thread: PaceLimits;
  /** Per app and tenant (about 30 requests a second). */
  tenant: PaceLimits;
  /** Backoff after 412/502/504 without Retry-After: first wait, doubling per failure, up to the cap. */
  backoffMs: { first: number; max: number };
}

export const DEFAULT_LIMITS: TeamsSurfaceLimits = {
  thread: {
    windows: [
      { windowMs: 1000, max: 7 },
      { windowMs: 2000, max: 8 },
      { windowMs: 30_000, max: 60 },
      { windowMs: 3600_000, max: 1800 },
    ],
    // A write counts here when it leaves and at Teams when it arrives: a request's latency apart.
    marginMs: 500,
    maxWaitMs: 2000,
  },
  tenant: { perSecond: 30, burst: 30, maxWaitMs: 2000 },
  backoffMs: { first: 1000, max: 60_000 },
};

const SURFACE = 'teams' as const;
/** How long after its start an attempt's post can have landed (our clock against Teams'). */
const FIND_BEFORE_MS = 60_000;
const MAX_RUN_MS = 90_000;
/** How long an account found to have a Teams installation is not asked again. */
const INSTALL_KNOWN_MS = 30_000;

/** A retry the queue makes later; `mayHavePosted` when Teams may have made the post (502/504). */
class TeamsRetryLater extends RetryLaterError {
  constructor(
    message: string,
    delayMs: number,
    readonly mayHavePosted: boolean,
  ) {
    super(message, delayMs);
  }
}

/**
 * Where a conversation's thread belongs: its team's channel, else its inbox's, else the default one,
 * across the account's Teams installations in the order they were connected.
 */
export function teamsTarget(installs: TeamsInstall[], teamId: string | null, inboxId?: string): { install: TeamsInstall; channel: string } | undefined {
  const pick = (f: (c: TeamsInstallConfig) => string | undefined) => {
    for (const install of installs) {
      const channel = f(install.config);
      if (channel) return { install, channel };
    }
    return undefined;
  };
  return (teamId ? pick((c) => c.triageChannels?.[teamId]) : undefined) ?? (inboxId ? pick((c) => c.inboxTriageChannels?.[inboxId]) : undefined) ?? pick((c) => c.defaultTriageChannel);
}

type Step =
  | { kind: 'post'; key: string; messages: MessageRow[]; post: { activity: OutboundActivity; state: string } }
  | { kind: 'update'; activityId: string; post: { activity: OutboundActivity; state: string }; intent: Intent };

interface Pass {
  accountId: string;
  snap: TeamsSyncSnapshot;
  installs: TeamsInstall[];
  messages: MessageRow[];
  card: CardModel;
  first: MessageRow | undefined;
  target: { install: TeamsInstall; channel: string } | undefined;
  thread: TeamsThread | undefined;
  intents: Map<string, Intent>;
  fresh: Set<string>;
  steps?: Step[];
}

/**
 * Mirrors a conversation into Microsoft Teams: one root card per conversation in its team's channel
 * (a channel thread, `<channel>;messageid=<root>`), updated in place when its rendering changes, and thread
 * replies for later messages, a reply's confirmation updated as its delivery changes. Like the Slack
 * surface it holds the conversation's lease (hub/surfaces/claims.ts), records each post before making it
 * (hub/surfaces/intents.ts) and paces per thread (hub/surfaces/pacing.ts); 429/412/502/504 go back to the
 * job queue with Retry-After or backoff and jitter, never dropped, never made twice.
 */
export class TeamsSurface implements Surface {
  readonly name = SURFACE;
  readonly limits: TeamsSurfaceLimits;
  private readonly threadPacer: Pacer;
  private readonly tenantPacer: Pacer;
  private readonly failures = new Map<string, number>();
  /** Accounts known to have a Teams installation, until when. */
  private readonly withInstall = new Map<string, number>();
  /** Per conversation: the last root card rendered here (its model and refresh users) and its hash. */
  private readonly cards = new Map<string, { key: string; card: OutboundActivity; hash: string }>();

  constructor(private readonly deps: TeamsSurfaceDeps) {
    this.limits = { ...DEFAULT_LIMITS, ...deps.limits };
    this.threadPacer = new Pacer(this.limits.thread);
    this.tenantPacer = new Pacer(this.limits.tenant);
  }

  /** New limits from now on; what each thread and tenant has used is kept (a changed limit never makes a busy thread look fresh). */
  setLimits(limits: Partial<TeamsSurfaceLimits>): void {
    Object.assign(this.limits, limits);
    this.threadPacer.setLimits(this.limits.thread);
    this.tenantPacer.setLimits(this.limits.tenant);
  }

  async sync(accountId: string, conversationId: string, _messageId?: string, job?: { id: string; seq?: number }): Promise<void> {
    // No Teams installation: nothing to claim or read.
    // (A yes is remembered for a while: a sync of an account whose team is gone finds no installation anyway.)
    if ((this.withInstall.get(accountId) ?? 0) < performance.now()) {
      if (!(await withAccount(this.deps.db, accountId, hasTeamsInstall))) return;
      if (this.withInstall.size >= 10_000) this.withInstall.clear();
      this.withInstall.set(accountId, performance.now() + INSTALL_KNOWN_MS);
    }
    const key: SyncKey = { accountId, conversationId, surface: SURFACE, owner: job ? `job:${job.id}` : `call:${randomUUID()}`, ...(job ? { job: job.id } : {}) };
    for (let claimed = false; ; claimed = true) {
      const runner = new IntentRunner(this.deps.db, accountId, { key, ms: SYNC_LEASE_MS });
      let round: false | { seq: number };
      try {
        round = await this.syncOnce(key, runner, claimed ? false : { seq: job?.seq });
        if (!round) return;
      } catch (err) {
        // Sent back (not failed): the conversation's queued sync again, so requests meanwhile need no job.
        await releaseSync(tenantReads(this.deps.db, accountId), key, { abandon: true, requeue: err instanceof RetryLaterError || err instanceof RateLimitError, unstart: [...runner.unsent] }).catch(() => undefined);
        if (err instanceof TeamsRosterRefusedError && (err as { install?: TeamsInstall }).install && this.deps.onRosterRefused) {
          // The bot was removed: the installation is disconnected and admins told; nothing to retry.
          if ((await this.deps.onRosterRefused((err as unknown as { install: TeamsInstall }).install)) === 'disconnected') return;
        }
        if (err instanceof RetryLaterError) throw err;
        if (err instanceof RateLimitError) throw new RetryLaterError(err.message, err.retryAfterMs);
        throw err;
      }
      // Everything this round read is mirrored: requests numbered up to what it read need no run of their own.
      const next = await releaseSync(tenantReads(this.deps.db, accountId), key, { syncedSeq: round.seq, unstart: [...runner.unsent] });
      if (next === 'done') return;
    }
  }

  /**
   * One round; false when another sync of the conversation holds it (it goes round again for us) or a
   * finished one already read what this request (numbered `seq`, migration 220) was for; else the request
   * number the round read.
   */
  private async syncOnce(key: SyncKey, runner: IntentRunner, claim: false | { seq?: number }): Promise<false | { seq: number }> {
    const { accountId, conversationId } = key;
    const pass = await withAccount(this.deps.db, accountId, async (tx) => {
      if (claim && (await claimSync(tx, key, SYNC_LEASE_MS, claim.seq)) !== true) return false;
      return this.read(tx, accountId, conversationId);
    });
    if (pass === false) return false;
    if (!pass) return { seq: 0 };
    for (const k of pass.fresh) runner.unsent.add(pass.intents.get(k)!.id);
    await this.mirror(key, runner, pass);
    return { seq: pass.snap.requestSeq ?? 0 };
  }

  private async read(tx: Queryable, accountId: string, conversationId: string): Promise<Pass | undefined> {
    const snap = await readSyncSnapshot(tx, conversationId);
    const c = snap.conversation;
    if (!c || !snap.installs?.length) return undefined;
    const installs: TeamsInstall[] = snap.installs.map((r) => ({ id: r.id, accountId: r.accountId, teamId: r.externalKey, config: teamsConfig(r) }));
    const messages = await listMessages(tx, conversationId, { limit: 1000 });
    const target = teamsTarget(installs, c.teamId, c.channelId);
    const first = customersFirst(messages, c.contactId);
    // The card model the click handler (hub/teams/actions.ts) reads too: the same version on both sides.
    const card = await readCardModel(tx, conversationId, { url: this.deps.conversationUrl, threadReplies: target?.install.config.threadReplies ?? 'notes' });
    if (!card) return undefined;
    const pass: Pass = { accountId, snap, installs, messages, card, first, target, thread: snap.thread ?? undefined, intents: intentsByKey(snap.intents), fresh: new Set() };
    const thread = pass.thread;
    if (thread && target && !sameHome(thread, target)) return pass; // moving: planned after the old card is marked
    if (!thread) {
      if (target) await this.plan(tx, pass, [{ key: this.rootKey(pass), target: { installationId: target.install.id, channel: target.channel } }]);
      return pass;
    }
    pass.steps = this.steps(pass, thread);
    await this.plan(tx, pass, toPlan(pass, pass.steps, thread));
    return pass;
  }

  private plan(tx: Queryable, pass: Pass, items: PlannedIntent[]): Promise<void> {
    return planInto(tx, SURFACE, { accountId: pass.accountId, conversationId: pass.card.conversationId, intents: pass.intents, fresh: pass.fresh }, items);
  }

  private rootKey(pass: Pass): string {
    return rootIntentKey({ installationId: pass.target!.install.id, channel: pass.target!.channel }, pass.snap.threadCount);
  }

  /** The thread's posts and updates still to make, in message order (the walk is hub/surfaces/planner.ts). */
  private steps(pass: Pass, thread: TeamsThread): Step[] {
    const root = thread.data.rootId;
    const kind = pass.snap.conversation!.channelKind;
    const url = pass.card.url;
    const fromTeams = new Set(pass.snap.fromTeams ?? []);
    // The customer's first message is the root card itself.
    const before = new Map<string, MadePost>(pass.first ? [[pass.first.id, { remoteId: root, state: 'root', intentKey: rootIntentKey({ installationId: thread.data.installationId, channel: thread.data.channel }, 0) }]] : []);
    const post = (m: MessageRow) => threadPost(m, kind, url, fromTeams.has(m.id));
    return walkThread<Step>({
      messages: pass.messages,
      threadRef: root,
      posts: threadPosts(pass.intents.values(), root, before),
      mirrored: (m) => post(m) !== undefined,
      post: (key, group) => {
        const posts = group.map(post).filter((p): p is NonNullable<typeof p> => !!p);
        return posts.length ? [{ kind: 'post', key, messages: group, post: combine(posts) }] : [];
      },
      made: (m, seen) => {
        if (seen.state === 'root' || seen.state === 'grouped') return [];
        const p = post(m);
        const intent = pass.intents.get(seen.intentKey);
        return p && intent && seen.remoteId && p.state !== seen.state ? [{ kind: 'update', activityId: seen.remoteId, post: p, intent }] : [];
      },
    });
  }

  private async mirror(key: SyncKey, runner: IntentRunner, pass: Pass): Promise<void> {
    const { accountId, conversationId } = key;
    let thread = pass.thread;
    const target = pass.target;
    if (thread && target && !sameHome(thread, target)) {
      // Moved to another team's channel: the old card says where, a new root carries the history.
      const from = thread;
      const old = pass.installs.find((i) => i.id === from.data.installationId);
      const toName = target.install.config.channels.find((c) => c.id === target.channel)?.name ?? 'another channel';
      if (old) await this.call(old, from.data.channel, from.data.rootId, (c) => c.update(old.config.serviceUrl, threadConversationId(from.data.channel, from.data.rootId), from.data.rootId, movedCardActivity(pass.card, toName)));
      await withAccount(this.deps.db, accountId, async (tx) => {
        await retireThread(tx, from.id, target.channel);
        pass.snap.threadCount += 1;
        await this.plan(tx, pass, [{ key: this.rootKey(pass), target: { installationId: target.install.id, channel: target.channel } }]);
      });
      for (const k of pass.fresh) runner.unsent.add(pass.intents.get(k)!.id);
      thread = undefined;
    }
    if (!thread) {
      if (!target) return;
      thread = await this.root(runner, pass, target);
      pass.thread = thread;
      pass.steps = this.steps(pass, thread);
      const items = toPlan(pass, pass.steps, thread);
      if (items.length) {
        await withAccount(this.deps.db, accountId, (tx) => this.plan(tx, pass, items));
        for (const k of items) if (pass.fresh.has(k.key)) runner.unsent.add(pass.intents.get(k.key)!.id);
      }
    }
    const data = thread.data;
    const install = pass.installs.find((i) => i.id === data.installationId);
    if (!install) return;
    const conv = threadConversationId(data.channel, data.rootId);
    // The thread's posts first (what agents wait to read), then the root card if its rendering changed.
    const started = performance.now();
    for (const step of pass.steps ?? this.steps(pass, thread)) {
      if (performance.now() - started > MAX_RUN_MS) throw new RetryLaterError('long sync continues later', 100);
      if (step.kind === 'update') {
        await this.call(install, data.channel, data.rootId, (c) => c.update(install.config.serviceUrl, conv, step.activityId, step.post.activity));
        await withAccount(this.deps.db, accountId, (tx) => noteIntent(tx, step.intent.id, { shown: step.post.state }));
        continue;
      }
      const intent = pass.intents.get(step.key);
      if (!intent) continue;
      const text = String(step.post.activity.text ?? '');
      await runner.make(intent, pass.fresh.has(step.key), {
        // A reply cut off by a 502/504 (or a crash) may be in the thread: looked for by the digest of the text that attempt sent.
        find: (i) => this.findReply(install, data.channel, data.rootId, i, pass),
        startDetail: { sent: replyDigest(text) },
        call: async () => (await this.call(install, data.channel, data.rootId, (c) => c.replyInThread(install.config.serviceUrl, data.channel, data.rootId, step.post.activity))).id,
        detail: { shown: step.post.state },
        refused,
      });
    }
    const { card, hash } = this.rootCard(pass);
    if (hash !== data.rootHash) {
      await this.call(install, data.channel, data.rootId, (c) => c.update(install.config.serviceUrl, conv, data.rootId, card));
      const id = thread.id;
      await withAccount(this.deps.db, accountId, (tx) => saveRootHash(tx, id, hash));
    }
  }

  /** Posts the root card (or finds the one an earlier attempt posted) and records the thread with it. */
  private async root(runner: IntentRunner, pass: Pass, target: { install: TeamsInstall; channel: string }): Promise<TeamsThread> {
    const key = this.rootKey(pass);
    const intent = pass.intents.get(key);
    if (!intent) throw new Error(`root intent ${key} was not planned`);
    const conversationId = pass.card.conversationId;
    const { card, hash: cardHash } = this.rootCard(pass);
    let thread: TeamsThread | undefined;
    let found = false;
    await runner.make(intent, pass.fresh.has(key), {
      find: async (i) => {
        if (!this.deps.finder) return { absent: true };
        const r = await this.deps.finder.findRoot(target.install, target.channel, conversationId, new Date(new Date(i.startedAt!).getTime() - FIND_BEFORE_MS));
        found = 'found' in r;
        return r;
      },
      call: async () => {
        const install = target.install;
        const r = await this.call(install, target.channel, undefined, (c) => c.createChannelThread(install.config.serviceUrl, { channelId: target.channel, tenantId: install.config.tenantId, activity: card }));
        return r.activityId;
      },
      alsoRecord: async (tx, rootId) => {
        thread = await insertThread(tx, {
          accountId: pass.accountId,
          conversationId,
          // A card found again is brought up to date afterwards (no hash yet).
          data: { installationId: target.install.id, team: target.install.teamId, channel: target.channel, rootId, ...(found ? {} : { rootHash: cardHash }) },
        });
      },
      refused,
    });
    if (!thread) throw new Error('root card recorded without its thread');
    return thread;
  }

  /** The root card and its hash: rendered and hashed again only when its model or refresh users changed since the last sync here. */
  private rootCard(pass: Pass): { card: OutboundActivity; hash: string } {
    const users = pass.snap.refreshUsers ?? undefined;
    const key = JSON.stringify([pass.card, users]);
    const known = this.cards.get(pass.card.conversationId);
    if (known?.key === key) return known;
    const card = rootCardActivity(pass.card, users);
    const made = { key, card, hash: hashActivity(card) };
    if (this.cards.size >= 10_000) this.cards.clear();
    this.cards.set(pass.card.conversationId, made);
    return made;
  }

  /** A reply an earlier attempt of `intent` may have posted (its text's digest was recorded as it went out). */
  private async findReply(install: TeamsInstall, channel: string, rootId: string, intent: Intent, pass: Pass): Promise<Found> {
    const digest = intent.detail.sent;
    if (!this.deps.finder?.findReply || typeof digest !== 'string' || !intent.startedAt) return { absent: true };
    const recorded = new Set([...pass.intents.values()].flatMap((i) => (i.state === 'done' && i.remoteId ? [i.remoteId] : [])));
    return this.deps.finder.findReply(install, channel, rootId, digest, new Date(new Date(intent.startedAt).getTime() - FIND_BEFORE_MS), recorded);
  }

  /** A short plain message of ours in a thread (an agent told why nothing was done), paced like every post. */
  async notice(install: TeamsInstall, channel: string, rootId: string, text: string): Promise<void> {
    await this.call(install, channel, rootId, (c) => c.replyInThread(install.config.serviceUrl, channel, rootId, { textFormat: 'plain', text }));
  }

  /**
   * One write into a thread (or, without a root, a new thread in the channel): paced per thread and per
   * tenant; a retryable answer holds the thread for Retry-After (or a growing backoff) and goes back to the queue.
   */
  private async call<T>(install: TeamsInstall, channel: string, rootId: string | undefined, fn: (c: TeamsConnectorClient) => Promise<T>): Promise<T> {
    const threadKeyOf = rootId ? threadKey(channel, rootId) : channel;
    const tenantKey = `tenant:${install.config.tenantId}`;
    await this.threadPacer.take(threadKeyOf);
    await this.tenantPacer.take(tenantKey);
    try {
      const r = await fn(this.deps.client());
      this.failures.delete(threadKeyOf);
      return r;
    } catch (err) {
      if (err instanceof TeamsRetryableError) {
        const n = (this.failures.get(threadKeyOf) ?? 0) + 1;
        if (this.failures.size > 10_000) this.failures.clear();
        this.failures.set(threadKeyOf, n);
        const backoff = Math.min(this.limits.backoffMs.max, this.limits.backoffMs.first * 2 ** (n - 1));
        const wait = err.status === 429 ? err.retryAfterMs : Math.max(err.retryAfterMs, backoff);
        this.threadPacer.block(threadKeyOf, wait);
        const jitter = Math.floor(Math.random() * Math.min(1000, wait / 4 + 50));
        throw new TeamsRetryLater(err.message, wait + jitter, err.status === 502 || err.status === 504);
      }
      if (err instanceof TeamsRosterRefusedError) Object.assign(err, { install });
      throw err;
    }
  }
}

function sameHome(thread: TeamsThread, target: { install: TeamsInstall; channel: string }): boolean {
  return thread.data.channel === target.channel && thread.data.installationId === target.install.id;
}

function toPlan(pass: Pass, steps: Step[], thread: TeamsThread): PlannedIntent[] {
  // `sent`: the digest of the text going out, by which a later attempt finds the post if its result is lost.
  const posts = steps.flatMap((s) => (s.kind === 'post' ? [{ key: s.key, detail: { group: s.messages.map((m) => m.id), shown: s.post.state, sent: replyDigest(String(s.post.activity.text ?? '')) } }] : []));
  return unplanned(pass.intents, posts, { channel: thread.data.channel, rootId: thread.data.rootId });
}

/** Teams certainly made nothing: a pacing wait, a 429 or 412, or a refusal (4xx). A 502/504 or a lost connection may have posted. */
function refused(err: unknown): boolean {
  if (err instanceof TeamsRetryLater) return !err.mayHavePosted;
  return err instanceof RetryLaterError || err instanceof PermanentError;
}
