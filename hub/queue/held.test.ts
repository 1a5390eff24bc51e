import { describe, expect, it } from 'vitest';
import { JobHolds } from './held.js';

describe('JobHolds', () => {
  it('releases waiting job starts when the last hold ends, and a second end of the same hold does nothing', async () => {
    const holds = new JobHolds(60_000);
    const first = holds.hold();
    const second = holds.hold();
    let released = false;
    const waited = holds.released().then(() => void (released = true));
    first();
    first();
    await new Promise((r) => setImmediate(r));
    expect(holds.held).toBe(1);
    expect(released).toBe(false);
    second();
    await waited;
    expect(holds.waiting).toBe(0);
  });

  it('lets a job start after the bound under a hold that never ends', async () => {
    const holds = new JobHolds(50);
    holds.hold();
    const t0 = performance.now();
    await holds.released();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
    expect(holds.waiting).toBe(0);
  });
});
