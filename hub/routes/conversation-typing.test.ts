import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubEvent } from '../realtime/events.js';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { call, seedConversation } from '../testing/seed.js';

let t: TestHub;
let acct: TestAccount;
let conversationId: string;

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  acct = await createTestAccount(t);
  conversationId = (await seedConversation(t, acct)).conversationId;
});
afterAll(() => t?.close());

/** The typing events `act` puts on the account's bus. */
const typingEvents = async (count: number, act: () => Promise<void>): Promise<HubEvent[]> => {
  const seen: HubEvent[] = [];
  const stop = t.hub.bus.subscribe(acct.accountId, (e) => {
    if (e.event.type === 'typing') seen.push(e.event);
  });
  try {
    await act();
    await eventually(async () => seen.length >= count);
    return seen;
  } finally {
    stop();
  }
};

describe('POST /conversations/:id/typing', () => {
  const url = () => `/api/v1/conversations/${conversationId}/typing`;

  it('announces typing without a body, as callers always have, and a stop with `{ "stopped": true }`', async () => {
    const typing = { type: 'typing', conversationId, by: 'agent', name: 'agent of ' + acct.slug };
    const events = await typingEvents(3, async () => {
      expect((await call(t, acct.users.agent.token, 'POST', url())).statusCode).toBe(204);
      expect((await call(t, acct.users.agent.token, 'POST', url(), { stopped: false })).statusCode).toBe(204);
      expect((await call(t, acct.users.agent.token, 'POST', url(), { stopped: true })).statusCode).toBe(204);
    });
    expect(events).toEqual([typing, typing, { ...typing, stopped: true }]);
  });

  it('refuses a body it does not understand with validation_failed', async () => {
    for (const body of [{ stopped: 'soon' }, { stopped: true, by: 'visitor' }, [true]]) {
      const res = await call(t, acct.users.agent.token, 'POST', url(), body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toBe('validation_failed');
    }
  });
});
