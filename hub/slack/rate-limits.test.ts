import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from './surface.js';
import { Pacer } from '../surfaces/pacing.js';
import { RetryLaterError } from '../queue/jobs.js';
import { SlackLimits } from '../../connectors/slack/testing/limits.js';

/**
 * The surface's pacing of posts against Slack's own limit (as the emulator applies it, from the same
 * documented figures): a channel's posts as fast as the pacer lets them go never meet a 429.
 */
describe('Slack post pacing', () => {
  it('a burst of posts into one channel, as fast as the pacer allows, is within what Slack accepts', async () => {
    let now = 0;
    const clock = { now: () => now, sleep: async (ms: number) => void (now += ms) };
    const pacer = new Pacer(DEFAULT_LIMITS.posts, clock);
    const slack = new SlackLimits({ latencyMs: 0 }, () => now);
    const refused: number[] = [];
    for (let i = 0; i < 12; i++) {
      for (;;) {
        try {
          await pacer.take('T1:C1');
          break;
        } catch (err) {
          // Sent back to the queue: the job comes back when the channel has room.
          if (!(err instanceof RetryLaterError)) throw err;
          now += err.delayMs;
        }
      }
      if (slack.admitPost('T1', 'C1') !== undefined) refused.push(i);
    }
    expect(refused).toEqual([]);
  });
});
