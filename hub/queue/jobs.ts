import type { OutboxTopic } from '../../storage/repositories/outbox.js';

export interface Job {
  id: string;
  accountId: string;
  topic: OutboxTopic;
  payload: Record<string, unknown>;
  /** 1 on the first run. */
  attempt: number;
  /** Set by a handler: how long it waited on work done off the main thread (AI threads); runner pacing leaves it out. */
  offThreadMs?: number;
}

export type JobHandler = (job: Job) => Promise<void>;
export type JobHandlers = Partial<Record<OutboxTopic, JobHandler>>;

/** Thrown by a handler when retrying cannot help (bad payload, a permanent channel refusal). */
export class UnrecoverableJobError extends Error {
  override name = 'UnrecoverableJobError';
}

/** A handler asks to run again later without counting it as a failure (rate limit with Retry-After). */
export class RetryLaterError extends Error {
  override name = 'RetryLaterError';
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
  }
}

export interface DeadJob {
  id: string;
  topic: string;
  payload: Record<string, unknown>;
  attempts: number;
  error: string | null;
  failedAt: string | null;
}

/** Runs outbox jobs: in-process on the database, or through BullMQ on Redis; the same handlers either way. */
export interface JobRunner {
  readonly kind: 'in-process' | 'bullmq';
  start(handlers: JobHandlers, opts: { relay: boolean; work: boolean }): Promise<void>;
  /** New outbox rows were committed: look now instead of at the next poll. */
  kick(): void;
  stop(): Promise<void>;
  listDead(accountId: string, limit: number): Promise<DeadJob[]>;
  retryDead(accountId: string, id: string): Promise<boolean>;
  depth(): Promise<{ waiting: number; active: number; dead: number }>;
  ping(): Promise<void>;
}

/** Exponential backoff with full jitter, capped; tests pass a zero base so nothing waits. */
export function backoffMs(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(baseMs * 2 ** (attempt - 1), 5 * 60_000);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
