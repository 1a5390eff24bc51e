import { describe, expect, it } from 'vitest';
import { poolsClosedAfterAll } from './testing/pools.js';
import { performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { InlineCompute, type AiTaskStat } from './pool.js';
import { endToEnd, LocalModels } from './models.js';
import { BULK_NICE } from './priority.js';
import { defaultExamples } from '../classify/store.js';
import { CategoryModel } from '../classify/model.js';

const pool = poolsClosedAfterAll();

/** The longest stretch this thread's event loop went without running a 5 ms timer, while `work` runs. */
async function longestStall(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 5);
  try {
    await work();
    // One more tick, so a stall at the very end is counted too.
    await new Promise((r) => setTimeout(r, 20));
    return Math.max(longest, performance.now() - last);
  } finally {
    clearInterval(timer);
  }
}

/** Enough examples that training is seconds of CPU: varied texts over the default categories. */
function manyExamples(n: number) {
  const base = defaultExamples();
  return Array.from({ length: n }, (_, i) => {
    const e = base[i % base.length]!;
    return { label: e.label, text: `${e.text} (case ${i}, ref ${(i * 7919) % 100_000})` };
  });
}

/** A thread of this process's niceness, as the kernel has it (the 19th field of /proc/<pid>/task/<tid>/stat). */
function niceOf(tid: number): number {
  return Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
}

describe('the AI threads', () => {
  it.runIf(process.platform === 'linux')('bulk work runs on a thread of lower OS priority; analyses and the main thread keep theirs', { timeout: 300_000 }, async () => {
    const p = pool({ size: 2 });
    const seen: { lane: string; bulkThread: boolean; nice: number | undefined }[] = [];
    // Read while the thread is alive: the observer is called as its answer arrives.
    p.observe((s) => seen.push({ lane: s.lane, bulkThread: s.bulkThread, nice: s.tid === undefined ? undefined : niceOf(s.tid) }));
    // A task the kernel refuses at once: a real AI thread answers it without loading a model.
    const cheap = { kind: 'no such task' } as never;
    await Promise.allSettled([
      p.run(cheap, { lane: 'bulk', accountId: 'A' }),
      p.run(cheap, { lane: 'analysis' }),
      p.run(cheap, { lane: 'bulk', accountId: 'A', work: 'retrain' }),
      p.run(cheap, { lane: 'analysis' }),
    ]);
    expect(seen).toHaveLength(4);
    for (const s of seen.filter((x) => x.lane === 'bulk')) expect(s).toEqual({ lane: 'bulk', bulkThread: true, nice: BULK_NICE });
    // An analysis may go to the bulk thread while the plain one is busy (or still starting, on a loaded
    // machine); wherever it ran, only the bulk thread was lowered.
    for (const s of seen) expect(s.nice).toBe(s.bulkThread ? BULK_NICE : getPriority());
    // With both threads up and free, an analysis runs on the plain thread at the process's priority.
    await p.run(cheap, { lane: 'analysis' }).catch(() => undefined);
    expect(seen[4]).toEqual({ lane: 'analysis', bulkThread: false, nice: getPriority() });
    expect(getPriority()).toBe(niceOf(process.pid));
  });

  it("a retrain's vectors move to the thread in one buffer and train the same model as one array per example", { timeout: 600_000 }, async () => {
    const examples = manyExamples(200);
    const inline = new InlineCompute();
    const vectors = await inline.run({ kind: 'embed', texts: examples.map((e) => e.text) });
    const expected = await inline.run({ kind: 'train-categories', examples, vectors });
    const p = pool({ size: 2 });
    const packed = endToEnd(vectors);
    const got = await p.run({ kind: 'train-categories', examples, vectors: packed }, { lane: 'bulk', transfer: [packed.buffer as ArrayBuffer] });
    // Moved, not copied: the buffer is no longer this thread's.
    expect(packed.byteLength).toBe(0);
    expect({ ...got, trainedAt: '' }).toEqual({ ...expected, trainedAt: '' });
    // Through the hub's path, cached vectors it passes as known stay intact for the next retrain.
    const known = vectors.slice(0, 50);
    const viaModels = await new LocalModels(p).trainCategories('acct', examples, known);
    expect(known.every((v) => v.length === 512)).toBe(true);
    expect(CategoryModel.fromJSON(viaModels).examples).toBe(200);
    await inline.close();
  });


  it('train a category model in a thread while the main thread keeps ticking', { timeout: 600_000 }, async () => {
    const p = pool({ size: 2 });
    const stats: AiTaskStat[] = [];
    p.observe((s) => stats.push(s));
    const models = new LocalModels(p);
    const examples = manyExamples(1500);
    let json!: Awaited<ReturnType<typeof models.trainCategories>>;
    const stall = await longestStall(async () => (json = await models.trainCategories('acct', examples)));
    expect(CategoryModel.fromJSON(json).examples).toBe(1500);
    // Every model call ran in a worker thread, none on this one.
    expect(stats.length).toBeGreaterThan(1);
    expect(stats.every((s) => s.threadId !== threadId)).toBe(true);
    const train = stats.find((s) => s.kind === 'train-categories')!;
    expect(train.lane).toBe('bulk');
    // Inline, the training step alone would hold this thread at least as long as it ran (load stretches both alike).
    expect(stall).toBeLessThan(train.ranMs);
  });

  it('the inline baseline does block: its training holds the event loop for as long as it runs', { timeout: 600_000 }, async () => {
    const inline = new InlineCompute();
    const examples = manyExamples(300);
    const vectors = await inline.run({ kind: 'embed', texts: examples.map((e) => e.text) });
    let ranMs = 0;
    const stall = await longestStall(async () => {
      const started = performance.now();
      await inline.run({ kind: 'train-categories', examples, vectors });
      ranMs = performance.now() - started;
    });
    expect(stall).toBeGreaterThanOrEqual(ranMs * 0.9);
    await inline.close();
  });


  it('a task that throws in its thread fails with a code and leaves the thread serving', { timeout: 300_000 }, async () => {
    const p = pool({ size: 1 });
    await expect(p.run({ kind: 'train-categories', examples: [{ label: 'a', text: 'one' }] })).rejects.toMatchObject({ code: 'too_few_categories' });
    await expect(p.run({ kind: 'nonsense' } as never)).rejects.toMatchObject({ code: 'ai_task_failed' });
    expect(await p.run({ kind: 'embed', texts: ['still here'] })).toHaveLength(1);
  });


  it("bulk work of one account never takes every thread: another account's bulk work and analysis still start", { timeout: 300_000 }, async () => {
    const p = pool({ size: 2 });
    const stats: AiTaskStat[] = [];
    p.observe((s) => stats.push(s));
    const slices = Array.from({ length: 6 }, (_, i) => p.run({ kind: 'embed', texts: Array.from({ length: 32 }, (_, j) => `bulk ${i}.${j}`) }, { lane: 'bulk', accountId: 'A' }));
    const other = p.run({ kind: 'embed', texts: ['another account'] }, { lane: 'bulk', accountId: 'B' });
    const message = p.run({ kind: 'embed', texts: ['a new message'] }, { lane: 'analysis' });
    await Promise.all([...slices, other, message]);
    expect(stats).toHaveLength(8);
    // Read in the order the pool started them (all were queued at once, so by how long each waited), not
    // the order answers came in: which thread answers first is the OS's doing on a loaded machine.
    const waited = (who: string) => stats.filter((s) => (s.accountId ?? s.lane) === who).map((s) => s.waitedMs);
    const lastA = Math.max(...waited('A'));
    // Account B's one slice and the message started before A's last slice, not after all six.
    expect(waited('B')[0]).toBeLessThan(lastA);
    expect(waited('analysis')[0]).toBeLessThan(lastA);
    expect(p.perAccount).toBe(1);
  });
});
