import { RetryLaterError } from '../queue/jobs.js';

/**
 * Paces writes per Teams thread by Teams' own windows (per bot per thread: 7 in 1 s, 8 in 2 s, 60 in 30 s,
 * 1,800 an hour): a log of the thread's writes in the last hour, each window counted over its length plus
 * `marginMs` (a write is counted where it leaves here; Teams counts it when it arrives, up to a request's
 * latency later). Token buckets that stay inside the same windows allow far less: about 2 a second and,
 * after 30 at once, one every two seconds, where Teams allows 60 every 30 seconds until the hour's 1,800
 * are used. A write that would wait longer than `maxWaitMs` is not made: the job goes back to the queue
 * (RetryLaterError) for when the thread has room. A 429's Retry-After blocks the thread. In one process.
 */
export interface ThreadWindow {
  windowMs: number;
  max: number;
}

export interface WindowLimits {
  windows: ThreadWindow[];
  /** Added to every window when counting (latency between our clock and Teams' arrival). */
  marginMs: number;
  /** Longest wait inside a job; longer waits go back to the queue. */
  maxWaitMs: number;
}

interface Log {
  /** When each write went (or is reserved to go) out, oldest first, none older than the longest window. */
  at: number[];
  blockedUntil: number;
  /** When the next write sent back to the queue is told to come back (sent-back writes come back spread out). */
  later: number;
}

const MAX_KEYS = 10_000;

export class WindowPacer {
  private readonly logs = new Map<string, Log>();
  private readonly span: number;

  constructor(
    readonly limits: WindowLimits,
    private readonly clock: { now(): number; sleep(ms: number): Promise<void> } = { now: () => performance.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
  ) {
    this.span = Math.max(...limits.windows.map((w) => w.windowMs)) + limits.marginMs;
  }

  /** How long a write on `key` would wait now (0: at once), and the window that holds it up. */
  private waitFor(log: Log, now: number): { wait: number; spacing: number } {
    let until = Math.max(log.blockedUntil, log.at.at(-1) ?? 0);
    let spacing = 0;
    for (const w of this.limits.windows) {
      const n = log.at.length;
      if (n < w.max) continue;
      // The write that has to leave the window before another may go: the max-th newest.
      const free = log.at[n - w.max]! + w.windowMs + this.limits.marginMs;
      if (free > until) {
        until = free;
        spacing = w.windowMs / w.max;
      }
    }
    return { wait: Math.max(0, until - now), spacing };
  }

  /** Takes a slot on `key`, waiting for it when that is short; else throws RetryLaterError with the wait. */
  async take(key: string): Promise<void> {
    const log = this.log(key);
    const now = this.clock.now();
    const { wait, spacing } = this.waitFor(log, now);
    if (wait > this.limits.maxWaitMs) {
      const at = Math.max(now + wait, log.later);
      log.later = at + Math.max(spacing, 1);
      throw new RetryLaterError(`${key}: paced, next slot in ${Math.ceil(at - now)} ms`, Math.ceil(at - now + Math.random() * 100));
    }
    // Reserved now, so writes waiting on one key keep their order and count against each other.
    log.at.push(now + wait);
    if (wait > 0) await this.clock.sleep(wait);
  }

  /** The platform said 429: nothing more on `key` until Retry-After has passed. */
  block(key: string, ms: number): void {
    const log = this.log(key);
    log.blockedUntil = Math.max(log.blockedUntil, this.clock.now() + ms);
  }

  private log(key: string): Log {
    const now = this.clock.now();
    let log = this.logs.get(key);
    if (!log) {
      if (this.logs.size >= MAX_KEYS) this.prune(now);
      log = { at: [], blockedUntil: 0, later: 0 };
      this.logs.set(key, log);
    }
    let old = 0;
    while (old < log.at.length && log.at[old]! <= now - this.span) old++;
    if (old) log.at.splice(0, old);
    return log;
  }

  /** Forgets threads with nothing in the last hour (they would start empty anyway). */
  private prune(now: number): void {
    for (const [key, log] of this.logs) if (log.blockedUntil < now && log.later < now && (log.at.at(-1) ?? -Infinity) <= now - this.span) this.logs.delete(key);
  }
}
