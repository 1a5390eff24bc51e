import { describe, expect, it } from 'vitest';
import { poolsClosedAfterAll } from './testing/pools.js';

const pool = poolsClosedAfterAll();

// Its own file, so its own process: a thread's native model runtime torn down (a crash, a terminate) beside
// other pools' live threads has brought the whole test process down; alone it is reliable.
describe('the AI threads', () => {
  it('close terminates every thread and refuses further work', { timeout: 300_000 }, async () => {
    const p = pool({ size: 2 });
    await Promise.all([p.run({ kind: 'embed', texts: ['a'] }), p.run({ kind: 'embed', texts: ['b'] })]);
    expect(p.alive).toBeGreaterThan(0);
    const queued = p.run({ kind: 'embed', texts: Array.from({ length: 32 }, (_, i) => `queued ${i}`) });
    // Handled before close rejects it, so the rejection is never an unhandled one in between.
    const refused = expect(queued).rejects.toMatchObject({ code: 'ai_threads_closed' });
    await p.close();
    expect(p.alive).toBe(0);
    await refused;
    await expect(p.run({ kind: 'embed', texts: ['late'] })).rejects.toMatchObject({ code: 'ai_threads_closed' });
  });

});
