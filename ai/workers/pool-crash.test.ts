import { afterAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import { AiThreadPool, InlineCompute, type AiTaskStat } from './pool.js';
import { LocalModels } from './models.js';
import { defaultExamples } from '../classify/store.js';
import { CategoryModel } from '../classify/model.js';

const CRASHING = fileURLToPath(new URL('./testing/crashing-thread.ts', import.meta.url));
const pools: AiThreadPool[] = [];
const pool = (o: ConstructorParameters<typeof AiThreadPool>[0]) => {
  const p = new AiThreadPool(o);
  pools.push(p);
  return p;
};
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

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

// Its own file, so its own process: a thread's native model runtime torn down (a crash, a terminate) beside
// other pools' live threads has brought the whole test process down; alone it is reliable.
describe('the AI threads', () => {
  it('a thread that dies fails its task with ai_worker_crashed, and the next task gets a new thread', { timeout: 300_000 }, async () => {
    const p = pool({ size: 1, entry: CRASHING });
    const first = await p.run({ kind: 'embed', texts: ['hello'] });
    expect(first[0]).toHaveLength(512);
    await expect(p.run({ kind: 'embed', texts: ['crash this thread'] })).rejects.toMatchObject({ name: 'AiThreadError', code: 'ai_worker_crashed' });
    const again = await p.run({ kind: 'embed', texts: ['hello'] });
    expect(Array.from(again[0]!)).toEqual(Array.from(first[0]!));
    expect(p.alive).toBe(1);
  });

});
