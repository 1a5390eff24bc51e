import { describe, expect, it } from 'vitest';
import { ECHO, poolsClosedAfterAll } from './testing/pools.js';
import type { AiTaskStat } from './pool.js';

const pool = poolsClosedAfterAll();

describe('the AI threads share out work between lanes', () => {
  it('bulk work (an import, a retrain) still gets a thread while analyses keep the threads busy', { timeout: 120_000 }, async () => {
    const p = pool({ size: 2, entry: ECHO });
    // Both threads started first (the plain one and the bulk one): a thread's start takes longer than all
    // of the work below, which the first thread up would otherwise answer alone.
    await Promise.all([p.run({ kind: 'embed', texts: ['warm'] }, { lane: 'analysis' }), p.run({ kind: 'embed', texts: ['warm'] }, { lane: 'analysis' })]);
    const stats: AiTaskStat[] = [];
    p.observe((s) => stats.push(s));
    // A backlog of analyses queued ahead of two slices of an import: strictly by lane, both slices waited for all forty.
    const analyses = Array.from({ length: 40 }, (_, i) => p.run({ kind: 'embed', texts: [`message ${i}`] }, { lane: 'analysis' }));
    const bulk = [0, 1].map((i) => p.run({ kind: 'embed', texts: [`article ${i}`] }, { lane: 'bulk', accountId: 'A' }));
    await Promise.all([...analyses, ...bulk]);
    expect(stats).toHaveLength(42);
    // Read on the bulk thread alone: which thread answers first is the OS's doing (a loaded machine may
    // leave one idle for dozens of the other's tasks), while the order on one thread is the pool's.
    // A bulk task after at most `size` analyses started (one thread's turn in every `size` + 1), not after all of them.
    const onBulkThread = stats.filter((s) => s.bulkThread).map((s) => s.lane);
    expect(onBulkThread.indexOf('bulk')).toBeGreaterThanOrEqual(0);
    expect(onBulkThread.indexOf('bulk')).toBeLessThanOrEqual(3);
    expect(onBulkThread.lastIndexOf('bulk')).toBeLessThanOrEqual(6);
  });

  it("an account's import takes turns with its retrain instead of waiting for every slice of it", { timeout: 120_000 }, async () => {
    const p = pool({ size: 2, entry: ECHO });
    // One account's bulk work runs one task at a time here, so the order tasks finish in is the order they started in.
    const finished: string[] = [];
    const retrain = Array.from({ length: 6 }, (_, i) =>
      p.run({ kind: 'embed', texts: [`example ${i}`] }, { lane: 'bulk', accountId: 'A', work: 'retrain' }).then(() => void finished.push('retrain')));
    const imported = p.run({ kind: 'embed', texts: ['article'] }, { lane: 'bulk', accountId: 'A' }).then(() => void finished.push('import'));
    await Promise.all([...retrain, imported]);
    expect(finished).toHaveLength(7);
    // Queued behind six slices of a retrain, the import's slice went third, not last.
    expect(finished.indexOf('import')).toBeLessThanOrEqual(2);
  });

  it('a search (a person waiting) still goes before bulk work that has waited its turn', { timeout: 120_000 }, async () => {
    const p = pool({ size: 1, entry: ECHO });
    const stats: AiTaskStat[] = [];
    p.observe((s) => stats.push(s));
    const first = p.run({ kind: 'embed', texts: ['running'] }, { lane: 'analysis' });
    const queued = [
      ...Array.from({ length: 3 }, (_, i) => p.run({ kind: 'embed', texts: [`message ${i}`] }, { lane: 'analysis' })),
      p.run({ kind: 'embed', texts: ['article'] }, { lane: 'bulk', accountId: 'A' }),
      p.run({ kind: 'embed', texts: ['search'] }, { lane: 'interactive' }),
    ];
    await Promise.all([first, ...queued]);
    expect(stats.map((s) => s.lane).indexOf('interactive')).toBe(1);
  });
});
