import type { ServerResponse } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * HTTP requests the process has received and not yet answered. Background work sharing the process
 * (the in-process job runner on the embedded store, where every query runs on the main thread)
 * consults it and gives way while requests wait. A response whose headers are out (an event stream)
 * no longer waits on us.
 */
export class ForegroundPressure {
  private readonly open = new Set<ServerResponse>();
  private readonly waiters = new Set<() => void>();

  /** A request arrived (Fastify `onRequest`); it stops counting when its headers are sent or its connection closes. */
  begin(res: ServerResponse): void {
    this.open.add(res);
    res.once('close', () => this.end(res));
  }

  /** Requests received and not answered yet. */
  waiting(): number {
    for (const res of this.open) if (res.headersSent || res.writableEnded || res.destroyed) this.end(res);
    return this.open.size;
  }

  /**
   * Lets the event loop take in and answer what arrived (one turn), then waits while requests are
   * waiting, at most `maxWaitMs`: background work slows down under load but never stops.
   */
  async giveWay(maxWaitMs: number): Promise<void> {
    await nextTurn();
    const deadline = Date.now() + maxWaitMs;
    while (this.waiting() > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        // Woken when the last request ends; the timer also catches streams, which end no request.
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, 20));
        this.waiters.add(done);
      });
    }
  }

  private end(res: ServerResponse): void {
    if (!this.open.delete(res) || this.open.size > 0) return;
    for (const wake of [...this.waiters]) wake();
  }
}
