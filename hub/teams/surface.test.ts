import { describe, expect, it } from 'vitest';
import { Pacer } from '../surfaces/pacing.js';
import { RetryLaterError } from '../queue/jobs.js';
import { THREAD_LIMITS } from '../../connectors/teams/testing/emulator.js';
import { DEFAULT_LIMITS, teamsTarget, type TeamsInstall } from './surface.js';

describe('Teams surface pacing', () => {
  it('a thread written to as fast as the pacers allow for an hour stays inside all four of Teams\' windows', async () => {
    let now = 0;
    const clock = { now: () => now, sleep: async (ms: number) => void (now += ms) };
    const pacers = DEFAULT_LIMITS.thread.map((l) => new Pacer(l, clock));
    const sends: number[] = [];
    while (now < 3600_000) {
      try {
        for (const p of pacers) await p.take('thread');
        sends.push(now);
      } catch (err) {
        if (!(err instanceof RetryLaterError)) throw err;
        now += err.delayMs;
      }
    }
    for (const { windowMs, max } of THREAD_LIMITS) {
      let most = 0;
      for (let i = 0, j = 0; i < sends.length; i++) {
        while (sends[j]! <= sends[i]! - windowMs) j++;
        most = Math.max(most, i - j + 1);
      }
      expect(most, `at most ${max} in ${windowMs} ms`).toBeLessThanOrEqual(max);
    }
    // And it does not idle: most of the hour's budget is used.
    expect(sends.length).toBeGreaterThan(1700);
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
