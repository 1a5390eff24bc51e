import { describe, expect, it } from 'vitest';
import { CRASHING, poolsClosedAfterAll } from './testing/pools.js';

const pool = poolsClosedAfterAll();

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
