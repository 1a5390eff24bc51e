import { setImmediate as nextTurn } from 'node:timers/promises';

// Clients under load send their next request right after an answer (and group commit answers many at
// once): the moments between are not a lull to start a job in.
const QUIET_MS = 5;

/** What a request weighs for background work: `plain` ones slow it where it shares the thread, `waited` ones (a spinner someone watches) hold its starts anywhere. */
export type RequestWeight = 'plain' | 'waited';

/** A request as the pressure sees it: its response (an http.ServerResponse), which says when it was answered. */
export interface PendingResponse {
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  readonly destroyed: boolean;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * HTTP requests the process has received and not yet answered, each with its weight. Background work
 * sharing the process (the in-process job runner) consults it and gives way: to every waiting request
 * where the store runs on this thread (PGlite), to waited-on ones (a Teams card click) on any store.
 * A response whose headers are out (an event stream) no longer waits on us.
 */
export class ForegroundPressure {
  private readonly open = new Map<PendingResponse, RequestWeight>();
  private waitedOpen = 0;
  private readonly waiters = new Set<() => void>();
  /** When a request last arrived or was answered (performance.now()). */
  private lastSeen = -Infinity;

  /** A request arrived (Fastify `onRequest`); it stops counting when its headers are sent or its connection closes. */
  begin(res: PendingResponse, weight: RequestWeight = 'plain'): void {
    this.lastSeen = performance.now();
    if (this.open.has(res)) return this.weigh(res, weight);
    this.open.set(res, weight);
    if (weight === 'waited') this.waitedOpen++;
    res.once('close', () => this.end(res));
  }

  /** A request turned out to be one someone waits on (known once its body is read); unknown or answered ones are ignored. */
  weigh(res: PendingResponse, weight: RequestWeight): void {
    const was = this.open.get(res);
    if (was === undefined || was === weight) return;
    this.open.set(res, weight);
    this.waitedOpen += weight === 'waited' ? 1 : -1;
    if (this.waitedOpen === 0) this.wakeAll();
  }

  /** Requests received and not answered yet. */
  waiting(): number {
    this.sweep();
    return this.open.size;
  }

  /** Of those, the ones someone waits on. */
  waitedOn(): number {
    this.sweep();
    return this.waitedOpen;
  }

  /** Background starts giving way right now (for tests and metrics). */
  get givingWay(): number {
    return this.waiters.size;
  }

  /** Requests wait, or one came or went in the last few milliseconds. */
  busy(): boolean {
    return this.waiting() > 0 || performance.now() - this.lastSeen < QUIET_MS;
  }

  /**
   * Lets the event loop take in and answer what arrived (one turn), then waits while waited-on requests
   * are open (at most `bounds.waitedMs`) and, if `bounds.plainMs` is given, while any request is (at most
   * that): background work slows down under load but never stops.
   */
  async giveWay(bounds: { plainMs?: number; waitedMs: number }): Promise<void> {
    await nextTurn();
    const started = Date.now();
    for (;;) {
      const spent = Date.now() - started;
      const plainLeft = bounds.plainMs !== undefined && this.busy() ? bounds.plainMs - spent : 0;
      const waitedLeft = this.waitedOn() > 0 ? bounds.waitedMs - spent : 0;
      const left = Math.max(plainLeft, waitedLeft);
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        // Woken when the last (waited-on) request ends; the timer also catches streams, which end no request.
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const poll = plainLeft > 0 ? (this.open.size > 0 ? 20 : QUIET_MS) : left;
        const timer = setTimeout(done, Math.min(left, poll));
        this.waiters.add(done);
      });
    }
  }

  private sweep(): void {
    for (const res of this.open.keys()) if (res.headersSent || res.writableEnded || res.destroyed) this.end(res);
  }

  private end(res: PendingResponse): void {
    const weight = this.open.get(res);
    if (weight === undefined) return;
    this.open.delete(res);
    this.lastSeen = performance.now();
    if (weight === 'waited' && --this.waitedOpen === 0) return this.wakeAll();
    if (this.open.size === 0) this.wakeAll();
  }

  private wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }
}
