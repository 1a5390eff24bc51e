import { DelayedError, Queue, UnrecoverableError, Worker, type Job as BullJob } from 'bullmq';
import { Redis } from 'ioredis';
import type { Database } from '../../storage/database.js';
import { markDispatched, pendingForRelay } from '../../storage/repositories/outbox.js';
import type { OutboxTopic } from '../../storage/repositories/outbox.js';
import type { HubMetrics } from '../metrics.js';
import { RetryLaterError, UnrecoverableJobError, backoffMs, type DeadJob, type JobHandlers, type JobRunner } from './jobs.js';

/**
 * One queue per database: hubs of different deployments that share a Redis never run each other's
 * jobs (a worker of another database would find no message and drop the job as done).
 */
async function queueName(db: Database): Promise<string> {
  const { rows } = await db.query<{ name: string }>(`SELECT current_database() AS name`);
  return `hummdesk-jobs-${(rows[0]?.name ?? 'default').replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** The channel migration 340's trigger notifies when a commit added outbox rows. */
const OUTBOX_CHANNEL = 'hummdesk_outbox';
/** While listening, a poll only covers a notification lost with its connection (re-listening reads once anyway). */
const LISTENING_POLL_FACTOR = 10;
const RELAY_BATCH = 500;

interface Options {
  redisUrl: string;
  attempts: number;
  backoffBaseMs: number;
  concurrency: number;
  pollMs: number;
  log: { error(obj: unknown, msg: string): void };
}

interface JobData {
  outboxId: string;
  accountId: string;
  payload: Record<string, unknown>;
}

/** Scale-out: a relay moves committed outbox rows into BullMQ; workers in any process run them. */
export class BullmqRunner implements JobRunner {
  readonly kind = 'bullmq' as const;
  private readonly connection: Redis;
  private queueReady?: Promise<Queue<JobData>>;
  private worker?: Worker<JobData>;
  private workerConnection?: Redis;
  private relaying = false;
  private relayLoop?: Promise<void>;
  private wake?: () => void;
  /** Commits that added jobs reach the relay as notifications (migration 340); kicks and polls are then only a fallback. */
  private listening?: { close(): Promise<void> };
  private notified = false;

  constructor(
    private readonly db: Database,
    private readonly metrics: HubMetrics,
    private readonly opts: Options,
  ) {
    this.connection = new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
  }

  /** The queue is named after the database, so it is opened on first use. */
  private queue(): Promise<Queue<JobData>> {
    return (this.queueReady ??= queueName(this.db).then((name) => new Queue<JobData>(name, { connection: this.connection })));
  }

  async start(handlers: JobHandlers, opts: { relay: boolean; work: boolean }): Promise<void> {
    if (opts.relay) {
      this.relaying = true;
      this.listening = await this.db.listen?.(OUTBOX_CHANNEL, () => this.wakeRelay());
      this.relayLoop = this.relay();
    }
    if (opts.work) {
      const queue = await this.queue();
      this.workerConnection = new Redis(this.opts.redisUrl, { maxRetriesPerRequest: null });
      this.worker = new Worker<JobData>(queue.name, (job) => this.process(handlers, job), {
        connection: this.workerConnection,
        concurrency: this.opts.concurrency,
        settings: { backoffStrategy: (attempts: number) => backoffMs(attempts, this.opts.backoffBaseMs) },
      });
      this.worker.on('failed', (job, err) => {
        if (!job) return;
        this.metrics.jobFailures.inc({ topic: job.name });
        const dead = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
        if (dead) this.metrics.jobs.inc({ topic: job.name, result: 'dead' });
        this.opts.log.error({ err, jobId: job.id, topic: job.name, attempt: job.attemptsMade }, dead ? 'job failed for good' : 'job failed, will retry');
      });
      this.worker.on('completed', (job) => this.metrics.jobs.inc({ topic: job.name, result: 'done' }));
      await this.worker.waitUntilReady();
    }
  }

  private async process(handlers: JobHandlers, job: BullJob<JobData>): Promise<void> {
    const handler = handlers[job.name as OutboxTopic];
    if (!handler) return;
    try {
      await handler({ id: job.data.outboxId, accountId: job.data.accountId, topic: job.name as OutboxTopic, payload: job.data.payload, attempt: job.attemptsMade + 1 });
    } catch (err) {
      if (err instanceof UnrecoverableJobError) throw new UnrecoverableError(err.message);
      if (err instanceof RetryLaterError) {
        // Rate limits are not failures: park the job without spending an attempt.
        await job.moveToDelayed(Date.now() + err.delayMs, job.token);
        throw new DelayedError();
      }
      throw err;
    }
  }

  kick(): void {
    // A listening relay hears the commit itself; a kick after a commit that added nothing would only cost an empty read.
    if (!this.listening) this.wakeRelay();
  }

  private wakeRelay(): void {
    if (this.wake) this.wake();
    // Heard while reading: that read may have missed the commit, so read once more before sleeping.
    else this.notified = true;
  }

  private async relay(): Promise<void> {
    while (this.relaying) {
      // A wake from here on may be for a commit this read does not see.
      this.notified = false;
      let full = false;
      try {
        const rows = await pendingForRelay(this.db, RELAY_BATCH);
        if (rows.length > 0) {
          // jobId = outbox id: relaying the same row twice after a crash adds one job, not two.
          await (await this.queue()).addBulk(
            rows.map((r) => ({
              name: r.topic,
              data: { outboxId: r.id, accountId: r.accountId, payload: r.payload },
              opts: { jobId: `ob-${r.id}`, attempts: this.opts.attempts, backoff: { type: 'custom' }, removeOnComplete: 1000, removeOnFail: false },
            })),
          );
          await markDispatched(this.db, rows.map((r) => r.id));
        }
        full = rows.length === RELAY_BATCH;
      } catch (err) {
        if (this.relaying) this.opts.log.error({ err }, 'outbox relay failed; will retry');
      }
      if (!this.relaying) break;
      // A short read took every row committed before it: read again only when more may wait or a commit said so.
      if (full || this.notified) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.listening ? this.opts.pollMs * LISTENING_POLL_FACTOR : this.opts.pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  async stop(): Promise<void> {
    this.relaying = false;
    this.wakeRelay();
    await this.relayLoop;
    await this.listening?.close();
    // close() waits for the jobs in flight to finish.
    await this.worker?.close();
    // Connections we passed in are ours to close; BullMQ leaves them open.
    this.workerConnection?.disconnect();
    if (this.queueReady) await (await this.queueReady).close();
    this.connection.disconnect();
  }

  async listDead(accountId: string, limit: number): Promise<DeadJob[]> {
    const failed = await (await this.queue()).getFailed(0, -1);
    return failed
      .filter((j) => j.data.accountId === accountId)
      .slice(0, limit)
      .map((j) => ({
        id: j.data.outboxId,
        topic: j.name,
        payload: j.data.payload,
        attempts: j.attemptsMade,
        error: j.failedReason ?? null,
        failedAt: j.finishedOn ? new Date(j.finishedOn).toISOString() : null,
      }));
  }

  async retryDead(accountId: string, id: string): Promise<boolean> {
    const job = await (await this.queue()).getJob(`ob-${id}`);
    if (!job || job.data.accountId !== accountId || !(await job.isFailed())) return false;
    // A retried dead job gets all its attempts again, as in the in-process runner.
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return true;
  }

  async depth() {
    const c = await (await this.queue()).getJobCounts('waiting', 'delayed', 'active', 'failed');
    return { waiting: (c.waiting ?? 0) + (c.delayed ?? 0), active: c.active ?? 0, dead: c.failed ?? 0 };
  }

  async ping(): Promise<void> {
    await this.connection.ping();
  }
}
