import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelInstallation } from '../../connectors/core/types.js';
import { findInstallation } from '../../storage/repositories/channels.js';
import { enqueue } from '../../storage/repositories/outbox.js';
import { withAccount } from '../../storage/session.js';
import type { AccountEvent } from '../realtime/events.js';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { ChannelEmulator, TestChannelConnector, openConversation } from '../testing/test-channel.js';

let t: TestHub;
let acct: TestAccount;
let channel: ChannelInstallation;
let platform: ChannelEmulator;
const events: AccountEvent[] = [];

beforeAll(async () => {
  t = await startTestHub();
  acct = await createTestAccount(t, { channelKind: 'whatsapp', secrets: {} });
  channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'whatsapp', id: acct.channelId }))!;
  platform = await ChannelEmulator.start();
  t.hub.bus.subscribe(acct.accountId, (e) => events.push(e));
});
afterAll(async () => {
  await t?.close();
  await platform?.close();
});
afterEach(() => {
  platform.onSend = undefined;
});

const agent = () => ({ accountId: acct.accountId, kind: 'user' as const, id: acct.users.agent.id });
const useConnector = (opts: { idempotentSend?: boolean; timeoutMs?: number } = {}) => t.hub.connectors.set('whatsapp', new TestChannelConnector(platform, opts));

interface Delivery {
  deliveryStatus: string | null;
  deliveryError: string | null;
  externalId: string | null;
}
const delivery = (messageId: string) =>
  withAccount(t.hub.db, acct.accountId, async (tx) =>
    (await tx.query<Delivery>(`SELECT delivery_status AS "deliveryStatus", delivery_error AS "deliveryError", external_id AS "externalId" FROM messages WHERE id = $1`, [messageId])).rows[0]!,
  );
const deliverJob = (messageId: string) =>
  withAccount(t.hub.db, acct.accountId, async (tx) =>
    (await tx.query<{ id: string; attempts: number; doneAt: string | null; deadAt: string | null; runAfter: Date; lastError: string | null }>(
      `SELECT id::text, attempts, done_at AS "doneAt", dead_at AS "deadAt", run_after AS "runAfter", last_error AS "lastError"
       FROM outbox WHERE topic = 'deliver' AND payload->>'messageId' = $1`,
      [messageId],
    )).rows[0]!,
  );
const sendsOf = (text: string) => platform.received.filter((r) => r.body.text === text);
const failures = async () => (await t.hub.metrics.jobFailures.get()).values.find((v) => v.labels.topic === 'deliver')?.value ?? 0;
const reply = async (text: string, opts: { isPrivate?: boolean } = {}) => {
  const conversationId = await openConversation(t.hub.ingest, channel);
  return t.hub.conversations.reply(agent(), conversationId, { text, ...opts });
};

describe('deliver job', () => {
  it('sends a reply: queued → sending → sent with the platform id', async () => {
    useConnector();
    const seenWhileSending: (string | null)[] = [];
    platform.onSend = async (send) => {
      if (send.body.text === 'Your order ships today') seenWhileSending.push((await delivery(message.id)).deliveryStatus);
    };
    platform.respond({ kind: 'ok', id: 'wamid.OK1' });
    const message = await reply('Your order ships today');
    expect(message.deliveryStatus).toBe('queued');
    await eventually(async () => (await delivery(message.id)).deliveryStatus === 'sent');
    expect(seenWhileSending).toEqual(['sending']);
    expect(await delivery(message.id)).toMatchObject({ externalId: 'wamid.OK1', deliveryError: null });
    expect(sendsOf('Your order ships today')).toHaveLength(1);
    expect(events.map((e) => e.event)).toContainEqual(expect.objectContaining({ type: 'message.updated', messageId: message.id, deliveryStatus: 'sent' }));
    // What an agent sees through the API.
    const res = await t.app.inject({ url: `/api/v1/conversations/${message.conversationId}/messages`, headers: { authorization: `Bearer ${acct.users.agent.token}` } });
    expect(res.json().items).toContainEqual(expect.objectContaining({ id: message.id, deliveryStatus: 'sent', externalId: 'wamid.OK1' }));
  });

  it('fails a reply the platform refuses for good, with its reason, and the job is dead', async () => {
    useConnector();
    const before = await failures();
    platform.respond({ kind: 'rejected', reason: 'recipient is not a WhatsApp user' });
    const message = await reply('Refused reply');
    await eventually(async () => (await deliverJob(message.id)).deadAt);
    expect(await delivery(message.id)).toMatchObject({ deliveryStatus: 'failed', deliveryError: 'recipient is not a WhatsApp user' });
    expect(sendsOf('Refused reply')).toHaveLength(1);
    expect(await failures()).toBe(before + 1);
    const dead = await t.app.inject({ url: '/api/v1/jobs/dead', headers: { 'x-api-key': acct.apiKeys.admin } });
    expect(dead.json().items).toContainEqual(expect.objectContaining({ topic: 'deliver', payload: { messageId: message.id }, error: 'recipient is not a WhatsApp user' }));
  });

  it('fails a reply on an auth error without retrying', async () => {
    useConnector();
    platform.respond({ kind: 'unauthorized' });
    const message = await reply('Unauthorised reply');
    await eventually(async () => (await deliverJob(message.id)).deadAt);
    expect(await delivery(message.id)).toMatchObject({ deliveryStatus: 'failed', deliveryError: 'invalid access token' });
    expect(sendsOf('Unauthorised reply')).toHaveLength(1);
  });

  it('retries a rate-limited reply after Retry-After without counting it as a failure', async () => {
    useConnector();
    const before = await failures();
    platform.respond({ kind: 'rate_limited', retryAfterSeconds: 30 });
    const message = await reply('Rate limited reply');
    const parked = await eventually(async () => {
      const job = await deliverJob(message.id);
      return job.lastError ? job : undefined;
    });
    // Parked for the platform's 30 s, back in `queued`, and no attempt spent.
    expect(parked.runAfter.getTime() - Date.now()).toBeGreaterThan(20_000);
    expect(parked.attempts).toBe(0);
    expect((await delivery(message.id)).deliveryStatus).toBe('queued');
    expect(await failures()).toBe(before);
    // Time passes (moved, not waited for): the retry goes out.
    await withAccount(t.hub.db, acct.accountId, (tx) => tx.query(`UPDATE outbox SET run_after = now() WHERE id = $1`, [parked.id]));
    t.hub.runner.kick();
    await eventually(async () => (await delivery(message.id)).deliveryStatus === 'sent');
    expect(sendsOf('Rate limited reply').map((s) => s.answered)).toEqual(['rate_limited', 'ok']);
    expect(await failures()).toBe(before);
  });

  it('retries a platform 5xx until attempts run out, then marks the reply failed', async () => {
    useConnector();
    platform.respond({ kind: 'server_error' }, { kind: 'server_error' }, { kind: 'server_error' });
    const message = await reply('Unlucky reply');
    await eventually(async () => (await deliverJob(message.id)).deadAt);
    expect(sendsOf('Unlucky reply')).toHaveLength(3);
    expect(await delivery(message.id)).toMatchObject({ deliveryStatus: 'failed', deliveryError: 'platform error: internal error' });
  });

  it.each([
    ['times out', { kind: 'hang' } as const],
    ['drops the connection', { kind: 'drop' } as const],
  ])('marks a reply unknown and does not resend when the platform %s on a channel without idempotency keys', async (_, step) => {
    useConnector({ idempotentSend: false, timeoutMs: 300 });
    const text = `Cut off reply (${step.kind})`;
    platform.respond(step);
    const message = await reply(text);
    await eventually(async () => (await deliverJob(message.id)).doneAt);
    const d = await delivery(message.id);
    expect(d.deliveryStatus).toBe('unknown');
    expect(d.deliveryError).toMatch(/did not answer|reset/);
    expect(sendsOf(text)).toHaveLength(1);
    expect(events.map((e) => e.event)).toContainEqual(expect.objectContaining({ type: 'message.updated', messageId: message.id, deliveryStatus: 'unknown' }));
  });

  it('resends with the same idempotency key when a send is cut off on a channel that dedupes', async () => {
    useConnector({ idempotentSend: true, timeoutMs: 300 });
    platform.respond({ kind: 'drop' });
    const message = await reply('Dropped but deduped');
    await eventually(async () => (await delivery(message.id)).deliveryStatus === 'sent');
    const sends = sendsOf('Dropped but deduped');
    expect(sends.map((s) => s.answered)).toEqual(['drop', 'ok']);
    expect(sends.map((s) => s.idempotencyKey)).toEqual([message.id, message.id]);
    // The platform recognised the key, so the message has the id of the first (dropped) send.
    expect((await delivery(message.id)).externalId).toMatch(/^ext-/);
  });

  describe('after a crash mid-send (the job finds the message already `sending`)', () => {
    const crashedSend = async (text: string) => {
      // The process died after marking the message `sending`: stop the runner, leave that state behind, restart.
      await t.hub.runner.stop();
      const message = await reply(text);
      await withAccount(t.hub.db, acct.accountId, (tx) => tx.query(`UPDATE messages SET delivery_status = 'sending' WHERE id = $1`, [message.id]));
      await t.hub.startJobs({ relay: true, work: true });
      return message;
    };

    it('marks it unknown for an agent to decide and does not send it again', async () => {
      useConnector({ idempotentSend: false });
      const message = await crashedSend('Crashed send');
      await eventually(async () => (await deliverJob(message.id)).doneAt);
      expect(await delivery(message.id)).toMatchObject({ deliveryStatus: 'unknown', deliveryError: expect.stringMatching(/interrupted/) });
      expect(sendsOf('Crashed send')).toHaveLength(0);
      expect(events.map((e) => e.event)).toContainEqual(expect.objectContaining({ type: 'message.updated', messageId: message.id, deliveryStatus: 'unknown' }));
    });

    it('resends it with the same idempotency key on a channel that dedupes', async () => {
      useConnector({ idempotentSend: true });
      const message = await crashedSend('Crashed idempotent send');
      await eventually(async () => (await delivery(message.id)).deliveryStatus === 'sent');
      expect(sendsOf('Crashed idempotent send').map((s) => s.idempotencyKey)).toEqual([message.id]);
    });
  });

  it('never sends a private note, even when a deliver job names it', async () => {
    useConnector();
    const note = await reply('Internal: customer is a VIP', { isPrivate: true });
    expect(note.deliveryStatus).toBeNull();
    // A deliver job for a note must not exist, and if one did (a bug elsewhere), it sends nothing.
    await withAccount(t.hub.db, acct.accountId, async (tx) => {
      expect((await tx.query(`SELECT 1 FROM outbox WHERE topic = 'deliver' AND payload->>'messageId' = $1`, [note.id])).rowCount).toBe(0);
      await enqueue(tx, acct.accountId, 'deliver', { messageId: note.id });
    });
    t.hub.runner.kick();
    await eventually(async () => (await deliverJob(note.id)).doneAt);
    expect(sendsOf('Internal: customer is a VIP')).toHaveLength(0);
    expect((await delivery(note.id)).deliveryStatus).toBeNull();
  });
});
