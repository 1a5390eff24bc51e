import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { findInstallation } from '../../storage/repositories/channels.js';
import { withAccount } from '../../storage/session.js';
import { createTestAccount, eventually, startTestHub, type TestHub } from '../testing/harness.js';
import { ChannelEmulator, TestChannelConnector, openConversation } from '../testing/test-channel.js';
import { BullmqRunner } from './bullmq.js';
import { runnerSuite } from './runner-suite.js';

/** The hub's queue, opened from outside as an operator's tool would. */
const withQueue = async <T>(t: TestHub, fn: (q: Queue) => Promise<T>): Promise<T> => {
  const { rows } = await t.hub.db.query<{ name: string }>(`SELECT current_database() AS name`);
  const connection = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
  const queue = new Queue(`hummdesk-jobs-${rows[0]!.name}`, { connection });
  try {
    return await fn(queue);
  } finally {
    await queue.close();
    connection.disconnect();
  }
};

runnerSuite('bullmq', {
  async nextAttemptIn(t, outboxId) {
    return withQueue(t, async (q) => {
      const job = await q.getJob(`ob-${outboxId}`);
      return job && (await job.isDelayed()) ? job.delay : 0;
    });
  },
  async secondRunner(t) {
    // Another worker process on the same database and Redis.
    return new BullmqRunner(t.hub.db, t.hub.metrics, { redisUrl: process.env.REDIS_URL!, attempts: 3, backoffBaseMs: 0, concurrency: 4, pollMs: 20, log: t.hub.log });
  },
});

describe('bullmq outbox relay', () => {
  let t: TestHub;
  let platform: ChannelEmulator;
  beforeAll(async () => {
    t = await startTestHub({ redis: true });
    platform = await ChannelEmulator.start();
    t.hub.connectors.set('whatsapp', new TestChannelConnector(platform));
  });
  afterAll(async () => {
    await t?.close();
    await platform?.close();
  });

  it('adds a row it offers again after a crash (queued, not yet marked) only once', async () => {
    const acct = await createTestAccount(t, { channelKind: 'whatsapp', secrets: {} });
    const channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'whatsapp', id: acct.channelId }))!;
    const conversationId = await openConversation(t.hub.ingest, channel);
    const message = await t.hub.conversations.reply({ accountId: acct.accountId, kind: 'user', id: acct.users.agent.id }, conversationId, { text: 'Relayed once' });
    const row = () =>
      withAccount(t.hub.db, acct.accountId, async (tx) =>
        (await tx.query<{ id: string; dispatched: boolean }>(`SELECT id::text, dispatched_at IS NOT NULL AS dispatched FROM outbox WHERE topic = 'deliver' AND payload->>'messageId' = $1`, [message.id])).rows[0]!,
      );
    await eventually(async () => platform.received.some((r) => r.body.text === 'Relayed once') && (await row()).dispatched);
    const { id } = await row();
    // The relay died after BullMQ took the job but before the row was marked: the next relay offers it again.
    await t.hub.db.query(`UPDATE outbox SET dispatched_at = NULL WHERE id = $1`, [id]);
    t.hub.runner.kick();
    await eventually(async () => (await row()).dispatched);
    expect(await withQueue(t, async (q) => (await q.getJob(`ob-${id}`))?.id)).toBe(`ob-${id}`);
    // Give a duplicate every chance to run before counting sends: wait until the queue is idle.
    await eventually(async () => {
      const d = await t.hub.runner.depth();
      return d.waiting === 0 && d.active === 0;
    });
    expect(platform.received.filter((r) => r.body.text === 'Relayed once')).toHaveLength(1);
  });
});
