import { Redis } from 'ioredis';
import type { AccountEvent, HubEvent } from './events.js';
import { LocalEventBus } from './local-bus.js';

const CHANNEL = 'hummdesk:events';

/** Several hub and worker processes: every event goes through Redis pub/sub and back to local listeners. */
export class RedisEventBus extends LocalEventBus {
  private constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
  ) {
    super();
    sub.on('message', (_channel: string, raw: string) => {
      try {
        this.deliver(JSON.parse(raw) as AccountEvent);
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
    const e: AccountEvent = { accountId, event, at: new Date().toISOString() };
    this.pub.publish(CHANNEL, JSON.stringify(e)).catch(() => undefined);
  }

  override async close(): Promise<void> {
    await super.close();
    this.sub.disconnect();
    await this.pub.quit().catch(() => undefined);
  }
}
