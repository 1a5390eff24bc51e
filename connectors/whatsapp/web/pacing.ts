import { RateLimitError } from '../../core/errors.js';

/**
 * At most one send per chat per interval, in the order asked. A send that would wait longer than
 * `maxWaitMs` is refused with RateLimitError (the deliver job puts it back in the queue for then), so a
 * busy chat never holds a worker. In one process, which is where the chat's linked phone is.
 */
export class ChatPacer {
  private readonly next = new Map<string, number>();

  constructor(
    private readonly intervalMs = 1_000,
    private readonly maxWaitMs = 2_000,
    private readonly clock: { now(): number; sleep(ms: number): Promise<void> } = { now: () => performance.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
  ) {}

  /** `queued`: the rest of one reply (its first message already left), which waits its turn however long instead of going back to the queue. */
  async take(key: string, o: { queued?: boolean } = {}): Promise<void> {
    const now = this.clock.now();
    const at = Math.max(now, this.next.get(key) ?? 0);
    const wait = at - now;
    if (wait > this.maxWaitMs && !o.queued) throw new RateLimitError('whatsapp-web', Math.ceil(wait));
    this.next.set(key, at + this.intervalMs);
    if (this.next.size > 10_000) for (const [k, t] of this.next) if (t < now) this.next.delete(k);
    if (wait > 0) await this.clock.sleep(wait);
  }
}
