import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Background runs per key (an account's model retrain) that coalesce: a request queues one run, which
 * starts after the running one and a short wait; requests until it starts join it. So a burst of
 * corrections trains once, and one arriving during a run is served by exactly one run after it.
 */
export class CoalescedRuns<T> {
  /** A run that has not started yet: further requests join it. */
  private readonly queued = new Map<string, Promise<T>>();
  private readonly running = new Map<string, Promise<T>>();

  constructor(private readonly delayMs = 0) {}

  run(key: string, fn: () => Promise<T>): Promise<T> {
    const queued = this.queued.get(key);
    if (queued) return queued;
    const before = this.running.get(key);
    // Assigned before the body runs past its first await, where the body reads it.
    let run!: Promise<T>;
    run = (async () => {
      await before?.catch(() => undefined);
      await sleep(this.delayMs, undefined, { ref: false });
      this.queued.delete(key);
      this.running.set(key, run);
      try {
        return await fn();
      } finally {
        if (this.running.get(key) === run) this.running.delete(key);
      }
    })();
    this.queued.set(key, run);
    return run;
  }

  /** Waits until no run of the key is queued or running (tests, shutdown). */
  async idle(key: string): Promise<void> {
    for (let p = this.queued.get(key) ?? this.running.get(key); p; p = this.queued.get(key) ?? this.running.get(key)) await p.catch(() => undefined);
  }
}
