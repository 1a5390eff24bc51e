import { describe, expect, it } from 'vitest';
import { Pacer } from './pacing.js';
import { RetryLaterError } from '../queue/jobs.js';

/** A clock that only moves when the pacer sleeps (or the test says so). */
function fakeClock(advanceOnSleep = true) {
  const clock = {
    t: 0,
    slept: [] as number[],
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.slept.push(ms);
      if (advanceOnSleep) clock.t += ms;
    },
  };
  return clock;
}

describe('Pacer', () => {
  it('lets a burst through at once, then spaces calls at the sustained rate, per key', async () => {
    const clock = fakeClock();
    const pacer = new Pacer({ perSecond: 1, burst: 3, maxWaitMs: 2000 }, clock);
    for (let i = 0; i < 3; i++) await pacer.take('T1:C1');
    expect(clock.slept).toEqual([]);
    await pacer.take('T1:C1');
    await pacer.take('T1:C1');
    expect(clock.slept).toEqual([1000, 1000]);
    // Another channel has its own budget.
    await pacer.take('T1:C2');
    expect(clock.slept).toHaveLength(2);
  });

  it('reschedules instead of waiting long: the wait goes to the job queue', async () => {
    // Both callers arrive before any time passes.
    const clock = fakeClock(false);
    const pacer = new Pacer({ perSecond: 1, burst: 1, maxWaitMs: 1500 }, clock);
    await pacer.take('k');
    // Two callers at once: the first reserves the next slot (1 s), the second would wait 2 s.
    const first = pacer.waitFor('k');
    expect(first).toBe(1000);
    pacer.take('k').catch(() => undefined);
    const err = await pacer.take('k').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryLaterError);
    expect((err as RetryLaterError).delayMs).toBeGreaterThanOrEqual(2000);
    // The next one sent back comes back a slot later, not at the same moment.
    const next = (await pacer.take('k').catch((e: unknown) => e)) as RetryLaterError;
    expect(next.delayMs).toBeGreaterThanOrEqual(3000);
  });

  it('holds a key for Retry-After once the platform said 429', async () => {
    const clock = fakeClock();
    const pacer = new Pacer({ perSecond: 1, burst: 4, maxWaitMs: 2000 }, clock);
    pacer.block('k', 30_000);
    const err = await pacer.take('k').catch((e: unknown) => e);
    expect((err as RetryLaterError).delayMs).toBeGreaterThanOrEqual(30_000);
    clock.t += 30_000;
    await pacer.take('k');
    expect(clock.slept).toEqual([]);
  });

  it('ready() sends a job back before it does any work when the key is busy, and takes no slot when it is not', async () => {
    const clock = fakeClock(false);
    const pacer = new Pacer({ perSecond: 1, burst: 2, maxWaitMs: 1500 }, clock);
    expect(pacer.ready('k')).toBe(0);
    expect(pacer.ready('k')).toBe(0);
    // Checking took nothing: the burst is still there.
    await pacer.take('k');
    await pacer.take('k');
    expect(clock.slept).toEqual([]);
    pacer.block('k', 10_000);
    const err = (() => { try { pacer.ready('k'); return undefined; } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(RetryLaterError);
    expect((err as RetryLaterError).delayMs).toBeGreaterThanOrEqual(10_000);
  });

  it("jobs of one group sent back share one slot: a conversation's queued syncs do not push other conversations later", async () => {
    const clock = fakeClock(false);
    const pacer = new Pacer({ perSecond: 1, burst: 1, maxWaitMs: 500 }, clock);
    await pacer.take('k');
    const delay = (group: string) => { try { pacer.ready('k', group); return 0; } catch (e) { return (e as RetryLaterError).delayMs; } };
    const a1 = delay('conv-a');
    const a2 = delay('conv-a');
    const a3 = delay('conv-a');
    const b = delay('conv-b');
    expect(Math.abs(a2 - a1)).toBeLessThan(100);
    expect(Math.abs(a3 - a1)).toBeLessThan(100);
    // The next conversation gets the next slot, not the fourth.
    expect(b).toBeGreaterThanOrEqual(a1 + 900);
    expect(b).toBeLessThan(a1 + 1200);
  });

  it('new limits keep what each key has used: a busy channel does not look fresh after a change', async () => {
    const clock = fakeClock(false);
    const pacer = new Pacer({ perSecond: 1, burst: 3, maxWaitMs: 2000 }, clock);
    for (let i = 0; i < 3; i++) await pacer.take('T1:C1');
    pacer.block('T1:C2', 5000);
    // Another limit changes (say, the read budget of the same surface); these channels were just used.
    pacer.setLimits({ perSecond: 1, burst: 3, maxWaitMs: 3000 });
    expect(pacer.waitFor('T1:C1')).toBe(1000);
    expect(pacer.waitFor('T1:C2')).toBe(5000);
    expect(pacer.limits.maxWaitMs).toBe(3000);
    // A smaller burst applies at once to a key that had more.
    clock.t = 10_000;
    pacer.setLimits({ perSecond: 1, burst: 1, maxWaitMs: 3000 });
    await pacer.take('T1:C1');
    expect(pacer.waitFor('T1:C1')).toBe(1000);
  });

  it('sliding windows (Teams): calls up to each window\'s max at once, then the wait for the oldest to leave it, margin included', async () => {
    const clock = fakeClock();
    const pacer = new Pacer({ windows: [{ windowMs: 1000, max: 3 }, { windowMs: 10_000, max: 5 }], marginMs: 100, maxWaitMs: 20_000 }, clock);
    for (let i = 0; i < 3; i++) await pacer.take('thread');
    expect(clock.slept).toEqual([]);
    // The fourth waits for the first to leave the 1 s window (+ margin); the fifth goes right after it.
    await pacer.take('thread');
    await pacer.take('thread');
    expect(clock.slept).toEqual([1100]);
    // The sixth waits for the first to leave the 10 s window.
    await pacer.take('thread');
    expect(clock.t).toBe(10_100);
    // Another thread has its own log.
    await pacer.take('other');
    expect(clock.t).toBe(10_100);
  });

  it('sliding windows: a wait beyond maxWaitMs goes to the queue, later ones a window\'s spacing apart; new limits keep the log', async () => {
    const clock = fakeClock(false);
    const pacer = new Pacer({ windows: [{ windowMs: 30_000, max: 3 }], marginMs: 0, maxWaitMs: 2000 }, clock);
    for (let i = 0; i < 3; i++) await pacer.take('thread');
    const first = (await pacer.take('thread').catch((e: unknown) => e)) as RetryLaterError;
    expect(first).toBeInstanceOf(RetryLaterError);
    expect(first.delayMs).toBeGreaterThanOrEqual(30_000);
    const second = (await pacer.take('thread').catch((e: unknown) => e)) as RetryLaterError;
    expect(second.delayMs).toBeGreaterThanOrEqual(40_000);
    // A changed limit (say, a longer wait allowed in a job) does not make the thread look fresh.
    pacer.setLimits({ windows: [{ windowMs: 30_000, max: 3 }], marginMs: 0, maxWaitMs: 5000 });
    expect(pacer.waitFor('thread')).toBe(30_000);
  });
});
