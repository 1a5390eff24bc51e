import { RetryLaterError } from '../queue/jobs.js';

/**
 * Paces calls per platform channel (Slack: about one message a second per channel, short bursts
 * allowed; Teams: per thread) with a token bucket per key. A call that would wait longer than
 * `maxWaitMs` is not made: the job is rescheduled (RetryLaterError) for when the channel has room,
 * so a busy channel never holds a worker. A 429's Retry-After blocks the key for everyone.
 * In one process; several worker processes each pace, and the platform's 429 still stops them.
 */
export interface PaceLimits {
  /** Sustained calls per second per key. */
  perSecond: number;
  /** Calls allowed at once after a quiet spell. */
  burst: number;
  /** Longest wait inside a job; longer waits go back to the queue. */
  maxWaitMs: number;
}

export class Pacer {
  private readonly buckets = new Map<string, { tokens: number; at: number; blockedUntil: number; later: number; /** Slots given to groups (a conversation's jobs): when each comes back. */ groups?: Map<string, number> }>();
  constructor(
    private limitsNow: PaceLimits,
    private readonly clock: { now(): number; sleep(ms: number): Promise<void> } = { now: () => performance.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
  ) {}

  get limits(): PaceLimits {
    return this.limitsNow;
  }

  /**
   * New limits from now on; what each key has used is kept (tokens, a 429's block, slots given back), so
   * changing a limit never makes a busy channel look fresh and lets a burst through that the platform refuses.
   */
  setLimits(limits: PaceLimits): void {
    for (const key of [...this.buckets.keys()]) this.bucket(key);
    this.limitsNow = limits;
    for (const b of this.buckets.values()) b.tokens = Math.min(b.tokens, limits.burst);
  }

  /** How long a call on `key` would wait now (0: at once). */
  waitFor(key: string): number {
    const b = this.bucket(key);
    const now = this.clock.now();
    return Math.max(0, b.blockedUntil - now, b.tokens >= 1 ? 0 : ((1 - b.tokens) / this.limits.perSecond) * 1000);
  }

  /** Takes a slot on `key`, waiting for it when that is short; else throws RetryLaterError with the wait. */
  async take(key: string): Promise<void> {
    const wait = this.ready(key);
    // The slot is reserved now (tokens may go below zero), so calls waiting on one key keep their order.
    this.bucket(key).tokens -= 1;
    if (wait > 0) await this.clock.sleep(wait);
  }

  /**
   * Throws RetryLaterError (with the wait) when a call on `key` would wait longer than `maxWaitMs`, as
   * take() would, without taking a slot; else the wait. A job checks its channel before doing any work.
   */
  ready(key: string, group?: string): number {
    const wait = this.waitFor(key);
    if (wait > this.limits.maxWaitMs) {
      // Jobs sent back come back one slot apart, not all at once (each would only be sent back again);
      // jobs of one group (a conversation's queued syncs, one run does for all) share one slot.
      const b = this.bucket(key);
      const now = this.clock.now();
      const shared = group ? b.groups?.get(group) : undefined;
      const at = shared !== undefined && shared >= now + wait ? shared : Math.max(now + wait, b.later);
      if (at !== shared) b.later = at + 1000 / this.limits.perSecond;
      if (group) {
        b.groups ??= new Map();
        if (b.groups.size >= 10_000) for (const [g, t] of b.groups) if (t < now) b.groups.delete(g);
        b.groups.set(group, at);
      }
      throw new RetryLaterError(`${key}: paced, next slot in ${Math.ceil(at - now)} ms`, Math.ceil(at - now + Math.random() * 100));
    }
    return wait;
  }

  /** The platform said 429: nothing more on `key` until Retry-After has passed. */
  block(key: string, ms: number): void {
    const b = this.bucket(key);
    b.blockedUntil = Math.max(b.blockedUntil, this.clock.now() + ms);
    b.tokens = Math.min(b.tokens, 0);
  }

  private bucket(key: string) {
    const now = this.clock.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= 10_000) this.prune(now);
      b = { tokens: this.limits.burst, at: now, blockedUntil: 0, later: 0 };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.limits.burst, b.tokens + ((now - b.at) / 1000) * this.limits.perSecond);
    b.at = now;
    return b;
  }

  /** Forgets keys that are full again (idle long enough): they would start full anyway. */
  private prune(now: number): void {
    for (const [key, b] of this.buckets) if (b.blockedUntil < now && b.later < now && b.tokens + ((now - b.at) / 1000) * this.limits.perSecond >= this.limits.burst) this.buckets.delete(key);
  }
}
