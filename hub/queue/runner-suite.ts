import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelInstallation } from '../../connectors/core/types.js';
import { findInstallation } from '../../storage/repositories/channels.js';
import { withAccount } from '../../storage/session.js';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { ChannelEmulator, TestChannelConnector, openConversation } from '../testing/test-channel.js';
import type { JobRunner } from './jobs.js';

/**
 * Test support: the behaviour both job runners must share, run by in-process.test.ts and
 * bullmq.test.ts against the real deliver handler and a real HTTP platform emulator.
 */
export interface RunnerProbe {
  /** How long the job of outbox row `outboxId` waits before its next attempt, in ms. */
  nextAttemptIn(t: TestHub, outboxId: string): Promise<number>;
  /** A second process's runner on the same database (and Redis), to race the first. */
  secondRunner(t: TestHub): Promise<JobRunner>;
}

export function runnerSuite(kind: 'in-process' | 'bullmq', probe: RunnerProbe): void {
  let t: TestHub;
  let acct: TestAccount;
  let other: TestAccount;
  let channel: ChannelInstallation;
  let platform: ChannelEmulator;

  beforeAll(async () => {
    t = await startTestHub({ redis: kind === 'bullmq' });
    expect(t.hub.runner.kind).toBe(kind);
    acct = await createTestAccount(t, { channelKind: 'whatsapp', secrets: {} });
    other = await createTestAccount(t, { channelKind: 'whatsapp', secrets: {} });
    channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'whatsapp', id: acct.channelId }))!;
    platform = await ChannelEmulator.start();
    t.hub.connectors.set('whatsapp', new TestChannelConnector(platform));
  });
  afterAll(async () => {
    await t?.close();
    await platform?.close();
  });

  const reply = async (text: string) => {
    const conversationId = await openConversation(t.hub.ingest, channel);
    return t.hub.conversations.reply({ accountId: acct.accountId, kind: 'user', id: acct.users.agent.id }, conversationId, { text });
  };
  const status = (messageId: string) =>
    withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<{ s: string }>(`SELECT delivery_status s FROM messages WHERE id = $1`, [messageId])).rows[0]!.s);
  const outboxId = (messageId: string) =>
    withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<{ id: string }>(`SELECT id::text FROM outbox WHERE topic = 'deliver' AND payload->>'messageId' = $1`, [messageId])).rows[0]!.id);
  const sends = (text: string) => platform.received.filter((r) => r.body.text === text);
  const failures = async () => (await t.hub.metrics.jobFailures.get()).values.find((v) => v.labels.topic === 'deliver')?.value ?? 0;
  const dead = async (apiKey: string) => (await t.app.inject({ url: '/api/v1/jobs/dead', headers: { 'x-api-key': apiKey } })).json().items as { id: string; payload: { messageId?: string }; error: string; attempts: number }[];

  describe(`${kind} job runner`, () => {
    it('retries a failing job until it succeeds', async () => {
      const before = await failures();
      platform.respond({ kind: 'server_error' }, { kind: 'server_error' });
      const message = await reply('Third time lucky');
      await eventually(async () => (await status(message.id)) === 'sent');
      expect(sends('Third time lucky').map((s) => s.answered)).toEqual(['server_error', 'server_error', 'ok']);
      expect(await failures()).toBe(before + 2);
    });

    it('lists a job that used up its attempts as dead, and runs it again on request', async () => {
      platform.respond({ kind: 'server_error' }, { kind: 'server_error' }, { kind: 'server_error' });
      const message = await reply('Dead on arrival');
      const job = await eventually(async () => (await dead(acct.apiKeys.admin)).find((j) => j.payload.messageId === message.id));
      expect(job).toMatchObject({ id: await outboxId(message.id), attempts: 3, error: 'platform error: internal error' });
      expect(await status(message.id)).toBe('failed');
      expect(sends('Dead on arrival')).toHaveLength(3);

      // Another tenant neither sees nor retries it; an agent may not either.
      expect(await dead(other.apiKeys.admin)).toEqual([]);
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/jobs/dead/${job.id}/retry`, headers: { 'x-api-key': other.apiKeys.admin } })).statusCode).toBe(404);
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/jobs/dead/${job.id}/retry`, headers: { 'x-api-key': acct.apiKeys.agent } })).statusCode).toBe(403);

      const retried = await t.app.inject({ method: 'POST', url: `/api/v1/jobs/dead/${job.id}/retry`, headers: { 'x-api-key': acct.apiKeys.admin } });
      expect(retried.statusCode).toBe(202);
      await eventually(async () => (await status(message.id)) === 'sent');
      expect(sends('Dead on arrival')).toHaveLength(4);
      expect((await dead(acct.apiKeys.admin)).find((j) => j.payload.messageId === message.id)).toBeUndefined();
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/jobs/dead/${job.id}/retry`, headers: { 'x-api-key': acct.apiKeys.admin } })).statusCode).toBe(404);
    });

    it('never runs an outbox row twice, even with a second process relaying and working', async () => {
      const second = await probe.secondRunner(t);
      await second.start(t.hub.handlers, { relay: true, work: true });
      try {
        const texts = Array.from({ length: 12 }, (_, i) => `Raced reply ${i}`);
        const messages = await Promise.all(texts.map((text) => reply(text)));
        second.kick();
        await eventually(async () => (await Promise.all(messages.map((m) => status(m.id)))).every((s) => s === 'sent'));
        for (const text of texts) expect(sends(text)).toHaveLength(1);
      } finally {
        await second.stop();
      }
    });

    it('exposes job failures and queue depth at /metrics', async () => {
      const res = await t.app.inject({ url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.body).toMatch(/^hummdesk_job_failures_total\{topic="deliver"\} [1-9]\d*$/m);
      expect(res.body).toMatch(/^hummdesk_queue_depth\{state="waiting"\} \d+$/m);
      expect(res.body).toMatch(/^hummdesk_queue_depth\{state="active"\} \d+$/m);
      expect(res.body).toMatch(/^hummdesk_queue_depth\{state="dead"\} \d+$/m);
    });
  });

  describe(`${kind} job runner backoff`, () => {
    let slow: TestHub;
    let slowAcct: TestAccount;
    beforeAll(async () => {
      slow = await startTestHub({ redis: kind === 'bullmq', env: { HUMMDESK_JOB_BACKOFF_MS: '60000' } });
      slowAcct = await createTestAccount(slow, { channelKind: 'whatsapp', secrets: {} });
      slow.hub.connectors.set('whatsapp', new TestChannelConnector(platform));
    });
    afterAll(() => slow?.close());

    it('waits an exponentially growing, jittered delay before the next attempt', async () => {
      const ch = (await findInstallation(slow.hub.db, slow.hub.box, { kind: 'whatsapp', id: slowAcct.channelId }))!;
      platform.respond({ kind: 'server_error' });
      const conversationId = await openConversation(slow.hub.ingest, ch);
      const message = await slow.hub.conversations.reply({ accountId: slowAcct.accountId, kind: 'user', id: slowAcct.users.agent.id }, conversationId, { text: 'Backed off' });
      const id = await withAccount(slow.hub.db, slowAcct.accountId, async (tx) => (await tx.query<{ id: string }>(`SELECT id::text FROM outbox WHERE topic = 'deliver' AND payload->>'messageId' = $1`, [message.id])).rows[0]!.id);
      await eventually(async () => sends('Backed off').length === 1);
      // First retry: base × 2⁰ with full jitter over its upper half, so 30–60 s for a 60 s base.
      const wait = await eventually(async () => {
        const ms = await probe.nextAttemptIn(slow, id);
        return ms > 0 ? ms : undefined;
      });
      expect(wait).toBeGreaterThan(25_000);
      expect(wait).toBeLessThanOrEqual(60_000);
      expect(sends('Backed off')).toHaveLength(1);
    });
  });
}
