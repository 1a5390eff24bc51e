import { Redis } from 'ioredis';
import type { AccountEvent, HubEvent } from './events.js';
import { LocalEventBus } from './local-bus.js';

const CHANNEL = 'hummdesk:events';

/**
 * Several hub and worker processes: every event goes through Redis pub/sub and back to local listeners.
 * Events published in one turn of the event loop (an ingest batch's) go out as one message, a JSON array,
 * so Redis and every subscribed process handle one message, not one per event.
 */
export class RedisEventBus extends LocalEventBus {
  private pending: AccountEvent[] = [];

  private constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
  ) {
    super();
    sub.on('message', (_channel: string, raw: string) => {
      try {
        const parsed = JSON.parse(raw) as AccountEvent | AccountEvent[];
        // One event (from a hub that publishes them singly) or a turn's worth.
        for (const e of Array.isArray(parsed) ? parsed : [parsed]) this.deliver(e);
      } catch {
        // A malformed message from another version of the hub is dropped, not fatal.
      }
    });
  }

  static async connect(url: string): Promise<RedisEventBus> {
    const pub = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
    const sub = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
    await Promise.all([pub.connect(), sub.connect()]);
    await sub.subscribe(CHANNEL);
    return new RedisEventBus(pub, sub);
  }

  override publish(accountId: string, event: HubEvent): void {
    if (this.pending.length === 0) setImmediate(() => this.flush());
    this.pending.push({ accountId, event, at: new Date().toISOString() });
  }

  private flush(): void {
    const events = this.pending;
    if (events.length === 0) return;
    this.pending = [];
    this.pub.publish(CHANNEL, JSON.stringify(events.length === 1 ? events[0] : events)).catch(() => undefined);
  }

  override async close(): Promise<void> {
    this.flush();
    await super.close();
    this.sub.disconnect();
    await this.pub.quit().catch(() => undefined);
  }
}
