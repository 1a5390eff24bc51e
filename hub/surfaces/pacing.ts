import { RetryLaterError } from '../queue/jobs.js';

/**
 * Paces calls per platform key (Slack: a channel, about one message a second with short bursts; Teams: a
 * thread, by Teams' own windows, and a tenant) with the platform's own kind of limit:
 *  - a token bucket (`perSecond`, `burst`): Slack's channels, Teams' ~30 requests a second per tenant;
 *  - sliding windows (`windows`): at most `max` calls in any `windowMs`, counted from a log of the key's calls
 *    (Teams per thread: 7 in 1 s, 8 in 2 s, 60 in 30 s, 1,800 an hour), each window `marginMs` longer, since
 *    the platform counts a call when it arrives, a request's latency after it left here. Token buckets that stay
 *    inside such windows allow far less (about 2 a second and, after 30 at once, one every two seconds, where
 *    Teams allows 60 every 30 seconds until the hour's 1,800 are used).
 * A key may have both; a call waits for every limit. A call that would wait longer than `maxWaitMs` is not
 * made: the job is rescheduled (RetryLaterError) for when the key has room, so a busy channel never holds a
 * worker. A 429's Retry-After blocks the key for everyone. In one process; several worker processes each
 * pace, and the platform's 429 still stops them.
 */
export interface PaceWindow {
  windowMs: number;
  max: number;
}

export interface PaceLimits {
  /** Token bucket: sustained calls per second per key. */
  perSecond?: number;
  /** Token bucket: calls allowed at once after a quiet spell. */
  burst?: number;
  /** Sliding windows: at most `max` calls in any `windowMs` per key. */
  windows?: PaceWindow[];
  /** Added to every window when counting (between our clock and the platform's count of arrivals). */
  marginMs?: number;
  /** Longest wait inside a job; longer waits go back to the queue. */
  maxWaitMs: number;
}

interface KeyState {
  /** Token bucket: tokens left (below zero: calls reserved ahead) as of `at`. */
  tokens: number;
  at: number;
  blockedUntil: number;
  /** When the next call sent back to the queue is told to come back (sent-back calls come back spread out). */
  later: number;
  /** Slots given to groups (a conversation's jobs): when each comes back. */
  groups?: Map<string, number>;
  /** Sliding windows: when each call went (or is reserved to go) out, oldest first, none older than the longest window. */
  log: number[];
}

const MAX_KEYS = 10_000;

export class Pacer {
  private readonly keys = new Map<string, KeyState>();
  constructor(
    private limitsNow: PaceLimits,
    private readonly clock: { now(): number; sleep(ms: number): Promise<void> } = { now: () => performance.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
  ) {}

  get limits(): PaceLimits {
    return this.limitsNow;
  }

  /**
   * New limits from now on; what each key has used is kept (tokens, its log of calls, a 429's block, slots
   * given back), so changing a limit never makes a busy channel look fresh and lets a burst through that the platform refuses.
   */
  setLimits(limits: PaceLimits): void {
    for (const key of [...this.keys.keys()]) this.state(key);
    this.limitsNow = limits;
    for (const s of this.keys.values()) s.tokens = Math.min(s.tokens, limits.burst ?? Infinity);
  }

  /** How long a call on `key` would wait now (0: at once). */
  waitFor(key: string): number {
    return this.waitOf(this.state(key), this.clock.now()).wait;
  }

  /** The wait, and the spacing of the limit that holds it up (sent-back calls come back that far apart). */
  private waitOf(s: KeyState, now: number): { wait: number; spacing: number } {
    const { perSecond, windows = [], marginMs = 0 } = this.limits;
    let until = s.blockedUntil;
    let windowSpacing = 0;
    if (perSecond && s.tokens < 1) until = Math.max(until, now + ((1 - s.tokens) / perSecond) * 1000);
    if (windows.length) {
      // After the last call reserved, so calls waiting on one key keep their order.
      until = Math.max(until, s.log.at(-1) ?? 0);
      const n = s.log.length;
      for (const w of windows) {
        if (n < w.max) continue;
        // The call that has to leave the window before another may go: the max-th newest.
        const free = s.log[n - w.max]! + w.windowMs + marginMs;
        if (free > until) {
          until = free;
          windowSpacing = w.windowMs / w.max;
        }
      }
    }
    return { wait: Math.max(0, until - now), spacing: Math.max(perSecond ? 1000 / perSecond : 1, windowSpacing) };
  }

  /** Takes a slot on `key`, waiting for it when that is short; else throws RetryLaterError with the wait. */
  async take(key: string): Promise<void> {
    const wait = this.ready(key);
    // The slot is reserved now (tokens may go below zero, the log holds a call to come), so calls waiting on one key keep their order.
    const s = this.state(key);
    if (this.limits.perSecond) s.tokens -= 1;
    if (this.limits.windows?.length) s.log.push(this.clock.now() + wait);
    if (wait > 0) await this.clock.sleep(wait);
  }

  /**
   * Throws RetryLaterError (with the wait) when a call on `key` would wait longer than `maxWaitMs`, as
   * take() would, without taking a slot; else the wait. A job checks its channel before doing any work.
   */
  ready(key: string, group?: string): number {
    const s = this.state(key);
    const now = this.clock.now();
    const { wait, spacing } = this.waitOf(s, now);
    if (wait > this.limits.maxWaitMs) {
      // Jobs sent back come back one slot apart, not all at once (each would only be sent back again);
      // jobs of one group (a conversation's queued syncs, one run does for all) share one slot.
      const shared = group ? s.groups?.get(group) : undefined;
      const at = shared !== undefined && shared >= now + wait ? shared : Math.max(now + wait, s.later);
      if (at !== shared) s.later = at + spacing;
      if (group) {
        s.groups ??= new Map();
        if (s.groups.size >= MAX_KEYS) for (const [g, t] of s.groups) if (t < now) s.groups.delete(g);
        s.groups.set(group, at);
      }
      throw new RetryLaterError(`${key}: paced, next slot in ${Math.ceil(at - now)} ms`, Math.ceil(at - now + Math.random() * 100));
    }
    return wait;
  }

  /** The platform said 429: nothing more on `key` until Retry-After has passed. */
  block(key: string, ms: number): void {
    const s = this.state(key);
    s.blockedUntil = Math.max(s.blockedUntil, this.clock.now() + ms);
    s.tokens = Math.min(s.tokens, 0);
  }

  /** The longest window a log has to cover. */
  private get span(): number {
    const { windows = [], marginMs = 0 } = this.limits;
    return windows.length ? Math.max(...windows.map((w) => w.windowMs)) + marginMs : 0;
  }

  private state(key: string): KeyState {
    const now = this.clock.now();
    let s = this.keys.get(key);
    if (!s) {
      if (this.keys.size >= MAX_KEYS) this.prune(now);
      s = { tokens: this.limits.burst ?? 0, at: now, blockedUntil: 0, later: 0, log: [] };
      this.keys.set(key, s);
    }
    if (this.limits.perSecond) s.tokens = Math.min(this.limits.burst ?? 1, s.tokens + ((now - s.at) / 1000) * this.limits.perSecond);
    s.at = now;
    const span = this.span;
    let old = 0;
    while (old < s.log.length && s.log[old]! <= now - span) old++;
    if (old) s.log.splice(0, old);
    return s;
  }

  /** Forgets keys that are fresh again (bucket full, nothing left in their windows): they would start so anyway. */
  private prune(now: number): void {
    const { perSecond, burst = 1 } = this.limits;
    const span = this.span;
    for (const [key, s] of this.keys) {
      const full = !perSecond || s.tokens + ((now - s.at) / 1000) * perSecond >= burst;
      if (s.blockedUntil < now && s.later < now && full && (s.log.at(-1) ?? -Infinity) <= now - span) this.keys.delete(key);
    }
  }
}
