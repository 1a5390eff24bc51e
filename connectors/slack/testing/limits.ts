/**
 * Test support, not product code: Slack's Web API rate limits and network latency, as the emulator
 * applies them to every call. Numbers from api.slack.com/apis/rate-limits: limits are per method per
 * workspace per app, in tiers of requests per minute (Tier 1: 1+, small bursts; Tier 2: 20+; Tier 3:
 * 50+; Tier 4: 100+, generous bursts); chat.postMessage is special: about one message a second per
 * channel, short bursts allowed. Since 2025, a commercially distributed app not approved for the
 * Marketplace gets conversations.history and conversations.replies at 1 request a minute with at most
 * 15 objects a page. A call over its limit is answered HTTP 429, `Retry-After` in whole seconds and
 * `{ ok: false, error: "ratelimited" }`, and is not counted.
 */

import { SLACK_DISTRIBUTED_APP_READS, SLACK_POSTS_PER_CHANNEL } from '../rate-limits.js';

export type SlackRateTier = 1 | 2 | 3 | 4;

/** The tier of each Web API method the emulator serves (`post` is chat.postMessage's own limit). */
export const METHOD_TIERS: Readonly<Record<string, SlackRateTier | 'post'>> = {
  'apps.connections.open': 1,
  'chat.postMessage': 'post',
  'chat.update': 3,
  'chat.delete': 3,
  'chat.postEphemeral': 4,
  'conversations.history': 3,
  'conversations.replies': 3,
  'conversations.info': 3,
  'conversations.join': 3,
  'users.info': 4,
  'views.open': 4,
  'views.update': 4,
  'views.publish': 4,
  'files.info': 4,
  'files.getUploadURLExternal': 4,
  'files.completeUploadExternal': 4,
  // Special tiers documented as "hundreds of requests per minute".
  'auth.test': 4,
  'oauth.v2.access': 4,
};

/** A budget: `perMinute` calls a minute on average, at most `burst` at once. */
export interface RateBudget {
  perMinute: number;
  burst: number;
}

export const DEFAULT_TIERS: Readonly<Record<SlackRateTier, RateBudget>> = {
  1: { perMinute: 1, burst: 5 },
  2: { perMinute: 20, burst: 20 },
  3: { perMinute: 50, burst: 50 },
  4: { perMinute: 100, burst: 100 },
};

/** conversations.history / conversations.replies of a distributed app not approved for the Marketplace. */
export const DISTRIBUTED_APP_HISTORY: Readonly<RateBudget & { pageMax: number }> = SLACK_DISTRIBUTED_APP_READS;

export interface SlackLimitOptions {
  /** false lifts every rate limit (latency stays); the default is Slack's. */
  enabled?: boolean;
  /** Per-tier budgets per workspace and method, replacing the defaults tier by tier. */
  tiers?: Partial<Record<SlackRateTier, RateBudget>>;
  /** chat.postMessage into one channel: messages a second on average (default 1, ../rate-limits.ts). */
  postsPerSecondPerChannel?: number;
  /** chat.postMessage into one channel: how many may go at once before the per-second pace applies (default 3, ../rate-limits.ts). */
  postBurst?: number;
  /** A commercially distributed app without Marketplace approval: history and replies at 1 a minute, 15 a page. */
  distributedApp?: boolean;
  /** Milliseconds each HTTP call takes before Slack acts on it: a fixed value or uniformly random in [min, max] (default 50–300). */
  latencyMs?: number | { min: number; max: number };
}

/** Retry-After in whole seconds, as Slack sends it; never 0. */
export type RetryAfterSeconds = number;

class Bucket {
  private tokens: number;
  private at: number;
  constructor(
    private readonly budget: RateBudget,
    now: number,
  ) {
    this.tokens = budget.burst;
    this.at = now;
  }

  /** Takes one call if the budget has it; else how long until it will. */
  take(now: number): RetryAfterSeconds | undefined {
    const perMs = this.budget.perMinute / 60_000;
    this.tokens = Math.min(this.budget.burst, this.tokens + (now - this.at) * perMs);
    this.at = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / perMs / 1000));
  }
}

export class SlackLimits {
  private readonly buckets = new Map<string, Bucket>();
  private readonly tiers: Record<SlackRateTier, RateBudget>;
  private readonly post: RateBudget;
  private readonly latencyRange: { min: number; max: number };

  constructor(
    readonly opts: SlackLimitOptions = {},
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {
    this.tiers = { ...DEFAULT_TIERS, ...opts.tiers };
    const perSecond = opts.postsPerSecondPerChannel ?? SLACK_POSTS_PER_CHANNEL.perSecond;
    this.post = { perMinute: perSecond * 60, burst: opts.postBurst ?? SLACK_POSTS_PER_CHANNEL.burst };
    const l = opts.latencyMs ?? { min: 50, max: 300 };
    this.latencyRange = typeof l === 'number' ? { min: l, max: l } : l;
    for (const b of [...Object.values(this.tiers), this.post]) if (!(b.perMinute > 0) || !(b.burst >= 1)) throw new Error(`bad Slack rate budget ${JSON.stringify(b)}`);
    if (!(this.latencyRange.min >= 0) || this.latencyRange.max < this.latencyRange.min) throw new Error(`bad Slack latency ${JSON.stringify(l)}`);
  }

  /** How long this call takes, in ms. */
  latency(): number {
    const { min, max } = this.latencyRange;
    return min + Math.round(this.random() * (max - min));
  }

  /** Counts one call of `method` by a workspace's app against its tier; answers Retry-After when it is over. */
  admit(team: string, method: string): RetryAfterSeconds | undefined {
    const budget = this.budgetOf(method);
    return budget ? this.take(`${team}:${method}`, budget) : undefined;
  }

  /** Counts one message posted into a channel against chat.postMessage's per-channel limit. */
  admitPost(team: string, channel: string): RetryAfterSeconds | undefined {
    if (this.opts.enabled === false) return undefined;
    return this.take(`${team}:post:${channel}`, this.post);
  }

  /** The most objects one page of conversations.history / conversations.replies holds. */
  pageMax(method: 'conversations.history' | 'conversations.replies'): number {
    if (this.opts.distributedApp) return DISTRIBUTED_APP_HISTORY.pageMax;
    return method === 'conversations.history' ? 999 : 1000;
  }

  /** The page size when the call names none: Slack's default, capped for a distributed app. */
  pageDefault(method: 'conversations.history' | 'conversations.replies'): number {
    return Math.min(100, this.pageMax(method));
  }

  private budgetOf(method: string): RateBudget | undefined {
    if (this.opts.enabled === false) return undefined;
    if (this.opts.distributedApp && (method === 'conversations.history' || method === 'conversations.replies')) return DISTRIBUTED_APP_HISTORY;
    const tier = METHOD_TIERS[method];
    // chat.postMessage is limited per channel (admitPost), where the channel is known to be valid.
    return tier === undefined || tier === 'post' ? undefined : this.tiers[tier];
  }

  private take(key: string, budget: RateBudget): RetryAfterSeconds | undefined {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = new Bucket(budget, now)));
    return bucket.take(now);
  }
}
