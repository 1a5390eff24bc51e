import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../testing/harness.js';
import { blockText, startSlackFixture, type SlackFixture } from '../testing/slack-fixture.js';

/**
 * One queued sync per conversation, whichever runner runs the jobs: customer messages written while the
 * conversation's sync job waits (sent back by a channel that answered 429) queue no job of their own; that
 * job mirrors them all when it comes back, each once.
 */

const SIGNING = 'queue-signing-secret';
/** Long enough that the messages below are written while the job waits, even on a loaded machine. */
const RETRY_AFTER_S = 15;

describe.each([
  ['the in-process runner', false],
  ['BullMQ', true],
])('with %s', (_name, redis) => {
  let f: SlackFixture;

  beforeAll(async () => {
    f = await startSlackFixture({
      signing: SIGNING,
      redis,
      workspace: {
        teamId: 'T0QUEUE',
        botUserId: 'UBOTQUEUE',
        users: [{ id: 'UCUST', name: 'cara', realName: 'Cara Customer' }],
        channels: [
          { id: 'C0CUST', name: 'customers', isMember: true, isExtShared: true },
          { id: 'C0TRIAGE', name: 'triage', isMember: true },
        ],
      },
      config: { botUserId: 'UBOTQUEUE', customerChannels: ['C0CUST'], defaultTriageChannel: 'C0TRIAGE', threadReplies: 'notes' },
      customer: { channel: 'C0CUST', user: 'UCUST' },
    });
  });
  afterAll(() => f?.close());

  const syncJobs = (conversationId: string) => f.query<{ id: string }>(`SELECT id::text FROM outbox WHERE topic = 'surface.sync' AND payload->>'conversationId' = $1 ORDER BY id`, [conversationId]);

  it('messages written while the conversation\'s sync job waits are mirrored by that job, each once, with no job of their own', async () => {
    const { m: root, conversationId } = await f.customerWrites('Queued: first');
    const card = await f.threadOf(conversationId);
    // The root card is out (its job has claimed). Slack refuses the next post for a while: the job that made it is sent back and waits.
    f.emulator.rateLimitNext('chat.postMessage', RETRY_AFTER_S);
    await f.customerWrites('Queued: second', root.ts);
    await eventually(async () => f.emulator.callsOf('chat.postMessage').some((c) => c.status === 429));
    await eventually(async () => (await f.query(`SELECT 1 FROM surface_sync_requests WHERE conversation_id = $1 AND queued_job IS NOT NULL`, [conversationId])).length === 1);
    const names = ['third', 'fourth', 'fifth', 'sixth', 'seventh'];
    for (const n of names) await f.customerWrites(`Queued: ${n}`, root.ts);
    expect(await syncJobs(conversationId)).toHaveLength(2);
    await eventually(async () => f.emulator.replies(card.channel, card.ts).some((m) => blockText(m).includes('Queued: seventh')), 90_000);
    const thread = f.emulator.replies(card.channel, card.ts);
    for (const n of ['second', ...names]) expect(thread.filter((m) => blockText(m).includes(`Queued: ${n}`))).toHaveLength(1);
    expect(await syncJobs(conversationId)).toHaveLength(2);
  }, 120_000);
});
