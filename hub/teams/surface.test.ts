import { describe, expect, it } from 'vitest';
import { Pacer } from '../surfaces/pacing.js';
import { RetryLaterError } from '../queue/jobs.js';
import { THREAD_LIMITS } from '../../connectors/teams/testing/emulator.js';
import { DEFAULT_LIMITS, teamsTarget, type TeamsInstall } from './surface.js';

describe('Teams surface pacing', () => {
  it('a thread written to as fast as the pacer allows for an hour stays inside Teams\' four windows as Teams counts them, and uses them', async () => {
    let now = 0;
    const clock = { now: () => now, sleep: async (ms: number) => void (now += ms) };
    const pacer = new Pacer(DEFAULT_LIMITS.thread, clock);
    const sends: number[] = [];
    while (now < 3600_000) {
      try {
        await pacer.take('thread');
        sends.push(now);
      } catch (err) {
        if (!(err instanceof RetryLaterError)) throw err;
        now += err.delayMs;
      }
    }
    // Teams counts a write when it arrives: each one a request's latency later (here up to half a second).
    const arrivals = sends.map((at, i) => at + ((i * 7919) % 500)).sort((a, b) => a - b);
    for (const { windowMs, max } of THREAD_LIMITS) {
      let most = 0;
      for (let i = 0, j = 0; i < arrivals.length; i++) {
        while (arrivals[j]! <= arrivals[i]! - windowMs) j++;
        most = Math.max(most, i - j + 1);
      }
      expect(most, `at most ${max} in ${windowMs} ms`).toBeLessThanOrEqual(max);
    }
    // It does not idle: nearly the hour's 1,800, and Teams' 60 in the first 30 seconds (token buckets
    // inside the same limits allowed 44 there, then one write every two seconds).
    expect(sends.length).toBeGreaterThan(1750);
    expect(sends.filter((at) => at < 30_000).length).toBeGreaterThanOrEqual(55);
    expect(sends.filter((at) => at < 120_000).length).toBeGreaterThanOrEqual(200);
  });

  it('a 429 holds the thread for its Retry-After; a wait longer than a job may take goes back to the queue', async () => {
    let now = 0;
    const clock = { now: () => now, sleep: async (ms: number) => void (now += ms) };
    const pacer = new Pacer(DEFAULT_LIMITS.thread, clock);
    pacer.block('thread', 1500);
    await pacer.take('thread');
    expect(now).toBe(1500);
    pacer.block('thread', 10_000);
    await expect(pacer.take('thread')).rejects.toBeInstanceOf(RetryLaterError);
    // Another thread is not held.
    await pacer.take('other');
    expect(now).toBe(1500);
  });
});

describe('where a conversation\'s Teams thread goes', () => {
  const install = (id: string, config: Partial<TeamsInstall['config']>): TeamsInstall => ({ id, accountId: 'a', teamId: `19:${id}@thread.tacv2`, config: { tenantId: 't', serviceUrl: 'https://smba.trafficmanager.net/emea/', channels: [], ...config } });
  const installs = [
    install('one', { defaultTriageChannel: '19:default@thread.tacv2', inboxTriageChannels: { inbox1: '19:inbox@thread.tacv2' } }),
    install('two', { triageChannels: { billing: '19:billing@thread.tacv2' } }),
  ];

  it('its team\'s channel first, then its inbox\'s, then the default', () => {
    expect(teamsTarget(installs, 'billing', 'inbox1')).toMatchObject({ install: { id: 'two' }, channel: '19:billing@thread.tacv2' });
    expect(teamsTarget(installs, 'sales', 'inbox1')).toMatchObject({ install: { id: 'one' }, channel: '19:inbox@thread.tacv2' });
    expect(teamsTarget(installs, null, 'inbox2')).toMatchObject({ install: { id: 'one' }, channel: '19:default@thread.tacv2' });
    expect(teamsTarget([installs[1]!], null, 'inbox2')).toBeUndefined();
  });
});
