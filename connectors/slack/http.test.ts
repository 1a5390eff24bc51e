import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SlackEmulator, type EmulatedWorkspace } from './testing/emulator.js';
import { SlackClients, toConnectorError } from './client.js';
import { RateLimitError } from '../core/errors.js';

/*
 * Web API calls go through undici's request (no WHATWG fetch per post), with the same answers the
 * WebClient gets from fetch: results, platform errors, and 429s with their Retry-After.
 */

let emulator: SlackEmulator;
let ws: EmulatedWorkspace;

beforeAll(async () => {
  emulator = await SlackEmulator.start();
  ws = emulator.addWorkspace({ teamId: 'T0HTTP', channels: [{ id: 'C0HTTP', name: 'general', isMember: true }] });
});
afterAll(() => emulator?.close());

describe('the Slack clients’ HTTP', () => {
  it('posts without the global fetch and reads results, refusals and rate limits as before', async () => {
    const spy = vi.spyOn(globalThis, 'fetch');
    try {
      const client = new SlackClients({ slackApiUrl: emulator.apiUrl }).for(ws.botToken);
      const res = await client.chat.postMessage({ channel: 'C0HTTP', text: 'over undici', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'hello *there*' } }] });
      expect(res.ok).toBe(true);
      expect(emulator.messages.find((m) => m.ts === res.ts)?.text).toBe('over undici');
      const refused = await client.chat.postMessage({ channel: 'C0NOPE', text: 'x' }).catch((e: unknown) => e);
      expect(toConnectorError(refused).code).toBe('slack_channel_not_found');
      emulator.rateLimitNext('chat.postMessage', 7);
      const limited = toConnectorError(await client.chat.postMessage({ channel: 'C0HTTP', text: 'y' }).catch((e: unknown) => e));
      expect(limited).toBeInstanceOf(RateLimitError);
      expect((limited as RateLimitError).retryAfterMs).toBe(7000);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});
