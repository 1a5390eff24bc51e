import { randomUUID } from 'node:crypto';
import type { WebClient } from '@slack/web-api';
import type { ChannelInstallation } from '../../connectors/core/types.js';
import { RateLimitError } from '../../connectors/core/errors.js';
import type { Surface } from '../ai-stage.js';
import { RetryLaterError } from '../queue/jobs.js';
import type { Database, Queryable } from '../../storage/database.js';
import type { SecretBox } from '../../storage/secret-box.js';
import type { LocalBlobStore } from '../../storage/blob-store.js';
import { tenantReads, withAccount } from '../../storage/session.js';
import type { MessageRow } from '../../storage/repositories/messages.js';
import { SlackClients, slackErrorCode, toConnectorError } from '../../connectors/slack/client.js';
import { slackConfig } from '../../connectors/slack/config.js';
import { SLACK_DISTRIBUTED_APP_READS, SLACK_POSTS_PER_CHANNEL } from '../../connectors/slack/rate-limits.js';
import { fit, hashBody, messageReply, movedCard, rootCard, slackDate, type CardModel, type SlackMessageBody } from './blocks.js';
import { insertThread, nameSlackCustomer, readSyncSnapshot, retireThread, saveRootHash, type SlackSyncSnapshot, type SlackThread, type StoredFile } from './store.js';
import { fetchSlackFiles } from './file-fetch.js';
import { claimSync, releaseSync, SYNC_LEASE_MS, type SyncKey } from '../surfaces/claims.js';
import { replyWindowOf } from '../surfaces/channel-window.js';
import { IntentRunner, intentsByKey, noteIntent, recordDone, type Found, type Intent, type PlannedIntent } from '../surfaces/intents.js';
import { Pacer, type PaceLimits } from '../surfaces/pacing.js';
import { customersFirst } from '../surfaces/mirror.js';
import { planInto, postIntentKey, rootIntentKey, threadPosts, unplanned, walkThread, type MadePost } from '../surfaces/planner.js';

export interface SlackSurfaceDeps {
  db: Database;
  box: SecretBox;
  clients: SlackClients;
  blobs: LocalBlobStore;
  /** Link to a conversation in the HummDesk UI. */
  conversationUrl: (conversationId: string) => string;
  now?: () => number;
  limits?: Partial<SlackSurfaceLimits>;
  /** New outbox rows were committed (a file handed to the slack.files job). */
  onOutbox?: () => void;
}

export interface SlackSurfaceLimits {
  /** Posts and updates per triage channel (Slack: about one a second, short bursts). */
  posts: PaceLimits;
  /**
   * conversations.history / conversations.replies, read only to find a post whose result was not
   * recorded: distributed apps outside the Marketplace get 1 call a minute of at most 15 messages.
   */
  reads: { perMinute: number; pageSize: number };
  /**
   * After a call whose outcome is unknown (cut off by the client's timeout, a 5xx), how long Slack may still
   * be carrying it out: the post is looked for only after that, so one landing late is found, not made again.
   */
  settleMs: number;
}

export const DEFAULT_LIMITS: SlackSurfaceLimits = {
  posts: { ...SLACK_POSTS_PER_CHANNEL, maxWaitMs: 2000 },
  reads: { perMinute: SLACK_DISTRIBUTED_APP_READS.perMinute, pageSize: SLACK_DISTRIBUTED_APP_READS.pageMax },
  settleMs: 30_000,
};

/** Metadata on every root card: finds a card whose post was not recorded. */
export const ROOT_EVENT = 'hummdesk_conversation';
/** Metadata on every thread post: `intent_id` finds a post whose result was not recorded. */
export const POST_EVENT = 'hummdesk_post';

const SURFACE = 'slack' as const;
/** How long a users.info answer stands in for the customer's name. */
const NAME_TTL_MS = 60 * 60_000;
/** Our clock against Slack's, and how long after its start an attempt's post can have landed. */
const FIND_BEFORE_S = 60;
const FIND_AFTER_S = 6 * 60;
/** Longest round of a sync; the rest follows in the rescheduled job. */
const MAX_RUN_MS = 90_000;

/**
 * Where a conversation's thread belongs: its team's triage channel, else its inbox's, else the
 * default one. The team comes first, so moving a conversation to another team moves its thread.
 */
export function triageTarget(installs: ChannelInstallation[], teamId: string | null, inboxId?: string): { install: ChannelInstallation; channel: string } | undefined {
  if (teamId)
    for (const install of installs) {
      const channel = slackConfig(install).triageChannels?.[teamId];
      if (channel) return { install, channel };
    }
  if (inboxId)
    for (const install of installs) {
      const channel = slackConfig(install).inboxTriageChannels?.[inboxId];
      if (channel) return { install, channel };
    }
  for (const install of installs) {
    const channel = slackConfig(install).defaultTriageChannel;
    if (channel) return { install, channel };
  }
  return undefined;
}

/** One step of a sync in the thread, in message order. */
type Step =
  | { kind: 'post'; key: string; messages: MessageRow[]; reply: { body: SlackMessageBody; state: string } }
  | { kind: 'files'; key: string; message: MessageRow; files: StoredFile[] }
  | { kind: 'update'; message: MessageRow; ts: string; reply: { body: SlackMessageBody; state: string }; intentKey: string };

interface Pass {
  accountId: string;
  snap: SlackSyncSnapshot;
  installs: ChannelInstallation[];
  messages: MessageRow[];
  card: CardModel;
  first: MessageRow | undefined;
  target: { install: ChannelInstallation; channel: string } | undefined;
  thread: SlackThread | undefined;
  intents: Map<string, Intent>;
  /** Intents this pass planned: their calls have not gone out yet. */
  fresh: Set<string>;
  /** The thread's steps as planned, while the thread is the one read. */
  steps?: Step[];
}

/**
 * Mirrors a conversation into Slack: one root card per conversation in its team's triage channel,
 * updated in place, and thread posts for later messages, updated as their delivery changes.
 * No Slack call is made inside a database transaction: a sync holds its conversation's lease
 * (hub/surfaces/claims.ts), records what it will post (hub/surfaces/intents.ts), posts paced per
 * channel (hub/surfaces/pacing.ts) and records each result in its own short transaction.
 */
export class SlackSurface implements Surface {
  readonly name = SURFACE;
  readonly limits: SlackSurfaceLimits;
  private readonly names = new Map<string, { name: string | undefined; at: number }>();
  /** users.info refused with 429 per workspace: asked again once Retry-After has passed (not at the history read budget). */
  private readonly namesBlockedUntil = new Map<string, number>();
  private readonly secrets = new Map<string, Record<string, string>>();
  /** Per conversation: the pacing key of its thread's channel, as its last sync here found it. */
  private readonly channels = new Map<string, string>();
  /** Per conversation: the last card model seen here and its rendering's hash. */
  private readonly cards = new Map<string, { key: string; hash: string }>();
  private posts: Pacer;
  private reads: Pacer;

  constructor(private readonly deps: SlackSurfaceDeps) {
    this.limits = { ...DEFAULT_LIMITS, ...deps.limits };
    this.posts = new Pacer(this.limits.posts);
    this.reads = new Pacer(this.readLimits());
  }

  /** Changes the limits (tests, benchmarks, a Marketplace app's larger read budget); what each channel has used is kept. */
  setLimits(limits: Partial<SlackSurfaceLimits>): void {
    Object.assign(this.limits, limits);
    this.posts.setLimits(this.limits.posts);
    this.reads.setLimits(this.readLimits());
  }

  private readLimits(): PaceLimits {
    return { perSecond: this.limits.reads.perMinute / 60, burst: 1, maxWaitMs: this.limits.posts.maxWaitMs };
  }

  async sync(accountId: string, conversationId: string, _messageId?: string, job?: { id: string; seq?: number }): Promise<void> {
    const key: SyncKey = { accountId, conversationId, surface: SURFACE, owner: job ? `job:${job.id}` : `call:${randomUUID()}`, ...(job ? { job: job.id } : {}) };
    // A job whose triage channel is busy for longer than a sync may wait goes back to the queue before any
    // database work (the channel as its last sync here found it; a hint, the posts are paced anyway).
    const channel = job ? this.channels.get(conversationId) : undefined;
    if (channel) this.posts.ready(channel, conversationId);
    for (let claimed = false; ; claimed = true) {
      const runner = new IntentRunner(this.deps.db, accountId, { key, ms: SYNC_LEASE_MS }, this.limits.settleMs);
      let round: false | { seq: number };
      try {
        round = await this.syncOnce(key, runner, claimed ? false : { seq: job?.seq });
        if (!round) return;
      } catch (err) {
        const e = err instanceof RetryLaterError ? err : toConnectorError(err);
        const later = e instanceof RetryLaterError ? e : e instanceof RateLimitError ? new RetryLaterError(e.message, e.retryAfterMs) : undefined;
        // Given up for now: the job runs again (after Retry-After, or its backoff) and sees everything; sent
        // back (not failed), it is the conversation's queued sync again, so requests meanwhile need no job.
        await releaseSync(tenantReads(this.deps.db, accountId), key, { abandon: true, requeue: later !== undefined, unstart: [...runner.unsent] }).catch(() => undefined);
        throw later ?? e;
      }
      // Everything this round read is mirrored: requests numbered up to what it read need no run of their own.
      // With every planned call made, giving the lease back is one statement in its own transaction.
      const next = await releaseSync(tenantReads(this.deps.db, accountId), key, { syncedSeq: round.seq, unstart: [...runner.unsent] });
      // Asked for again while this ran: one more round instead of another job's full run.
      if (next === 'done') return;
    }
  }

  /**
   * One round; false when another sync of the conversation holds it (it will go round again for us) or
   * a finished one already read what this request was for; else the request number the round read.
   */
  private async syncOnce(key: SyncKey, runner: IntentRunner, claim: false | { seq?: number }): Promise<false | { seq: number }> {
    const { accountId, conversationId } = key;
    let pass = await withAccount(this.deps.db, accountId, async (tx) => {
      if (claim && (await claimSync(tx, key, SYNC_LEASE_MS, claim.seq)) !== true) return false;
      return this.read(tx, accountId, conversationId, true);
    });
    if (pass === false) return false;
    if (pass && 'prework' in pass) {
      // Names and files from Slack first (no transaction open), so the card and thread show them.
      await this.prework(accountId, pass.prework);
      pass = await withAccount(this.deps.db, accountId, (tx) => this.read(tx, accountId, conversationId, false));
    }
    if (!pass || 'prework' in pass) return { seq: 0 };
    for (const k of pass.fresh) runner.unsent.add(pass.intents.get(k)!.id);
    await this.mirror(key, runner, pass);
    return { seq: pass.snap.requestSeq ?? 0 };
  }

  /** Reads what the card and thread need (one statement) and records the posts this pass will make. */
  private async read(tx: Queryable, accountId: string, conversationId: string, allowPrework: boolean): Promise<Pass | { prework: SlackSyncSnapshot } | undefined> {
    const snap = await readSyncSnapshot(tx, conversationId);
    const c = snap.conversation;
    if (!c || !snap.installs?.length) return undefined;
    if (allowPrework && (snap.unnamed || snap.unfetched?.length)) return { prework: snap };
    const installs = snap.installs.map((r) => ({ id: r.id, accountId: r.accountId, kind: 'slack' as const, externalKey: r.externalKey, teamId: r.teamId, config: r.config, secrets: this.open(r.secretsEnc) }));
    const messages = snap.messages ?? [];
    const target = triageTarget(installs, c.teamId, c.channelId);
    const first = customersFirst(messages, c.contactId);
    const card: CardModel = {
      conversationId: c.id,
      ref: c.id.slice(0, 8),
      url: this.deps.conversationUrl(c.id),
      subject: c.subject,
      status: c.status,
      priority: c.priority,
      category: c.category,
      sentiment: c.sentiment,
      language: c.language,
      confidence: c.confidence,
      snoozedUntil: c.snoozedUntil ? new Date(c.snoozedUntil).toISOString() : null,
      customer: c.contactName ?? first?.authorName ?? 'Customer',
      source: { kind: c.channelKind, name: c.sourceName ?? c.channelKind },
      firstLines: first ? firstLines(first) : '',
      assignee: c.assignee,
      threadReplies: 'notes',
      ...(c.channelKind === 'whatsapp' || c.channelKind === 'messenger' ? { replyWindow: replyWindowOf(c.channelKind, lastInboundOf(messages), { humanAgent: c.humanAgentTag !== false }) } : {}),
      ...(snap.draft ? { draft: { id: snap.draft.id, text: snap.draft.text, extractive: snap.draft.extractive, citations: (snap.draft.citations ?? []) as NonNullable<CardModel['draft']>['citations'] } } : {}),
    };
    const pass: Pass = { accountId, snap, installs, messages, card, first, target, thread: snap.thread ?? undefined, intents: intentsByKey(snap.intents), fresh: new Set() };
    const thread = pass.thread;
    if (thread && target && (thread.data.channel !== target.channel || thread.data.installationId !== target.install.id)) return pass; // moving: planned after the move
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

  /** The thread's posts, file shares and updates still to make, in message order (the walk is hub/surfaces/planner.ts). */
  private steps(pass: Pass, thread: SlackThread): Step[] {
    const ts = thread.data.ts;
    const kind = pass.snap.conversation!.channelKind;
    const url = this.deps.conversationUrl(pass.card.conversationId);
    const fromSlack = new Set(pass.snap.fromSlack ?? []);
    // What the thread shows already: the root's message and posts recorded before intents, then intents.
    const before = new Map<string, MadePost>();
    for (const [id, e] of Object.entries(thread.data.posted ?? {})) before.set(id, { remoteId: e.ts, state: e.state, intentKey: postIntentKey(ts, id) });
    const filesShown = (id: string) => thread.data.posted?.[id]?.files;
    const byId = new Map(pass.messages.map((m) => [m.id, m]));
    const replyOf = (m: MessageRow) => mirroredReply(m, kind, url, fromSlack.has(m.id));
    const replies = (group: MessageRow[]) => group.map(replyOf).filter((r): r is NonNullable<typeof r> => !!r);
    return walkThread<Step>({
      messages: pass.messages,
      threadRef: ts,
      posts: threadPosts(pass.intents.values(), ts, before),
      mirrored: (m) => replyOf(m) !== undefined,
      post: (key, group) => {
        const steps: Step[] = [];
        const r = replies(group);
        if (r.length) steps.push({ kind: 'post', key, messages: group, reply: r.length === 1 ? r[0]! : combine(r) });
        for (const g of group) this.fileStep(pass, steps, ts, g, fromSlack, undefined);
        return steps;
      },
      made: (m, seen) => {
        const steps: Step[] = [];
        if (seen.state === 'skip') return steps;
        if (seen.state !== 'root') {
          // A post shows its whole group: an edit or deletion of any of them updates it.
          const r = seen.state === 'grouped' ? [] : replies((seen.group ?? [m.id]).map((id) => (id === m.id ? m : byId.get(id))).filter((g): g is MessageRow => !!g));
          const reply = r.length > 1 ? combine(r) : r[0];
          if (reply && seen.state !== reply.state && seen.remoteId) steps.push({ kind: 'update', message: m, ts: seen.remoteId, reply, intentKey: seen.intentKey });
        }
        this.fileStep(pass, steps, ts, m, fromSlack, filesShown(m.id));
        return steps;
      },
    });
  }

  /** Files follow their message into the thread, once each; what was written in Slack has its files there already. */
  private fileStep(pass: Pass, steps: Step[], ts: string, m: MessageRow, fromSlack: Set<string>, alreadyShared: number | undefined): void {
    const list = pass.snap.files?.[m.id];
    if (!list?.length || fromSlack.has(m.id)) return;
    const key = `files:${ts}:${m.id}`;
    if (pass.intents.get(key)?.state === 'done' || (alreadyShared ?? 0) >= list.length) return;
    steps.push({ kind: 'files', key, message: m, files: list.slice(alreadyShared ?? 0) });
  }

  private async mirror(key: SyncKey, runner: IntentRunner, pass: Pass): Promise<void> {
    const { accountId, conversationId } = key;
    const installOf = (id: string) => pass.installs.find((i) => i.id === id);
    let thread = pass.thread;
    const target = pass.target;
    if (thread && target && (thread.data.channel !== target.channel || thread.data.installationId !== target.install.id)) {
      // Moved to another team: mark the old root, open a new one that carries the history.
      const old = installOf(thread.data.installationId);
      const from = thread;
      if (old) await this.slack(old, from.data.channel, (c) => c.chat.update({ channel: from.data.channel, ts: from.data.ts, ...movedCard(pass.card, target.channel) }));
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
      // Known before the root card goes out: a job sent back by its busy channel checks it first next time.
      const channel = `${target.install.externalKey}:${target.channel}`;
      this.noteChannel(conversationId, channel);
      // A busy channel sends the job back now, to the slot its conversation's other jobs share.
      this.posts.ready(channel, conversationId);
      thread = await this.root(runner, pass, target);
      pass.steps = this.steps(pass, thread);
      const items = toPlan(pass, pass.steps, thread);
      if (items.length) {
        await withAccount(this.deps.db, accountId, (tx) => this.plan(tx, pass, items));
        for (const k of items) if (pass.fresh.has(k.key)) runner.unsent.add(pass.intents.get(k.key)!.id);
      }
    }
    const data = thread.data;
    const install = installOf(data.installationId);
    if (!install) return;
    this.noteChannel(conversationId, `${install.externalKey}:${data.channel}`);
    const model: CardModel = { ...pass.card, threadReplies: slackConfig(install).threadReplies ?? 'notes' };
    const hash = this.cardHash(model);
    if (hash !== data.rootHash) {
      const card = rootCard(model);
      await this.slack(install, data.channel, (c) => c.chat.update({ channel: data.channel, ts: data.ts, ...card }));
      const id = thread.id;
      await withAccount(this.deps.db, accountId, (tx) => saveRootHash(tx, id, hash));
    }
    const scope = { accountId, conversationId, surface: SURFACE };
    const started = performance.now();
    for (const step of pass.steps ?? this.steps(pass, thread)) {
      // A long run (a moved conversation's history at the channel's pace) continues in a later job,
      // well within the job's and the sync's leases, so no second run ever starts beside it.
      if (performance.now() - started > MAX_RUN_MS) throw new RetryLaterError('long sync continues later', 100);
      if (step.kind === 'update') {
        await this.slack(install, data.channel, (c) => c.chat.update({ channel: data.channel, ts: step.ts, ...step.reply.body }));
        const intent = pass.intents.get(step.intentKey);
        await withAccount(this.deps.db, accountId, (tx) =>
          intent ? noteIntent(tx, intent.id, { shown: step.reply.state }) : recordDone(tx, scope, step.intentKey, { channel: data.channel, threadTs: data.ts }, step.ts, { shown: step.reply.state }),
        );
        continue;
      }
      const intent = pass.intents.get(step.key);
      if (!intent) continue;
      if (step.kind === 'post') {
        await runner.make(intent, pass.fresh.has(step.key), {
          find: (i) => this.findReply(install, data.channel, data.ts, i, (m) => (m.metadata?.event_type === POST_EVENT && (m.metadata.event_payload as { intent_id?: string } | undefined)?.intent_id === i.id)),
          call: (i) => this.post(install, data.channel, step.reply.body, data.ts, { event_type: POST_EVENT, event_payload: { conversation_id: conversationId, intent_id: i.id } }),
          // What the post shows as made (an edit since planning included): a later change updates it.
          detail: { shown: step.reply.state },
          refused,
        });
      } else {
        await runner.make(intent, pass.fresh.has(step.key), {
          find: (i) => {
            const ids = (i.detail.fileIds as string[] | undefined) ?? [];
            // Files are shared only once their ids are recorded: none recorded, none shared.
            return ids.length ? this.findReply(install, data.channel, data.ts, i, (m) => !!m.files?.some((f) => ids.includes(String(f.id)))) : Promise.resolve({ absent: true });
          },
          call: (i) => this.shareFiles(accountId, install, data.channel, data.ts, i, step.files),
          refused,
        });
      }
    }
  }

  private noteChannel(conversationId: string, channel: string): void {
    if (this.channels.size >= 10_000) this.channels.clear();
    this.channels.set(conversationId, channel);
  }

  /** The hash of the card a model renders to: rendered and hashed again only when the model changed since the last sync here. */
  private cardHash(model: CardModel): string {
    const key = JSON.stringify(model);
    const known = this.cards.get(model.conversationId);
    if (known?.key === key) return known.hash;
    const hash = hashBody(rootCard(model));
    if (this.cards.size >= 10_000) this.cards.clear();
    this.cards.set(model.conversationId, { key, hash });
    return hash;
  }

  /** Posts the root card (or finds the one an earlier attempt posted) and records the thread with it. */
  private async root(runner: IntentRunner, pass: Pass, target: { install: ChannelInstallation; channel: string }): Promise<SlackThread> {
    const key = this.rootKey(pass);
    const intent = pass.intents.get(key);
    if (!intent) throw new Error(`root intent ${key} was not planned`);
    const conversationId = pass.card.conversationId;
    const card = rootCard({ ...pass.card, threadReplies: slackConfig(target.install).threadReplies ?? 'notes' });
    let thread: SlackThread | undefined;
    let found = false;
    const record = async (tx: Queryable, ts: string) => {
      thread = await insertThread(tx, {
        accountId: target.install.accountId,
        conversationId,
        // A card found again is brought up to date afterwards (no hash yet).
        data: { installationId: target.install.id, slackTeam: target.install.externalKey, channel: target.channel, ts, ...(found ? {} : { rootHash: hashBody(card) }), posted: pass.first ? { [pass.first.id]: { ts, state: 'root' } } : {} },
      });
    };
    await runner.make(intent, pass.fresh.has(key), {
      find: async (i) => {
        const r = await this.findRoot(target.install, target.channel, conversationId, i);
        found = 'found' in r;
        return r;
      },
      call: (i) => this.post(target.install, target.channel, card, undefined, { event_type: ROOT_EVENT, event_payload: { conversation_id: conversationId, intent_id: i.id } }),
      alsoRecord: record,
      refused,
    });
    if (!thread) throw new Error('root card recorded without its thread');
    return thread;
  }

  /**
   * A root card of this conversation an earlier attempt posted, found by its metadata in the window
   * that attempt could have posted in, a page at a time within the read budget. A search that runs
   * out of budget keeps its cursor and continues on the job's next run; it never posts meanwhile.
   */
  private findRoot(install: ChannelInstallation, channel: string, conversationId: string, intent: Intent): Promise<Found> {
    return this.search(install, 'conversations.history', intent, (cursor, oldest, latest) =>
      this.client(install).conversations.history({ channel, oldest, latest, inclusive: true, include_all_metadata: true, limit: this.limits.reads.pageSize, ...(cursor ? { cursor } : {}) }),
    (m) => {
      const p = m.metadata?.event_type === ROOT_EVENT ? (m.metadata.event_payload as { conversation_id?: string; intent_id?: string } | undefined) : undefined;
      // Cards posted before intents carry only the conversation.
      return p?.conversation_id === conversationId && (p.intent_id === undefined || p.intent_id === intent.id);
    });
  }

  private findReply(install: ChannelInstallation, channel: string, threadTs: string, intent: Intent, match: (m: SlackListed) => boolean): Promise<Found> {
    return this.search(install, 'conversations.replies', intent, (cursor, oldest, latest) =>
      this.client(install).conversations.replies({ channel, ts: threadTs, oldest, latest, inclusive: true, include_all_metadata: true, limit: this.limits.reads.pageSize, ...(cursor ? { cursor } : {}) }),
    match);
  }

  private async search(install: ChannelInstallation, method: string, intent: Intent, page: (cursor: string | undefined, oldest: string, latest: string) => Promise<{ messages?: SlackListed[]; has_more?: boolean; response_metadata?: { next_cursor?: string } }>, match: (m: SlackListed) => boolean): Promise<Found> {
    const started = Math.floor(new Date(intent.startedAt!).getTime() / 1000);
    const oldest = String(started - FIND_BEFORE_S);
    const latest = String(started + FIND_AFTER_S);
    let cursor = intent.detail.searchCursor as string | undefined;
    const key = `${method}:${install.externalKey}`;
    for (;;) {
      if (this.reads.waitFor(key) > this.limits.posts.maxWaitMs) return { unsure: true, retryInMs: Math.ceil(this.reads.waitFor(key)), detail: { searchCursor: cursor ?? null } };
      const res = await this.paced(this.reads, key, () => page(cursor, oldest, latest));
      const hit = (res.messages ?? []).find(match);
      if (hit?.ts) return { found: hit.ts, detail: { searchCursor: null } };
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!res.has_more || !cursor) return { absent: true };
    }
  }

  /** Uploads the files first, records their ids, then shares them all in the thread in one message. */
  private async shareFiles(accountId: string, install: ChannelInstallation, channel: string, threadTs: string, intent: Intent, files: StoredFile[]): Promise<string> {
    let ids = intent.detail.fileIds as string[] | undefined;
    if (!ids?.length) {
      ids = [];
      for (const f of files) {
        const bytes = await this.deps.blobs.get(f.blobKey);
        const slot = await this.call(install, (c) => c.files.getUploadURLExternal({ filename: f.name, length: bytes.length }));
        const res = await fetch(String(slot.upload_url), { method: 'POST', body: new Uint8Array(bytes), signal: AbortSignal.timeout(60_000) });
        if (!res.ok) throw new RetryLaterError(`Slack file upload answered HTTP ${res.status}`, 5000);
        ids.push(String(slot.file_id));
      }
      const recorded = ids;
      await withAccount(this.deps.db, accountId, (tx) => noteIntent(tx, intent.id, { fileIds: recorded }));
      intent.detail.fileIds = recorded;
    }
    const shared = ids;
    await this.slack(install, channel, (c) => c.files.completeUploadExternal({ files: shared.map((id, i) => ({ id, title: files[i]?.name ?? 'attachment' })) as [{ id: string; title?: string }], channel_id: channel, thread_ts: threadTs }));
    return shared[0]!;
  }

  /** Customers' names (users.info) and Slack files (url_private with the bot token), with no transaction open. */
  private async prework(accountId: string, snap: SlackSyncSnapshot): Promise<void> {
    const installOf = (id: string) => {
      const r = snap.installs?.find((i) => i.id === id);
      return r ? { ...r, kind: 'slack' as const, secrets: this.open(r.secretsEnc) } : undefined;
    };
    const who = snap.unnamed;
    const install = who ? installOf(who.installationId) : undefined;
    if (who && install) {
      const name = await this.slackUserName(install, who.slackUserId);
      if (name) await withAccount(this.deps.db, accountId, (tx) => nameSlackCustomer(tx, who, name));
    }
    // The conversation's lease is held: two syncs never download one file at once. A failure is recorded
    // on the attachment and retried by the slack.files job (hub/slack/file-fetch.ts), never on every sync.
    if (snap.unfetched?.length) await fetchSlackFiles({ ...this.deps, maxAttempts: 1 }, accountId, snap.conversation?.id ?? '');
  }

  private async slackUserName(install: ChannelInstallation, slackUserId: string): Promise<string | undefined> {
    const now = (this.deps.now ?? Date.now)();
    const key = `${install.externalKey}:${slackUserId}`;
    const cached = this.names.get(key);
    if (cached && now - cached.at < NAME_TTL_MS) return cached.name;
    // Only answers are cached: a failed lookup (a 429 included) is asked again on a later sync.
    if ((this.namesBlockedUntil.get(install.externalKey) ?? 0) > now) return undefined;
    const info = await this.client(install).users.info({ user: slackUserId }).catch((err: unknown) => {
      const e = toConnectorError(err);
      if (e instanceof RateLimitError) this.namesBlockedUntil.set(install.externalKey, (this.deps.now ?? Date.now)() + e.retryAfterMs);
      return undefined;
    });
    if (!info) return undefined;
    const profile = info.user?.profile;
    const name = (profile?.real_name || profile?.display_name || info.user?.real_name || info.user?.name || undefined)?.slice(0, 200);
    if (this.names.size >= 10_000) this.names.clear();
    this.names.set(key, { name, at: now });
    return name;
  }

  /** Posts into a channel, joining it first when the bot is not a member yet. */
  private async post(install: ChannelInstallation, channel: string, body: SlackMessageBody, threadTs?: string, metadata?: { event_type: string; event_payload: Record<string, string> }): Promise<string> {
    const args = { channel, ...body, ...(threadTs ? { thread_ts: threadTs } : {}), ...(metadata ? { metadata } : {}), unfurl_links: false, unfurl_media: false };
    try {
      return await this.slack(install, channel, async (c) => String((await c.chat.postMessage(args)).ts));
    } catch (err) {
      if (slackErrorCode(err) !== 'not_in_channel') throw err;
      await this.call(install, (c) => c.conversations.join({ channel }));
      return this.slack(install, channel, async (c) => String((await c.chat.postMessage(args)).ts));
    }
  }

  /** A post or update in a channel: paced per channel; a 429 holds the channel for Retry-After and reschedules the job. */
  private slack<T>(install: ChannelInstallation, channel: string, fn: (c: WebClient) => Promise<T>): Promise<T> {
    return this.paced(this.posts, `${install.externalKey}:${channel}`, () => fn(this.client(install)));
  }

  private async paced<T>(pacer: Pacer, key: string, fn: () => Promise<T>): Promise<T> {
    await pacer.take(key);
    try {
      return await fn();
    } catch (err) {
      const e = toConnectorError(err);
      if (e instanceof RateLimitError) {
        pacer.block(key, e.retryAfterMs);
        throw new RetryLaterError(e.message, e.retryAfterMs);
      }
      throw err;
    }
  }

  /** A call that is not a post (join, upload slot): not paced, a 429 still reschedules the job. */
  private async call<T>(install: ChannelInstallation, fn: (c: WebClient) => Promise<T>): Promise<T> {
    try {
      return await fn(this.client(install));
    } catch (err) {
      const e = toConnectorError(err);
      if (e instanceof RateLimitError) throw new RetryLaterError(e.message, e.retryAfterMs);
      throw err;
    }
  }

  private client(install: ChannelInstallation): WebClient {
    return this.deps.clients.for(install.secrets.botToken);
  }

  /** Installation secrets, decrypted once per ciphertext. */
  private open(secretsEnc: string | null): Record<string, string> {
    const key = secretsEnc ?? '';
    let s = this.secrets.get(key);
    if (!s) {
      s = this.deps.box.open(secretsEnc) as Record<string, string>;
      if (this.secrets.size >= 1000) this.secrets.clear();
      this.secrets.set(key, s);
    }
    return s;
  }
}

interface SlackListed {
  ts?: string;
  metadata?: { event_type?: string; event_payload?: unknown };
  files?: { id?: string }[];
}

/** The thread steps whose intents are not recorded yet. */
function toPlan(pass: Pass, steps: Step[], thread: SlackThread): PlannedIntent[] {
  const posts = steps.flatMap((s) => (s.kind === 'update' ? [] : [{ key: s.key, detail: s.kind === 'post' ? { group: s.messages.map((m) => m.id), shown: s.reply.state } : {} }]));
  return unplanned(pass.intents, posts, { channel: thread.data.channel, threadTs: thread.data.ts });
}

/** Slack answered with a refusal (or was never asked): nothing was posted. */
function refused(err: unknown): boolean {
  return err instanceof RetryLaterError || slackErrorCode(err) !== undefined;
}

/** Several customer messages as one thread post: one header, each message's text after it. */
function combine(replies: { body: SlackMessageBody; state: string }[]): { body: SlackMessageBody; state: string } {
  const blocks = replies.flatMap((r, i) => (i === 0 ? r.body.blocks : r.body.blocks.slice(1)));
  const text = replies.map((r) => r.body.text).join('\n');
  // One state while none was edited or deleted (as groups were recorded before edits showed); else each's.
  const state = replies.every((r) => r.state === replies[0]!.state) ? replies[0]!.state : replies.map((r) => r.state).join('|');
  return { state, body: { text: text.length > 3000 ? `${text.slice(0, 2999)}…` : text, blocks: fit(blocks) } };
}

const changeLine = (text: string) => ({ type: 'context', elements: [{ type: 'mrkdwn', text, verbatim: true }] });

/**
 * A customer message's thread post as the message is now: an edit on the platform is marked (its
 * state changes, so the post is updated in place), a deletion replaces the text.
 */
export function mirroredReply(m: MessageRow, kind: string, url: string, writtenInSlack: boolean): { body: SlackMessageBody; state: string } | undefined {
  const reply = messageReply(m, kind, url, writtenInSlack);
  if (!reply || m.direction !== 'inbound' || m.notice) return reply;
  const deletedAt = typeof m.metadata?.deletedAt === 'string' ? m.metadata.deletedAt : undefined;
  const editedAt = typeof m.metadata?.editedAt === 'string' ? m.metadata.editedAt : undefined;
  if (deletedAt) {
    return { state: `${reply.state}:deleted`, body: { text: `${reply.body.text.replace(/: $/, '')}: message deleted`, blocks: [reply.body.blocks[0]!, changeLine(`:wastebasket: _Message deleted by its author ${slackDate(deletedAt)}_`)] } };
  }
  if (editedAt) {
    return { state: `${reply.state}:edited:${editedAt}`, body: { text: `${reply.body.text} (edited)`, blocks: fit([...reply.body.blocks, changeLine(`:pencil2: _Edited ${slackDate(editedAt)}_`)]) } };
  }
  return reply;
}

/** The customer's first message as the root card shows it: edits marked, a deletion said. */
function firstLines(m: MessageRow): string {
  if (m.metadata?.deletedAt) return '(message deleted by its author)';
  return m.metadata?.editedAt ? `${m.text} (edited)` : m.text;
}

/** When the customer last wrote on their channel (what opens WhatsApp's and Messenger's reply windows); null: never. */
function lastInboundOf(messages: { direction: string; externalId: string | null; sentAt: unknown }[]): Date | null {
  let last = NaN;
  for (const m of messages) if (m.direction === 'inbound' && m.externalId) last = Math.max(Number.isNaN(last) ? -Infinity : last, new Date(m.sentAt as string).getTime());
  return Number.isFinite(last) ? new Date(last) : null;
}
