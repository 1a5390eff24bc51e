import type { Database, Queryable } from './database.js';
import { withAccount } from './session.js';

interface Pending {
  work: (tx: Queryable) => Promise<unknown>;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

interface Lane {
  waiting: Pending[];
  running: boolean;
}

/**
 * Group commit for one tenant's small write transactions (the AI stage's analyses): a write asked for
 * while the account's transaction is in flight, or in the same turn, goes into the account's next
 * transaction, up to `max` at once, each write's statements after the one before. One COMMIT (one WAL
 * flush) for the group instead of one per write. One transaction per account at a time, so two groups of
 * one account never wait on (or deadlock over) each other's rows. If the group's transaction fails,
 * every write in it runs again in a transaction of its own: one bad write fails only itself.
 * A write may run twice (its group failed, then alone): it must keep its effects to `tx` until it returns.
 */
export class GroupedWrites {
  private readonly lanes = new Map<string, Lane>();
  /** Transactions committed, and writes in them (tests, metrics). */
  readonly stats = { transactions: 0, writes: 0 };

  constructor(
    private readonly db: Database,
    private readonly max = 32,
  ) {}

  run<T>(accountId: string, work: (tx: Queryable) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let lane = this.lanes.get(accountId);
      if (!lane) this.lanes.set(accountId, (lane = { waiting: [], running: false }));
      lane.waiting.push({ work, resolve: resolve as (v: unknown) => void, reject });
      if (!lane.running) {
        lane.running = true;
        // Writes asked for in this turn of the event loop join the first group.
        setImmediate(() => void this.drain(accountId, lane!));
      }
    });
  }

  private async drain(accountId: string, lane: Lane): Promise<void> {
    while (lane.waiting.length) {
      const group = lane.waiting.splice(0, this.max);
      await this.commit(accountId, group);
    }
    lane.running = false;
    this.lanes.delete(accountId);
  }

  private async commit(accountId: string, group: Pending[]): Promise<void> {
    let out: unknown[];
    try {
      // A group runs the same few statements over and over: named ones run their generic plan.
      out = await withAccount(this.db, accountId, async (tx) => {
        const results: unknown[] = [];
        for (const p of group) results.push(await p.work(tx));
        return results;
      }, { genericPlans: true });
    } catch (err) {
      if (group.length === 1) {
        group[0]!.reject(err);
        return;
      }
      // Which write failed is not known: each alone, one after the other.
      for (const p of group) await this.commit(accountId, [p]);
      return;
    }
    this.stats.transactions++;
    this.stats.writes += group.length;
    group.forEach((p, i) => p.resolve(out[i]));
  }
}
