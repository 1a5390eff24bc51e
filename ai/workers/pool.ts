import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EmbeddingError } from '../embed/embedder.js';
import { AiKernel, type AiTask, type AiTaskResult } from './kernel.js';
import { BULK_NICE } from './priority.js';

/**
 * Where AI work waits for a thread. `interactive`: a person waits (a search); `analysis`: the AI stage of
 * a new message; `bulk`: imports, reindexes, retraining. Higher lanes go first, except that bulk work
 * that has waited while `size` analyses started takes the next thread (a backlog of messages must not
 * hold an import back for good); bulk work runs only on the pool's bulk threads (all but one, at a
 * lower OS priority: ai/workers/priority.ts), so it never takes the last thread, and one account's bulk
 * work at most `perAccount` threads.
 */
export type AiLane = 'interactive' | 'analysis' | 'bulk';

export interface AiRunOptions {
  lane?: AiLane;
  /** Whose work it is: bulk work is shared out between accounts, round robin. */
  accountId?: string;
  /** Which kind of bulk work (a retrain, an import): an account's kinds take turns too. */
  work?: string;
  /** Not started by then: refused with `ai_threads_busy` (a search goes by words instead of waiting). */
  maxWaitMs?: number;
  /** Buffers of the task that move to the thread instead of being copied (detached here once sent). */
  transfer?: ArrayBuffer[];
}

export type AiThreadErrorCode = 'ai_worker_crashed' | 'ai_threads_busy' | 'ai_threads_closed' | 'ai_task_failed';

/** AI work that did not complete in its thread; an EmbeddingError, so callers that handle a failing model handle this too. */
export class AiThreadError extends EmbeddingError {
  override name = 'AiThreadError';
  constructor(
    override readonly code: AiThreadErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}

/** What ran where, for metrics and tests. */
export interface AiTaskStat {
  kind: AiTask['kind'];
  lane: AiLane;
  accountId?: string;
  threadId: number;
  /** The thread's id in the kernel (Linux), where its niceness can be read. */
  tid?: number;
  /** Whether it ran on a bulk thread (lower OS priority). */
  bulkThread: boolean;
  waitedMs: number;
  ranMs: number;
}

/** Runs the local models' work: a pool of threads in a hub, or inline (the eval command, tests without a hub). */
export interface AiCompute {
  readonly threaded: boolean;
  /** Tasks it runs at once. */
  readonly size: number;
  run<T extends AiTask>(task: T, o?: AiRunOptions): Promise<AiTaskResult<T>>;
  close(): Promise<void>;
}

/** On the calling thread, one task at a time: what `hummdesk eval` uses, and the baseline tests compare against. */
export class InlineCompute implements AiCompute {
  readonly threaded = false;
  readonly size = 1;
  private readonly kernel = new AiKernel();
  private chain: Promise<unknown> = Promise.resolve();

  run<T extends AiTask>(task: T): Promise<AiTaskResult<T>> {
    const next = this.chain.then(() => this.kernel.run(task));
    this.chain = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {}
}

interface Queued {
  task: AiTask;
  lane: AiLane;
  accountId?: string;
  work?: string;
  transfer?: ArrayBuffer[];
  enqueuedAt: number;
  timer?: NodeJS.Timeout;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

interface Thread {
  worker: Worker;
  /** A bulk thread: the only kind that takes bulk work, started at a lower OS priority (BULK_NICE). */
  bulk: boolean;
  busy?: Queued & { id: number; startedAt: number };
  /** Ready for tasks once its module has loaded (a failed load is a crash). */
  gone: boolean;
}

export interface AiThreadPoolOptions {
  /** Threads; 0 or unset: one per core. */
  size?: number;
  /** Threads one account's bulk work may hold at once; default half the pool (at least one). */
  perAccount?: number;
  /** The thread module (tests give a fixture); default ai/workers/thread. */
  entry?: string;
  onTask?: (s: AiTaskStat) => void;
  log?: { warn(obj: unknown, msg: string): void };
}

/** The default thread module beside this one: thread.js in dist/, thread.ts under tsx and vitest. */
function defaultEntry(): string {
  // In dist/ import.meta.url names the source; import.meta.filename the file that runs.
  const self = import.meta.filename ?? fileURLToPath(import.meta.url);
  return join(dirname(self), `thread${extname(self)}`);
}

function spawn(entry: string, workerData: { nice: number }): Worker {
  if (!entry.endsWith('.ts')) return new Worker(entry, { workerData });
  // TypeScript sources (tsx, vitest): the thread registers tsx before it imports its entry.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(pathToFileURL(entry).href)}); })`, { eval: true, workerData });
}

/**
 * The hub's AI threads (node:worker_threads, no pool library: the scheduling below is what a library
 * would not give us). Threads start when work arrives, load their models on their first task, and are
 * unref'd while idle; a thread that dies fails its task with `ai_worker_crashed` and is replaced by the
 * next task. `close()` terminates every thread. Bulk threads run at a lower OS priority (BULK_NICE) and
 * take messages and searches too when the plain thread is busy.
 */
export class AiThreadPool implements AiCompute {
  readonly threaded = true;
  readonly size: number;
  readonly perAccount: number;
  /** Threads that take bulk work (all but one; the one when there is one): the rest serve messages and searches. */
  private readonly bulkThreads: number;
  private readonly entry: string;
  private readonly threads = new Set<Thread>();
  private readonly interactive: Queued[] = [];
  private readonly analysis: Queued[] = [];
  /** Bulk work per account and kind of work, served round robin. */
  private readonly bulk = new Map<string, Queued[]>();
  private readonly bulkRunning = new Map<string, number>();
  private nextId = 1;
  /** Analyses started in a row while bulk work waited and none ran: at `size`, bulk work has the next turn. */
  private bulkPassedOver = 0;
  private closed = false;
  private readonly observers = new Set<(s: AiTaskStat) => void>();

  constructor(private readonly o: AiThreadPoolOptions = {}) {
    this.size = Math.max(1, o.size || availableParallelism());
    this.perAccount = Math.max(1, Math.min(this.size, o.perAccount ?? Math.ceil(this.size / 2)));
    this.bulkThreads = Math.max(1, this.size - 1);
    this.entry = o.entry ?? defaultEntry();
  }

  /** Calls `f` after every task that completed in a thread; returns the function that stops it. */
  observe(f: (s: AiTaskStat) => void): () => void {
    this.observers.add(f);
    return () => this.observers.delete(f);
  }

  /** Threads alive now (tests: none after close). */
  get alive(): number {
    return this.threads.size;
  }

  run<T extends AiTask>(task: T, o: AiRunOptions = {}): Promise<AiTaskResult<T>> {
    if (this.closed) return Promise.reject(new AiThreadError('ai_threads_closed', 'the AI threads are shut down'));
    return new Promise((resolve, reject) => {
      const q: Queued = { task, lane: o.lane ?? 'analysis', accountId: o.accountId, work: o.work, transfer: o.transfer, enqueuedAt: performance.now(), resolve: resolve as (v: unknown) => void, reject };
      if (o.maxWaitMs !== undefined) {
        q.timer = setTimeout(() => {
          if (this.unqueue(q)) reject(new AiThreadError('ai_threads_busy', `no AI thread was free within ${o.maxWaitMs} ms`));
        }, o.maxWaitMs);
        q.timer.unref();
      }
      if (q.lane === 'bulk') {
        const key = bulkKey(q);
        const list = this.bulk.get(key);
        if (list) list.push(q);
        else this.bulk.set(key, [q]);
      } else (q.lane === 'interactive' ? this.interactive : this.analysis).push(q);
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const waiting = [...this.interactive.splice(0), ...this.analysis.splice(0), ...[...this.bulk.values()].flat()];
    this.bulk.clear();
    for (const q of waiting) {
      clearTimeout(q.timer);
      q.reject(new AiThreadError('ai_threads_closed', 'the AI threads are shut down'));
    }
    await Promise.all([...this.threads].map((t) => t.worker.terminate()));
  }

  private unqueue(q: Queued): boolean {
    const list = q.lane === 'bulk' ? this.bulk.get(bulkKey(q)) : q.lane === 'interactive' ? this.interactive : this.analysis;
    const i = list?.indexOf(q) ?? -1;
    if (i < 0) return false;
    list!.splice(i, 1);
    if (q.lane === 'bulk' && !list!.length) this.bulk.delete(bulkKey(q));
    return true;
  }

  /** The next task a free thread should take, if any may start now; bulk work only when a bulk thread is free. */
  private next(bulkThreadFree: boolean): Queued | undefined {
    const search = this.interactive.shift();
    if (search) return search;
    if (this.bulkPassedOver < this.size || !this.bulk.size) {
      const analysis = this.analysis.shift();
      if (analysis) {
        // Passed over only while no bulk work runs: with one running, the next waits for a turn of its own.
        if (this.bulk.size && !this.bulkRunning.size) this.bulkPassedOver++;
        return analysis;
      }
    }
    const bulk = bulkThreadFree ? this.nextBulk() : undefined;
    if (bulk) {
      this.bulkPassedOver = 0;
      return bulk;
    }
    // Bulk work's turn, but it may not start now (its threads are taken): analyses go on.
    return this.analysis.shift();
  }

  private nextBulk(): Queued | undefined {
    for (const [key, list] of this.bulk) {
      if ((this.bulkRunning.get(list[0]!.accountId ?? '') ?? 0) >= this.perAccount) continue;
      const q = list.shift()!;
      // Round robin: the account's kind of work goes to the back of the line.
      this.bulk.delete(key);
      if (list.length) this.bulk.set(key, list);
      return q;
    }
    return undefined;
  }

  private pump(): void {
    while (!this.closed) {
      // A free thread of each kind, or room to start one ('new').
      const free = (bulk: boolean): Thread | 'new' | undefined => {
        let count = 0;
        for (const t of this.threads) {
          if (t.bulk !== bulk) continue;
          if (!t.busy && !t.gone) return t;
          count++;
        }
        return count < (bulk ? this.bulkThreads : this.size - this.bulkThreads) ? 'new' : undefined;
      };
      const plain = free(false);
      const bulk = free(true);
      if (!plain && !bulk) return;
      const q = this.next(bulk !== undefined);
      if (!q) return;
      // Bulk work on a bulk thread; the rest on a plain thread while one is free, else on a bulk thread.
      const choice = (q.lane === 'bulk' ? bulk : plain ?? bulk)!;
      this.dispatch(choice === 'new' ? this.start(q.lane === 'bulk' || !plain) : choice, q);
    }
  }

  private dispatch(thread: Thread, q: Queued): void {
    clearTimeout(q.timer);
    const id = this.nextId++;
    thread.busy = { ...q, id, startedAt: performance.now() };
    if (q.lane === 'bulk') this.bulkRunning.set(q.accountId ?? '', (this.bulkRunning.get(q.accountId ?? '') ?? 0) + 1);
    thread.worker.ref();
    thread.worker.postMessage({ id, task: q.task }, q.transfer ?? []);
  }

  private start(bulk: boolean): Thread {
    const worker = spawn(this.entry, { nice: bulk ? BULK_NICE : 0 });
    const thread: Thread = { worker, bulk, gone: false };
    this.threads.add(thread);
    worker.unref();
    worker.on('message', (m: { id: number; ok: boolean; result?: unknown; error?: { code?: string; message: string }; ms: number; threadId: number; tid?: number }) => {
      const q = thread.busy;
      if (!q || q.id !== m.id) return;
      this.finish(thread);
      const stat: AiTaskStat = { kind: q.task.kind, lane: q.lane, accountId: q.accountId, threadId: m.threadId, tid: m.tid, bulkThread: thread.bulk, waitedMs: q.startedAt - q.enqueuedAt, ranMs: m.ms };
      this.o.onTask?.(stat);
      for (const f of this.observers) f(stat);
      if (m.ok) q.resolve(m.result);
      else q.reject(taskError(m.error!));
      this.pump();
    });
    const lost = (why: string) => {
      if (thread.gone) return;
      thread.gone = true;
      this.threads.delete(thread);
      const q = thread.busy;
      if (q) {
        this.finish(thread);
        if (!this.closed) this.o.log?.warn({ task: q.task.kind, accountId: q.accountId, why }, 'an AI thread stopped; its task failed');
        q.reject(new AiThreadError(this.closed ? 'ai_threads_closed' : 'ai_worker_crashed', `the AI thread running ${q.task.kind} stopped (${why})`));
      }
      this.pump();
    };
    worker.on('error', (err) => lost(err.message));
    worker.on('exit', (code) => lost(`exit code ${code}`));
    return thread;
  }

  private finish(thread: Thread): void {
    const q = thread.busy!;
    thread.busy = undefined;
    thread.worker.unref();
    if (q.lane === 'bulk') {
      const key = q.accountId ?? '';
      const n = (this.bulkRunning.get(key) ?? 1) - 1;
      if (n > 0) this.bulkRunning.set(key, n);
      else this.bulkRunning.delete(key);
    }
  }
}

/** Where bulk work queues: per account and kind of work. */
function bulkKey(q: { accountId?: string; work?: string }): string {
  return `${q.accountId ?? ''}\n${q.work ?? ''}`;
}

/** A task that threw in its thread: the model's own error (an EmbeddingError's code is kept). */
function taskError(e: { code?: string; message: string }): Error {
  if (e.code === 'too_few_categories') return Object.assign(new Error(e.message), { code: e.code });
  return new AiThreadError('ai_task_failed', e.code ? `${e.code}: ${e.message}` : e.message);
}
