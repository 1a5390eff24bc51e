/**
 * Lookups kept for a few seconds, for what every request needs and rarely changes (installations,
 * users' roles). A change made in this process is applied at once with `forget`; one made in another
 * process within `ttlMs`. A failed lookup is not remembered.
 */
export class ExpiringCache<V> {
  private readonly entries = new Map<string, { at: number; value: Promise<V> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 10_000,
  ) {}

  get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    const value = load();
    // Only the entry this lookup made is dropped, never a newer one.
    value.catch(() => this.entries.get(key)?.value === value && this.entries.delete(key));
    if (this.entries.size > this.maxEntries) this.entries.clear();
    this.entries.set(key, { at: this.now(), value });
    return value;
  }

  /** One key, or everything; call after the change has committed, so the next lookup cannot read the old row. */
  forget(key?: string): void {
    if (key === undefined) this.entries.clear();
    else this.entries.delete(key);
  }
}
