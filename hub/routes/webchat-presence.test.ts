import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountEvent } from '../realtime/events.js';
import { withAccount } from '../../storage/session.js';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';

let t: TestHub;
let acct: TestAccount;
const WIDGET = 'presence-widget';
const SECRETS = { identitySecret: 'identity-secret-of-the-shop', sessionSecret: 'session-secret-of-the-shop' };

beforeAll(async () => {
  t = await startTestHub();
  acct = await createTestAccount(t, { channelKey: WIDGET, secrets: SECRETS });
});
afterAll(() => t?.close());

interface Session {
  visitorId: string;
  visitorToken: string;
}
const startSession = async (body: Record<string, unknown> = {}): Promise<Session> => (await t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/sessions`, payload: body })).json();
const visitorHeaders = (s: Session) => ({ authorization: `Visitor ${s.visitorToken}`, 'x-visitor-id': s.visitorId });
const visitor = (s: Session, path: string, payload?: Record<string, unknown>) =>
  t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}${path}`, headers: visitorHeaders(s), ...(payload ? { payload } : {}) });
const agent = (path: string, payload?: Record<string, unknown>) =>
  t.app.inject({ method: 'POST', url: `/api/v1${path}`, headers: { authorization: `Bearer ${acct.users.agent.token}` }, ...(payload ? { payload } : {}) });
const statusOf = (id: string) =>
  withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<{ s: string | null }>(`SELECT delivery_status s FROM messages WHERE id = $1`, [id])).rows[0]!.s);
const setSentAt = (ids: string[], at: string) =>
  withAccount(t.hub.db, acct.accountId, (tx) => tx.query(`UPDATE messages SET sent_at = $2 WHERE id = ANY($1::uuid[])`, [ids, at]));
const collect = () => {
  const seen: AccountEvent[] = [];
  const stop = t.hub.bus.subscribe(acct.accountId, (e) => seen.push(e));
  return { seen, stop };
};

describe('web chat typing', () => {
  it("announces the visitor's typing to the account stream, with the visitor's name", async () => {
    const s = await startSession({ name: 'Vera' });
    const { conversationId } = (await visitor(s, '/messages', { clientMessageId: randomUUID(), text: 'hello' })).json();
    const { seen, stop } = collect();
    expect((await visitor(s, '/typing')).statusCode).toBe(204);
    await eventually(async () => seen.find((e) => e.event.type === 'typing'));
    stop();
    expect(seen.map((e) => e.event)).toContainEqual({ type: 'typing', conversationId, by: 'visitor', name: 'Vera' });
  });

  it("names the visitor as agents know the contact, else as the visitor introduced themself", async () => {
    const s = await startSession({ name: 'Vera' });
    const { conversationId } = (await visitor(s, '/messages', { clientMessageId: randomUUID(), text: 'hello again' })).json();
    const { contactId } = (await t.app.inject({ method: 'GET', url: `/api/v1/conversations/${conversationId}`, headers: { authorization: `Bearer ${acct.users.agent.token}` } })).json().conversation;
    const renamed = await t.app.inject({ method: 'PATCH', url: `/api/v1/contacts/${contactId}`, headers: { authorization: `Bearer ${acct.users.agent.token}` }, payload: { name: 'Vera Virtanen' } });
    expect(renamed.statusCode).toBe(200);
    const anonymous = await startSession();
    const other = (await visitor(anonymous, '/messages', { clientMessageId: randomUUID(), text: 'hi' })).json().conversationId as string;
    const { seen, stop } = collect();
    await visitor(s, '/typing');
    await visitor(anonymous, '/typing');
    await eventually(async () => seen.filter((e) => e.event.type === 'typing').length === 2);
    stop();
    expect(seen.map((e) => e.event).filter((e) => e.type === 'typing')).toEqual([
      { type: 'typing', conversationId, by: 'visitor', name: 'Vera Virtanen' },
      { type: 'typing', conversationId: other, by: 'visitor', name: null },
    ]);
  });

  it('says nothing for a visitor without a conversation yet, and refuses one without a token', async () => {
    const { seen, stop } = collect();
    expect((await visitor(await startSession(), '/typing')).statusCode).toBe(204);
    const anonymous = await t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/typing` });
    expect(anonymous.statusCode).toBe(401);
    stop();
    expect(seen.filter((e) => e.event.type === 'typing')).toEqual([]);
  });

  it("announces an agent's typing with the agent's name, only in the agent's own account", async () => {
    const s = await startSession();
    const { conversationId } = (await visitor(s, '/messages', { clientMessageId: randomUUID(), text: 'hi' })).json();
    const { seen, stop } = collect();
    expect((await agent(`/conversations/${conversationId}/typing`)).statusCode).toBe(204);
    await eventually(async () => seen.find((e) => e.event.type === 'typing'));
    stop();
    expect(seen.map((e) => e.event)).toContainEqual({ type: 'typing', conversationId, by: 'agent', name: acct.users.agent.email.replace(/^agent@(.*)\.test$/u, 'agent of $1') });
    const other = await createTestAccount(t);
    const foreign = await t.app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/typing`, headers: { authorization: `Bearer ${other.users.agent.token}` } });
    expect(foreign.statusCode).toBe(404);
  });
});

describe('web chat read receipts', () => {
  it('marks sent replies up to the seen message read, through the delivery status path', async () => {
    const s = await startSession();
    const { conversationId } = (await visitor(s, '/messages', { clientMessageId: randomUUID(), text: 'question' })).json();
    const first = (await agent(`/conversations/${conversationId}/reply`, { text: 'one' })).json().id as string;
    const second = (await agent(`/conversations/${conversationId}/reply`, { text: 'two' })).json().id as string;
    await eventually(async () => (await statusOf(second)) === 'sent' && (await statusOf(first)) === 'sent');
    // Two replies stored in the same millisecond (this once failed in CI): the tie happens every run.
    await setSentAt([first, second], '2026-01-01T12:00:00.000Z');
    const { seen, stop } = collect();
    const res = await visitor(s, '/read', { messageId: first });
    expect(res.json()).toEqual({ marked: 1 });
    expect(await statusOf(first)).toBe('read');
    expect(await statusOf(second)).toBe('sent');
    await eventually(async () => seen.find((e) => e.event.type === 'message.updated'));
    stop();
    expect(seen.map((e) => e.event)).toContainEqual(expect.objectContaining({ type: 'message.updated', messageId: first, deliveryStatus: 'read' }));
    expect((await visitor(s, '/read', { messageId: second })).json()).toEqual({ marked: 1 });
    expect((await visitor(s, '/read', { messageId: second })).json()).toEqual({ marked: 0 });
  });

  it('marks by stored order, not by clock: a later reply whose clock is behind stays unread', async () => {
    const s = await startSession();
    const { conversationId } = (await visitor(s, '/messages', { clientMessageId: randomUUID(), text: 'question' })).json();
    const first = (await agent(`/conversations/${conversationId}/reply`, { text: 'one' })).json().id as string;
    const second = (await agent(`/conversations/${conversationId}/reply`, { text: 'two' })).json().id as string;
    await eventually(async () => (await statusOf(second)) === 'sent' && (await statusOf(first)) === 'sent');
    // Another hub process with a slower clock stored the second reply.
    await setSentAt([first], '2026-01-01T12:00:00.500Z');
    await setSentAt([second], '2026-01-01T12:00:00.000Z');
    expect((await visitor(s, '/read', { messageId: first })).json()).toEqual({ marked: 1 });
    expect(await statusOf(first)).toBe('read');
    expect(await statusOf(second)).toBe('sent');
  });

  it("cannot mark another visitor's messages", async () => {
    const owner = await startSession();
    const other = await startSession();
    const { conversationId } = (await visitor(owner, '/messages', { clientMessageId: randomUUID(), text: 'q' })).json();
    await visitor(other, '/messages', { clientMessageId: randomUUID(), text: 'q' });
    const reply = (await agent(`/conversations/${conversationId}/reply`, { text: 'a' })).json().id as string;
    await eventually(async () => (await statusOf(reply)) === 'sent');
    const res = await visitor(other, '/read', { messageId: reply });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('message_not_found');
    expect(await statusOf(reply)).toBe('sent');
  });
});
