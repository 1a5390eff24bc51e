/**
 * Reads that analyses running at the same time share: a read still in flight answers every caller that
 * asks for the same key meanwhile, so a batch of 32 messages of one account reads its settings and model
 * versions once, not 32 times. Nothing is kept after the read settles: the next caller reads afresh.
 */
export class SharedReads {
  private readonly inFlight = new Map<string, Promise<unknown>>();

  get<T>(key: string, read: () => Promise<T>): Promise<T> {
    const pending = this.inFlight.get(key);
    if (pending) return pending as Promise<T>;
    const p = read().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    return p;
  }
}
