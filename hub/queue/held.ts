/**
 * Requests someone watches a spinner for (a Teams card click waits for its invoke answer): while any is in
 * flight, the job runner of this process starts no job (the clicks' own card syncs among them), at most
 * `maxWaitMs` at a time, so under a steady stream of them jobs still start. Jobs already running go on.
 */
export class JobHolds {
  private open = 0;
  private readonly waiters = new Set<() => void>();

  constructor(readonly maxWaitMs: number) {}

  /** One such request started; call the returned function once it is answered (more calls do nothing). */
  hold(): () => void {
    this.open++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (--this.open > 0) return;
      for (const wake of [...this.waiters]) wake();
    };
  }

  /** Holds in flight. */
  get held(): number {
    return this.open;
  }

  /** Starts about to wait for the holds to end (for tests and metrics). */
  get waiting(): number {
    return this.waiters.size;
  }

  /** Resolves once no hold is in flight, or after `maxWaitMs`. */
  async released(): Promise<void> {
    if (this.open === 0) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.maxWaitMs);
      this.waiters.add(done);
    });
  }
}
