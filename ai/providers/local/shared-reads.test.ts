import { describe, expect, it } from 'vitest';
import { SharedReads } from './shared-reads.js';

describe('SharedReads', () => {
  it('answers callers of a key from the read in flight, and reads afresh once it settled', async () => {
    const reads = new SharedReads();
    let calls = 0;
    let finish!: (v: number) => void;
    const read = () => {
      calls++;
      return new Promise<number>((resolve) => (finish = resolve));
    };
    const a = reads.get('settings:1', read);
    const b = reads.get('settings:1', read);
    expect(calls).toBe(1);
    finish(7);
    expect(await Promise.all([a, b])).toEqual([7, 7]);
    const c = reads.get('settings:1', read);
    expect(calls).toBe(2);
    finish(8);
    expect(await c).toBe(8);
  });

  it('keeps keys apart (one account never gets another account’s read) and shares a failure only with its waiters', async () => {
    const reads = new SharedReads();
    const one = reads.get('settings:1', async () => 'one');
    const two = reads.get('settings:2', async () => 'two');
    expect([await one, await two]).toEqual(['one', 'two']);
    const failing = reads.get('k', () => Promise.reject(new Error('down')));
    const joined = reads.get('k', async () => 'unused');
    await expect(failing).rejects.toThrow('down');
    await expect(joined).rejects.toThrow('down');
    expect(await reads.get('k', async () => 'up')).toBe('up');
  });
});
