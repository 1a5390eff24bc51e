import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { AccountEvent } from './events.js';
import { RedisEventBus } from './redis-bus.js';

/*
 * Events published in one turn of the event loop (an ingest batch's) cross Redis as one message, and
 * every process still hands each of them, in order, to its listeners of that account.
 */

const url = process.env.REDIS_URL;
let a: RedisEventBus;
let b: RedisEventBus;
let raw: Redis;
let rawPub: Redis;
const rawMessages: string[] = [];

beforeAll(async () => {
  if (!url) throw new Error('REDIS_URL is required');
  a = await RedisEventBus.connect(url);
  b = await RedisEventBus.connect(url);
  raw = new Redis(url, { maxRetriesPerRequest: null });
  rawPub = new Redis(url, { maxRetriesPerRequest: null });
  await raw.subscribe('hummdesk:events');
  raw.on('message', (_c: string, m: string) => rawMessages.push(m));
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  raw?.disconnect();
  rawPub?.disconnect();
});

/** Resolves with the first `n` events `bus` delivers for `accountId`. */
function collect(bus: RedisEventBus, accountId: string, n: number): Promise<AccountEvent[]> {
  const got: AccountEvent[] = [];
  return new Promise((resolve) => {
    const stop = bus.subscribe(accountId, (e) => {
      got.push(e);
      if (got.length === n) {
        stop();
        resolve(got);
      }
    });
  });
}

describe('RedisEventBus', () => {
  it('sends the events of one turn as one Redis message; each process delivers every one, in order', async () => {
    const account = randomUUID();
    const other = randomUUID();
    const inB = collect(b, account, 5);
    const inA = collect(a, account, 5);
    const otherInB = collect(b, other, 1);
    rawMessages.length = 0;
    const ids = Array.from({ length: 5 }, () => randomUUID());
    for (const [i, id] of ids.entries()) {
      a.publish(account, { type: 'message.created', conversationId: id, messageId: id, direction: 'inbound', isPrivate: false });
      if (i === 2) a.publish(other, { type: 'conversation.created', conversationId: id });
    }
    const [fromB, fromA, otherFromB] = await Promise.all([inB, inA, otherInB]);
    for (const got of [fromB, fromA]) expect(got.map((e) => (e.event as { conversationId: string }).conversationId)).toEqual(ids);
    expect(otherFromB[0]!.event).toEqual({ type: 'conversation.created', conversationId: ids[2] });
    const ours = rawMessages.filter((m) => m.includes(account));
    expect(ours).toHaveLength(1);
    expect(JSON.parse(ours[0]!)).toHaveLength(6);
  });

  it('delivers a single event as published by a hub that sends them one by one', async () => {
    const account = randomUUID();
    const inB = collect(b, account, 1);
    const single: AccountEvent = { accountId: account, event: { type: 'conversation.created', conversationId: account }, at: new Date().toISOString() };
    await rawPub.publish('hummdesk:events', JSON.stringify(single));
    expect((await inB)[0]).toEqual(single);
  });
});
