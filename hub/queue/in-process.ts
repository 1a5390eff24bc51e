import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Database } from '../../storage/database.js';
import { claimDue, countPending, listDead, markFailed, markManyDone, OUTBOX_TOPICS, revive, type OutboxTopic } from '../../storage/repositories/outbox.js';
import { withAccount } from '../../storage/session.js';
import type { HubMetrics } from '../metrics.js';
import type { ForegroundPressure } from './foreground.js';
import { backoffMs, RetryLaterError, UnrecoverableJobError, type DeadJob, type Job, type JobHandlers, type JobRunner } from './jobs.js';

interface Options {
  attempts: number;
  backoffBaseMs: number;
  concurrency: number;
  pollMs: number;
  /** A claimed job not finished by then (its process died) is picked up again. */
  leaseMs: number;
  log: { error(obj: unknown, msg: string): void };
  /** HTTP requests waiting in this process: no job starts while one someone waits on (a Teams click) is open. */
  foreground?: ForegroundPressure;
  /**
   * Whether every waiting request pauses job starts too: only where the store runs on this thread
   * (PGlite): there a job's queries hold requests up; on PostgreSQL they run in its processes.
   */
  pacedByRequests?: boolean;
  /**
   * Topics whose jobs mostly wait on work batched elsewhere (the AI stage: one model call in the AI
   * threads for every analysis waiting), with a budget of their own: `concurrency` jobs at once would
   * make batches of at most that size.
   */
  wide?: { topics: OutboxTopic[]; concurrency: number };
  /** Longest a job start waits for waited-on requests; default MAX_HOLD_MS. */
  maxHoldMs?: number;
}

// While requests wait, the next job starts after nine times the last one's length (within these
// bounds): under load, jobs take about a tenth of the main thread, and still drain.
const PAUSE_FACTOR = 9;
const MIN_PAUSE_MS = 10;
const MAX_PAUSE_MS = 1000;
/** Longest a job start waits for waited-on requests to be answered: 20 clicks at once take a few hundred ms. */
const MAX_HOLD_MS = 500;

/** The embedded default: the outbox table is the queue, so a job survives a crash with the data it belongs to. */
export class InProcessRunner implements JobRunner {
  readonly kind = 'in-process' as const;
  private handlers: JobHandlers = {};
  private running = false;
  private wake?: () => void;
  private kicked = false;
  private loop?: Promise<void>;
  private readonly inFlight = new Set<Promise<void>>();
  /** Of `inFlight`, the jobs of `wide` topics. */
  private wideInFlight = 0;
  /** Jobs running per topic, and when each topic last had a job claimed (a claim counter): whose turn it is. */
  private readonly topicInFlight = new Map<OutboxTopic, number>();
  private readonly topicServed = new Map<OutboxTopic, number>();
  private claims = 0;
  /** Jobs finished in the same turn, marked done in one statement. */
  private done?: { ids: string[]; flushed: Promise<void> };
  private readonly foreground?: ForegroundPressure;
  private lastJobMs = 0;

  /** Whether jobs pause for every waiting request (the embedded store) or only for waited-on ones. */
  get pacedByRequests(): boolean {
    return this.foreground !== undefined && this.opts.pacedByRequests === true;
  }

  /** The event loop's busy time during the last job to finish (ms): what the next job waits for, times nine, while requests wait. */
  get lastJobCostMs(): number {
    return this.lastJobMs;
  }

  constructor(
    private readonly db: Database,
    private readonly metrics: HubMetrics,
    private readonly opts: Options,
  ) {
    this.foreground = opts.foreground;
  }

  async start(handlers: JobHandlers, opts: { relay: boolean; work: boolean }): Promise<void> {
    if (!opts.work) return;
    this.handlers = handlers;
    this.running = true;
    this.loop = this.run();
  }

  kick(): void {
    // A kick while the loop is claiming (a commit it may have missed) makes it claim once more before it sleeps.
    if (this.wake) this.wake();
    else this.kicked = true;
  }

  private async run(): Promise<void> {
    const wideTopics = new Set<string>(this.opts.wide?.topics ?? []);
    while (this.running) {
      let claimed = 0;
      let full = false;
      try {
        const free = this.opts.concurrency - (this.inFlight.size - this.wideInFlight);
        const wideFree = this.wideRefill() ? this.opts.wide!.concurrency - this.wideInFlight : 0;
        full = free <= 0 && wideFree <= 0;
        if (!full) {
          await this.giveWay();
          const jobs = !this.running ? [] : await claimDue(this.db, Math.max(0, free), this.opts.leaseMs, this.opts.wide && { topics: this.opts.wide.topics, limit: Math.max(0, wideFree) }, this.turns());
          claimed = jobs.length;
          this.claims++;
          for (const [i, row] of jobs.entries()) {
            // One job per turn of the event loop: a job's work is mostly synchronous here (the
            // embedded store runs on the main thread), so starting several at once would hold off
            // every request until all of them are done.
            // And before the first when a waited-on request began while this claim was on its way.
            if (i > 0 || this.foreground?.waitedOn()) await this.giveWay();
            const started = performance.eventLoopUtilization();
            const job: Job = { id: row.id, accountId: row.accountId, topic: row.topic, payload: row.payload, attempt: row.attempts };
            const wide = wideTopics.has(row.topic);
            if (wide) this.wideInFlight++;
            this.topicInFlight.set(row.topic, (this.topicInFlight.get(row.topic) ?? 0) + 1);
            this.topicServed.set(row.topic, this.claims);
            const p = this.runOne(row, job).finally(() => {
              this.topicInFlight.set(row.topic, this.topicInFlight.get(row.topic)! - 1);
              // What the job cost this thread: the event loop's busy time while it ran, not its length.
              // Waiting on the network, the database or the AI threads leaves the loop free: a download
              // of 300 ms must not hold the next job back for seconds.
              this.lastJobMs = performance.eventLoopUtilization(started).active;
              if (wide) this.wideInFlight--;
              this.inFlight.delete(p);
              // A finished wide job claims again only once a good part of their budget is free: one claim per batch, not per job.
              if (!wide || this.wideRefill()) this.kick();
            });
            this.inFlight.add(p);
          }
        }
      } catch (err) {
        if (this.running) this.opts.log.error({ err }, 'job runner could not claim jobs');
      }
      if (!this.running) break;
      if (this.kicked) {
        this.kicked = false;
        continue;
      }
      if (claimed === 0 || full) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.opts.pollMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  /**
   * The order topics take turns in at the next claim: fewest jobs running first, then the one served
   * longest ago. A job that asks to run again (an import's next slice) goes ahead of a topic that has
   * one running or just had its turn, however many of that topic's jobs are older.
   */
  private turns(): OutboxTopic[] {
    return [...OUTBOX_TOPICS].sort((a, b) =>
      (this.topicInFlight.get(a) ?? 0) - (this.topicInFlight.get(b) ?? 0) || (this.topicServed.get(a) ?? -1) - (this.topicServed.get(b) ?? -1));
  }

  /** Whether to claim wide jobs now: a quarter of their budget is free, or none is running. */
  private wideRefill(): boolean {
    const wide = this.opts.wide;
    if (!wide) return false;
    const free = wide.concurrency - this.wideInFlight;
    return free > 0 && (free >= Math.ceil(wide.concurrency / 4) || this.wideInFlight === 0);
  }

  /** Marks a job done together with the others that finish in this turn: one statement instead of a transaction each. */
  private markDone(id: string): Promise<void> {
    if (this.done) {
      this.done.ids.push(id);
      return this.done.flushed;
    }
    const ids = [id];
    const flushed = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.done = undefined;
      return markManyDone(this.db, ids);
    });
    this.done = { ids, flushed };
    return flushed;
  }

  /** Lets requests in first; while they wait, pauses (bounded) so they are answered before more jobs start. */
  private async giveWay(): Promise<void> {
    if (!this.foreground) return nextTurn();
    // Stopping: the claimed jobs run at once, so shutdown is not held up.
    if (!this.running) return this.foreground.giveWay({ waitedMs: 0 });
    // Waited-on requests (card clicks) are answered first: the syncs they queued would only compete with them.
    const waitedMs = this.opts.maxHoldMs ?? MAX_HOLD_MS;
    const plainMs = this.pacedByRequests ? Math.min(MAX_PAUSE_MS, Math.max(MIN_PAUSE_MS, this.lastJobMs * PAUSE_FACTOR)) : undefined;
    return this.foreground.giveWay({ plainMs, waitedMs });
  }

  private async runOne(row: { id: string; accountId: string; topic: keyof JobHandlers; payload: Record<string, unknown>; attempts: number }, job: Job): Promise<void> {
    const handler = this.handlers[row.topic];
    try {
      if (handler) await handler(job);
      await this.markDone(row.id);
      this.metrics.jobs.inc({ topic: row.topic, result: handler ? 'done' : 'skipped' });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      let retryIn: number | null;
      if (err instanceof RetryLaterError) retryIn = err.delayMs;
      else {
        this.metrics.jobFailures.inc({ topic: row.topic });
        const exhausted = err instanceof UnrecoverableJobError || row.attempts >= this.opts.attempts;
        retryIn = exhausted ? null : backoffMs(row.attempts, this.opts.backoffBaseMs);
        if (exhausted) this.metrics.jobs.inc({ topic: row.topic, result: 'dead' });
        this.opts.log.error({ err, jobId: row.id, topic: row.topic, attempt: row.attempts }, retryIn === null ? 'job failed for good' : 'job failed, will retry');
      }
      const rateLimited = err instanceof RetryLaterError;
      await withAccount(this.db, row.accountId, async (tx) => {
        await markFailed(tx, row.id, message, retryIn);
        // Waiting out a rate limit is not a failure: give back the attempt the claim counted.
        if (rateLimited) await tx.query(`UPDATE outbox SET attempts = greatest(attempts - 1, 0) WHERE id = $1`, [row.id]);
      }).catch((e: unknown) =>
        this.opts.log.error({ err: e, jobId: row.id }, 'could not record job failure; the lease will expire and it runs again'),
      );
      // A retry due before the next poll (a media fetch after a 503) runs when due, not up to a poll later.
      if (retryIn !== null && retryIn < this.opts.pollMs && this.running) setTimeout(() => this.kick(), retryIn).unref();
    }
  }

  /** Stops claiming and waits for jobs in flight, so a shutdown never cuts a send in half. */
  async stop(): Promise<void> {
    this.running = false;
    this.kick();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  async listDead(accountId: string, limit: number): Promise<DeadJob[]> {
    const rows = await withAccount(this.db, accountId, (tx) => listDead(tx, limit));
    return rows.map((r) => ({ id: r.id, topic: r.topic, payload: r.payload, attempts: r.attempts, error: r.lastError ?? null, failedAt: r.deadAt ?? null }));
  }

  async retryDead(accountId: string, id: string): Promise<boolean> {
    if (!/^\d+$/.test(id)) return false;
    const ok = await withAccount(this.db, accountId, (tx) => revive(tx, id));
    if (ok) this.kick();
    return ok;
  }

  async depth() {
    const { pending, dead } = await countPending(this.db);
    return { waiting: pending, active: this.inFlight.size, dead };
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }
}
