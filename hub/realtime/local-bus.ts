import { EventEmitter } from 'node:events';
import type { AccountEvent, EventBus, HubEvent } from './events.js';

/** One process: an in-memory emitter keyed by account. */
export class LocalEventBus implements EventBus {
  protected readonly emitter = new EventEmitter();
  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(accountId: string, event: HubEvent): void {
    this.deliver({ accountId, event, at: new Date().toISOString() });
  }

  protected deliver(e: AccountEvent): void {
    this.emitter.emit(e.accountId, e);
  }

  subscribe(accountId: string, listener: (e: AccountEvent) => void): () => void {
    this.emitter.on(accountId, listener);
    return () => this.emitter.off(accountId, listener);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}
