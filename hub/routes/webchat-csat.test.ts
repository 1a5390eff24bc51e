import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateChannel } from '../../storage/repositories/channels.js';
import { withAccount } from '../../storage/session.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';

let t: TestHub;
let acct: TestAccount;
let other: TestAccount;
const WIDGET = 'csat-widget';
const SECRETS = { identitySecret: 'identity-secret-of-the-csat-shop', sessionSecret: 'session-secret-of-the-csat-shop' };

beforeAll(async () => {
  t = await startTestHub();
  acct = await createTestAccount(t, { channelKey: WIDGET, secrets: SECRETS });
  other = await createTestAccount(t, { channelKey: 'other-csat-widget' });
});
afterAll(() => t?.close());

interface Session {
  visitorId: string;
  visitorToken: string;
  hasEmail: boolean;
}

const startSession = async (body: Record<string, unknown> = {}): Promise<Session> => {
  const res = await t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/sessions`, payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
};
const headers = (s: Session) => ({ authorization: `Visitor ${s.visitorToken}`, 'x-visitor-id': s.visitorId });
const send = async (s: Session, text: string): Promise<string> => {
  const res = await t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/messages`, headers: headers(s), payload: { clientMessageId: randomUUID(), text } });
  expect(res.statusCode, res.body).toBe(202);
  return res.json().conversationId;
};
const rate = (s: Session, payload: Record<string, unknown>) => t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/csat`, headers: headers(s), payload });
const setStatus = async (conversationId: string, status: string) => {
  const res = await t.app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/status`, headers: { authorization: `Bearer ${acct.users.agent.token}` }, payload: { status } });
  expect(res.statusCode, res.body).toBe(200);
};
const details = async (conversationId: string, token = acct.users.viewer.token) =>
  t.app.inject({ method: 'GET', url: `/api/v1/conversations/${conversationId}`, headers: { authorization: `Bearer ${token}` } });
const historyState = async (s: Session) => (await t.app.inject({ method: 'GET', url: `/webchat/${WIDGET}/messages`, headers: headers(s) })).json().conversation;

describe('web chat CSAT', () => {
  it('lets the visitor rate a resolution once, shows it to agents, and again after a reopen and a new resolution', async () => {
    const s = await startSession();
    const conversationId = await send(s, 'My order never came');
    expect(await historyState(s)).toEqual({ status: 'open', csatDue: false });

    const early = await rate(s, { rating: 5 });
    expect(early.statusCode).toBe(409);
    expect(early.json().error.code).toBe('conversation_not_resolved');
    expect((await details(conversationId)).json().csat).toBeUndefined();

    await setStatus(conversationId, 'resolved');
    expect(await historyState(s)).toEqual({ status: 'resolved', csatDue: true });
    const first = await rate(s, { rating: 4, comment: '  Quick and friendly  ' });
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toMatchObject({ rating: 4, comment: 'Quick and friendly' });
    expect(await historyState(s)).toEqual({ status: 'resolved', csatDue: false });

    const again = await rate(s, { rating: 1 });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('csat_already_given');
    const seen = (await details(conversationId)).json();
    expect(seen.csat).toMatchObject({ rating: 4, comment: 'Quick and friendly' });

    // The visitor writes again: the conversation reopens; resolved again, it may be rated again.
    await send(s, 'Actually, one more thing');
    expect((await historyState(s)).status).toBe('open');
    expect((await rate(s, { rating: 2 })).statusCode).toBe(409);
    await setStatus(conversationId, 'resolved');
    const second = await rate(s, { rating: 2 });
    expect(second.statusCode, second.body).toBe(201);
    expect(second.json().resolvedAt).not.toBe(first.json().resolvedAt);
    expect((await details(conversationId)).json().csat).toMatchObject({ rating: 2, comment: null });
    const rows = await withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query(`SELECT rating FROM csat_ratings WHERE conversation_id = $1 ORDER BY created_at`, [conversationId])).rows);
    expect(rows).toEqual([{ rating: 4 }, { rating: 2 }]);
    // Another tenant sees neither the conversation nor its ratings.
    expect((await details(conversationId, other.users.owner.token)).statusCode).toBe(404);
    expect(await withAccount(t.hub.db, other.accountId, async (tx) => (await tx.query(`SELECT 1 FROM csat_ratings`)).rowCount)).toBe(0);
  });

  it('refuses a visitor without a conversation, a bad rating, and a foreign token', async () => {
    const s = await startSession();
    expect((await rate(s, { rating: 3 })).statusCode).toBe(404);
    await send(s, 'hello');
    for (const rating of [0, 6, 2.5]) expect((await rate(s, { rating })).statusCode).toBe(400);
    expect((await rate(s, { rating: 3, comment: 'x'.repeat(2001) })).statusCode).toBe(400);
    const forged = await t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/csat`, headers: { authorization: 'Visitor nope', 'x-visitor-id': s.visitorId }, payload: { rating: 3 } });
    expect(forged.statusCode).toBe(401);
  });

  it("only rates the visitor's own conversation", async () => {
    const mine = await startSession();
    const theirs = await startSession();
    const theirConversation = await send(theirs, 'their issue');
    await setStatus(theirConversation, 'resolved');
    // `mine` has no conversation of its own: their resolved one is not reachable.
    expect((await rate(mine, { rating: 1 })).statusCode).toBe(404);
    expect((await rate(theirs, { rating: 5 })).statusCode).toBe(201);
  });

  it('tells the visitor on the stream when the conversation is resolved', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as { port: number };
    const s = await startSession();
    const conversationId = await send(s, 'Please close this');
    const abort = new AbortController();
    const q = new URLSearchParams({ visitorId: s.visitorId, visitorToken: s.visitorToken });
    const res = await fetch(`http://127.0.0.1:${port}/webchat/${WIDGET}/events?${q}`, { signal: abort.signal });
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (done: (x: string) => boolean) => {
      while (!done(text)) {
        const chunk = await reader.read();
        if (chunk.done) throw new Error(`stream ended early: ${text}`);
        text += new TextDecoder().decode(chunk.value);
      }
    };
    await readUntil((x) => x.includes(': connected'));
    await setStatus(conversationId, 'resolved');
    await readUntil((x) => x.includes('event: conversation'));
    expect(text).toContain('event: conversation\ndata: {"status":"resolved","csatDue":true}');
    expect((await rate(s, { rating: 5 })).statusCode).toBe(201);
    await readUntil((x) => x.includes('"csatDue":false'));
    abort.abort();
  });
});

describe('web chat availability', () => {
  const availability = async () => {
    const res = await t.app.inject({ method: 'GET', url: `/webchat/${WIDGET}/availability` });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  const configure = (config: Record<string, unknown>) =>
    withAccount(t.hub.db, acct.accountId, (tx) => updateChannel(tx, t.hub.box, acct.channelId, { config }));
  const setAvailable = (available: boolean, roles: string[]) =>
    withAccount(t.hub.db, acct.accountId, (tx) => tx.query(`UPDATE users SET available = $1 WHERE role = ANY($2)`, [available, roles]));

  it('is available with no business hours and an available agent; not when only a viewer is available', async () => {
    await configure({});
    expect(await availability()).toEqual({ available: true });
    await setAvailable(false, ['owner', 'admin', 'agent']);
    expect(await availability()).toEqual({ available: false, reason: 'no_agents' });
    await setAvailable(true, ['agent']);
    expect(await availability()).toEqual({ available: true });
  });

  it('is closed outside business hours and says when they open next', async () => {
    const now = new Date();
    const start = (now.getUTCHours() + 2) % 24;
    const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;
    const window = [[hh(start), hh(start + 1)]];
    await configure({ businessHours: { timeZone: 'UTC', days: { sun: window, mon: window, tue: window, wed: window, thu: window, fri: window, sat: window } } });
    const closed = await availability();
    expect(closed.available).toBe(false);
    expect(closed.reason).toBe('closed');
    const until = new Date(closed.nextOpen).getTime() - now.getTime();
    expect(until).toBeGreaterThan(60 * 60_000);
    expect(until).toBeLessThanOrEqual(2 * 60 * 60_000);
    expect(new Date(closed.nextOpen).getUTCHours()).toBe(start);

    await configure({ businessHours: { timeZone: 'Europe/Helsinki', days: Object.fromEntries(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'].map((d) => [d, [['00:00', '24:00']]])) } });
    expect(await availability()).toEqual({ available: true });
    await configure({ businessHours: { timeZone: 'Europe/Helsinki', days: {} } });
    expect(await availability()).toEqual({ available: false, reason: 'closed' });
    await configure({});
  });

  it('answers only for a known widget, and messages are still accepted while closed', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/webchat/no-such-widget/availability' })).statusCode).toBe(404);
    await configure({ businessHours: { timeZone: 'UTC', days: {} } });
    const s = await startSession({ email: 'late@example.com' });
    expect(s.hasEmail).toBe(true);
    expect((await startSession()).hasEmail).toBe(false);
    await send(s, 'Are you there at night?');
    await configure({});
  });
});
