import type { ServerResponse } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';

// Clients under load send their next request right after an answer (and group commit answers many at
// once): the moments between are not a lull to start a job in.
const QUIET_MS = 5;

/**
 * HTTP requests the process has received and not yet answered. Background work sharing the process
 * (the in-process job runner on the embedded store, where every query runs on the main thread)
 * consults it and gives way while requests wait. A response whose headers are out (an event stream)
 * no longer waits on us.
 */
export class ForegroundPressure {
  private readonly open = new Set<ServerResponse>();
  private readonly waiters = new Set<() => void>();
  /** When a request last arrived or was answered (performance.now()). */
  private lastSeen = -Infinity;

  /** A request arrived (Fastify `onRequest`); it stops counting when its headers are sent or its connection closes. */
  begin(res: ServerResponse): void {
    this.lastSeen = performance.now();
    this.open.add(res);
    res.once('close', () => this.end(res));
  }

  /** Requests received and not answered yet. */
  waiting(): number {
    for (const res of this.open) if (res.headersSent || res.writableEnded || res.destroyed) this.end(res);
    return this.open.size;
  }

  /** Requests wait, or one came or went in the last few milliseconds. */
  busy(): boolean {
    return this.waiting() > 0 || performance.now() - this.lastSeen < QUIET_MS;
  }

  /**
   * Lets the event loop take in and answer what arrived (one turn), then waits while the foreground is
   * busy, at most `maxWaitMs`: background work slows down under load but never stops.
   */
  async giveWay(maxWaitMs: number): Promise<void> {
    await nextTurn();
    const deadline = Date.now() + maxWaitMs;
    while (this.busy()) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        // Woken when the last request ends; the timer also catches streams, which end no request.
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, this.open.size > 0 ? 20 : QUIET_MS));
        this.waiters.add(done);
      });
    }
  }

  private end(res: ServerResponse): void {
    if (!this.open.delete(res)) return;
    this.lastSeen = performance.now();
    if (this.open.size > 0) return;
    for (const wake of [...this.waiters]) wake();
  }
}
