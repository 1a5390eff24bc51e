import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../testing/harness.js';
import { blockText, startSlackFixture, type SlackFixture } from '../testing/slack-fixture.js';
import { Gate } from '../testing/http-gate.js';
import { slackOf } from '../install-slack.js';

/**
 * A post Slack carries out after the client gave up on it (held past the Web API client's timeout): its
 * outcome is unknown, so the post is looked for only once Slack has had time to finish it, and found,
 * not made again. (Real Slack: the client gives up at 10 s; here at 3 s, and Slack is given 10 s more.)
 */

const SIGNING = 'timeout-signing-secret';
const POST = '/api/chat.postMessage';
let f: SlackFixture;
let gate: Gate;

beforeAll(async () => {
  f = await startSlackFixture({
    signing: SIGNING,
    apiUrl: async (emulator) => {
      gate = await Gate.start(emulator.url);
      return `${gate.url}/api/`;
    },
    slack: { apiTimeoutMs: 3000 },
    workspace: {
      teamId: 'T0SLOW',
      botUserId: 'UBOTSLOW',
      users: [{ id: 'UCUST', name: 'cara', realName: 'Cara Customer' }],
      channels: [
        { id: 'C0CUST', name: 'customers', isMember: true, isExtShared: true },
        { id: 'C0TRIAGE', name: 'triage', isMember: true },
      ],
    },
    config: { botUserId: 'UBOTSLOW', customerChannels: ['C0CUST'], defaultTriageChannel: 'C0TRIAGE', threadReplies: 'notes' },
    customer: { channel: 'C0CUST', user: 'UCUST' },
  });
  slackOf(f.t.hub)!.surface.setLimits({ settleMs: 10_000, reads: { perMinute: 600, pageSize: 15 } });
});
afterAll(async () => {
  await gate?.close();
  await f?.close();
});

describe('a post Slack finishes after the client gave up on it', () => {
  it('is looked for once Slack has had time to finish it, found, and not posted again', async () => {
    const { m: root, conversationId } = await f.customerWrites('Slow Slack: first');
    const card = await f.threadOf(conversationId);
    gate.hold(POST);
    await f.customerWrites('Slow Slack: held past the timeout', root.ts);
    await gate.arrived(POST);
    // The client gives up; Slack is still working on the post.
    await eventually(async () => gate.waiting === 0);
    const waiting = eventually(async () => (await f.query(
      `SELECT 1 FROM outbox WHERE topic = 'surface.sync' AND payload->>'conversationId' = $1 AND last_error LIKE '%still be landing%'`, [conversationId])).length > 0).catch(() => false);
    const outcome = await Promise.race([gate.arrived(POST, 2).then(() => 'posted again'), waiting.then(() => 'waited for it')]);
    // Slack finishes the post (a retry made meanwhile would land too).
    gate.release(POST);
    expect(outcome).toBe('waited for it');
    await eventually(async () => (await f.query(
      `SELECT 1 FROM outbox WHERE topic = 'surface.sync' AND payload->>'conversationId' = $1 AND done_at IS NULL AND dead_at IS NULL`, [conversationId])).length === 0);
    const posts = f.emulator.replies(card.channel, card.ts).filter((m) => blockText(m).includes('Slow Slack: held past the timeout'));
    expect(posts).toHaveLength(1);
    // Found by its metadata, recorded as made.
    expect(await f.query(`SELECT 1 FROM surface_intents WHERE conversation_id = $1 AND intent_key LIKE 'msg:%' AND state = 'done'`, [conversationId])).toHaveLength(1);
  }, 90_000);
});
