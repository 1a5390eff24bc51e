import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityHash, signVisitorToken } from '../../connectors/webchat/tokens.js';
import { updateChannel } from '../../storage/repositories/channels.js';
import { withAccount } from '../../storage/session.js';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';

let t: TestHub;
let acct: TestAccount;
const WIDGET = 'shop-widget';
const SECRETS = { identitySecret: 'identity-secret-of-the-shop', sessionSecret: 'session-secret-of-the-shop' };
const SHOP = 'https://shop.example';

beforeAll(async () => {
  t = await startTestHub();
  acct = await createTestAccount(t, { channelKey: WIDGET, secrets: SECRETS, config: { allowedOrigins: [SHOP], greeting: 'Hi! How can we help?' } });
});
afterAll(() => t?.close());

interface Session {
  visitorId: string;
  visitorToken: string;
  channelId: string;
  greeting?: string;
}

const startSession = async (body: Record<string, unknown> = {}, widget = WIDGET): Promise<Session> => {
  const res = await t.app.inject({ method: 'POST', url: `/webchat/${widget}/sessions`, payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
};
const visitorHeaders = (s: Session) => ({ authorization: `Visitor ${s.visitorToken}`, 'x-visitor-id': s.visitorId });
const send = (s: Session, text: string, clientMessageId: string = randomUUID()) =>
  t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/messages`, headers: visitorHeaders(s), payload: { clientMessageId, text } });
const history = async (s: Session) => {
  const res = await t.app.inject({ method: 'GET', url: `/webchat/${WIDGET}/messages`, headers: visitorHeaders(s) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items as { id: string; direction: string; authorName: string | null; text: string; sentAt: string; deliveryStatus: string | null }[];
};
const agent = (path: string, payload: Record<string, unknown>) =>
  t.app.inject({ method: 'POST', url: `/api/v1${path}`, headers: { authorization: `Bearer ${acct.users.agent.token}` }, payload });
const count = (sql: string, params: unknown[] = []) =>
  withAccount(t.hub.db, acct.accountId, async (tx) => Number((await tx.query<{ n: string }>(sql, params)).rows[0]!.n));
const contactOf = (conversationId: string) =>
  withAccount(t.hub.db, acct.accountId, async (tx) =>
    (await tx.query<{ id: string; email: string | null }>(`SELECT ct.id, ct.email FROM conversations c JOIN contacts ct ON ct.id = c.contact_id WHERE c.id = $1`, [conversationId])).rows[0]!,
  );

describe('web chat sessions', () => {
  it('starts an anonymous visitor with a token, the channel and its greeting', async () => {
    const s = await startSession({ name: 'Vera' });
    expect(s.visitorId).toMatch(/^v:/);
    expect(s.channelId).toBe(acct.channelId);
    expect(s.greeting).toBe('Hi! How can we help?');
  });

  it('resumes the same visitor with a valid id and token', async () => {
    const s = await startSession();
    const again = await startSession({ visitorId: s.visitorId, visitorToken: s.visitorToken });
    expect(again.visitorId).toBe(s.visitorId);
    expect((await history(again)).length).toBe(0);
  });

  it('refuses to resume with a token of another visitor', async () => {
    const a = await startSession();
    const b = await startSession();
    const res = await t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/sessions`, payload: { visitorId: a.visitorId, visitorToken: b.visitorToken } });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('visitor_token_invalid');
  });

  it('gives a verified user one stable visitor, and so one conversation, across devices', async () => {
    const identity = { userId: 'customer-42', name: 'Kim', hash: identityHash(SECRETS.identitySecret, 'customer-42') };
    const laptop = await startSession({ identity });
    const phone = await startSession({ identity });
    expect(laptop.visitorId).toBe('u:customer-42');
    expect(phone.visitorId).toBe(laptop.visitorId);
    const a = (await send(laptop, 'from my laptop')).json();
    const b = (await send(phone, 'from my phone')).json();
    expect(b.conversationId).toBe(a.conversationId);
  });

  it('refuses an identity whose hash does not match', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: `/webchat/${WIDGET}/sessions`,
      payload: { identity: { userId: 'customer-42', hash: identityHash(SECRETS.identitySecret, 'customer-43') } },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('identity_invalid');
  });
});

describe('web chat messages', () => {
  it('stores a visitor message after commit and makes a resend idempotent', async () => {
    const s = await startSession({ name: 'Ida' });
    const first = await send(s, 'My parcel is late', 'client-1');
    expect(first.statusCode, first.body).toBe(202);
    expect(first.json()).toMatchObject({ duplicate: false });
    const again = await send(s, 'My parcel is late', 'client-1');
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual({ ...first.json(), duplicate: true });
    expect(await count(`SELECT count(*) n FROM messages WHERE conversation_id = $1`, [first.json().conversationId])).toBe(1);
    const [m] = await history(s);
    expect(m).toMatchObject({ id: first.json().messageId, direction: 'inbound', text: 'My parcel is late', authorName: 'Ida', deliveryStatus: null });
  });

  it("shows the agent's reply in the visitor's history, marks it sent, and never shows a note", async () => {
    const s = await startSession();
    const { conversationId } = (await send(s, 'Can I change my address?')).json();
    expect((await agent(`/conversations/${conversationId}/notes`, { text: 'internal: VIP customer' })).statusCode).toBe(201);
    const reply = await agent(`/conversations/${conversationId}/reply`, { text: 'Yes, reply with the new one.' });
    expect(reply.statusCode, reply.body).toBe(202);
    const sent = await eventually(async () => (await history(s)).find((m) => m.id === reply.json().id && m.deliveryStatus === 'sent'));
    expect(sent).toMatchObject({ direction: 'outbound', text: 'Yes, reply with the new one.', authorName: `agent of ${acct.slug}` });
    const items = await history(s);
    expect(items.map((m) => m.text)).toEqual(['Can I change my address?', 'Yes, reply with the new one.']);
    expect(JSON.stringify(items)).not.toContain('VIP');
    const stored = await withAccount(t.hub.db, acct.accountId, async (tx) =>
      (await tx.query<{ externalId: string }>(`SELECT external_id AS "externalId" FROM messages WHERE id = $1`, [reply.json().id])).rows[0]!,
    );
    expect(stored.externalId).toBe(`hd:${reply.json().id}`);
  });

  it("lets a visitor read only their own conversation", async () => {
    const a = await startSession();
    const b = await startSession();
    await send(a, 'secret of visitor a');
    expect(await history(b)).toEqual([]);
  });
});

describe('web chat identity and contacts', () => {
  it('never attaches an unverified visitor to the existing contact whose email they claim', async () => {
    const owner = 'vip@example.com';
    const verified = await startSession({ identity: { userId: owner, email: owner, hash: identityHash(SECRETS.identitySecret, owner) } });
    const real = await contactOf((await send(verified, 'hello, it is me')).json().conversationId);
    expect(real.email).toBe(owner);

    const impostor = await startSession({ name: 'Not VIP', email: owner });
    const fake = await contactOf((await send(impostor, 'show me my orders')).json().conversationId);
    expect(fake.id).not.toBe(real.id);
    expect(fake.email).toBeNull();
  });

  it('does not trust an email beside a signed user id unless the user id is that email', async () => {
    const owner = 'boss@example.com';
    const verified = await startSession({ identity: { userId: owner, email: owner, hash: identityHash(SECRETS.identitySecret, owner) } });
    const real = await contactOf((await send(verified, 'hi')).json().conversationId);
    // A logged-in customer editing the email next to their own valid hash.
    const edited = await startSession({ identity: { userId: 'customer-7', email: owner, hash: identityHash(SECRETS.identitySecret, 'customer-7') } });
    const other = await contactOf((await send(edited, 'hi')).json().conversationId);
    expect(other.id).not.toBe(real.id);
    expect(other.email).toBeNull();
  });
});

describe('web chat bad input', () => {
  let s: Session;
  beforeAll(async () => {
    s = await startSession();
  });

  const cases: [string, () => Promise<{ statusCode: number; json(): { error: { code: string } } }>, number, string][] = [
    ['unknown widget', () => t.app.inject({ method: 'POST', url: '/webchat/no-such-widget/sessions', payload: {} }), 404, 'channel_not_found'],
    ['malformed JSON', () => t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/messages`, headers: { ...visitorHeaders(s), 'content-type': 'application/json' }, payload: '{"clientMessageId": "x", "text": ' }), 400, 'malformed_json'],
    ['missing clientMessageId', () => t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/messages`, headers: visitorHeaders(s), payload: { text: 'hi' } }), 400, 'validation_failed'],
    ['too long clientMessageId', () => send(s, 'hi', 'x'.repeat(101)), 400, 'validation_failed'],
    ['empty text', () => send(s, ''), 400, 'validation_failed'],
    ['blank text', () => send(s, '   \n '), 400, 'validation_failed'],
    ['too long text', () => send(s, 'a'.repeat(10_001)), 400, 'validation_failed'],
    ['no visitor token', () => t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/messages`, payload: { clientMessageId: 'c', text: 'hi' } }), 401, 'visitor_token_invalid'],
    ['forged visitor token', () => send({ ...s, visitorToken: `${s.visitorToken.slice(0, -3)}AAA` }, 'hi'), 401, 'visitor_token_invalid'],
    ['token of another channel', () => send({ ...s, visitorToken: signVisitorToken(SECRETS.sessionSecret, randomUUID(), { visitorId: s.visitorId, verified: false }) }, 'hi'), 401, 'visitor_token_invalid'],
    ['visitor id not matching the token', () => send({ ...s, visitorId: 'v:someone-else' }, 'hi'), 401, 'visitor_token_invalid'],
    ['history without a token', () => t.app.inject({ method: 'GET', url: `/webchat/${WIDGET}/messages` }), 401, 'visitor_token_invalid'],
    ['stream with a bad token', () => t.app.inject({ method: 'GET', url: `/webchat/${WIDGET}/events?visitorId=${encodeURIComponent(s.visitorId)}&visitorToken=nope` }), 401, 'visitor_token_invalid'],
    ['unknown session field', () => t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/sessions`, payload: { admin: true } }), 400, 'validation_failed'],
    ['invalid email', () => t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/sessions`, payload: { email: 'not an email' } }), 400, 'validation_failed'],
    ['foreign site', () => t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/sessions`, headers: { origin: 'https://evil.example' }, payload: {} }), 403, 'origin_not_allowed'],
  ];

  it.each(cases)('%s → %i %s, nothing written', async (_name, request, status, code) => {
    const before = await count(`SELECT count(*) n FROM messages`);
    const contacts = await count(`SELECT count(*) n FROM contacts`);
    const res = await request();
    expect(res.statusCode).toBe(status);
    expect(res.json().error.code).toBe(code);
    expect(await count(`SELECT count(*) n FROM messages`)).toBe(before);
    expect(await count(`SELECT count(*) n FROM contacts`)).toBe(contacts);
  });

  it('treats a disabled channel as unknown', async () => {
    const other = await createTestAccount(t, { channelKey: 'disabled-widget', secrets: SECRETS });
    await withAccount(t.hub.db, other.accountId, (tx) => updateChannel(tx, t.hub.box, other.channelId, { enabled: false }));
    const res = await t.app.inject({ method: 'POST', url: '/webchat/disabled-widget/sessions', payload: {} });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('channel_not_found');
  });
});

describe('web chat channel setup', () => {
  it('refuses sessions on a widget without a session secret instead of issuing unverifiable tokens', async () => {
    await createTestAccount(t, { channelKey: 'unconfigured-widget', secrets: {} });
    const res = await t.app.inject({ method: 'POST', url: '/webchat/unconfigured-widget/sessions', payload: {} });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('channel_not_configured');
  });
});

describe('web chat CORS', () => {
  it('answers a preflight from an allowed site', async () => {
    const res = await t.app.inject({
      method: 'OPTIONS',
      url: `/webchat/${WIDGET}/messages`,
      headers: { origin: SHOP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(SHOP);
    expect(res.headers['access-control-allow-headers']).toContain('authorization');
  });

  it('marks responses for an allowed site and refuses a preflight from another', async () => {
    const ok = await t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/sessions`, headers: { origin: SHOP }, payload: {} });
    expect(ok.headers['access-control-allow-origin']).toBe(SHOP);
    const refused = await t.app.inject({ method: 'OPTIONS', url: `/webchat/${WIDGET}/sessions`, headers: { origin: 'https://evil.example' } });
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('web chat realtime', () => {
  it("streams the agent's reply and its delivery to the visitor, but not the note", async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address() as { port: number };
    const s = await startSession();
    const { conversationId } = (await send(s, 'Is anyone there?')).json();
    const q = new URLSearchParams({ visitorId: s.visitorId, visitorToken: s.visitorToken });
    const abort = new AbortController();
    const res = await fetch(`http://127.0.0.1:${address.port}/webchat/${WIDGET}/events?${q}`, { signal: abort.signal, headers: { origin: SHOP } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('access-control-allow-origin')).toBe(SHOP);
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (done: (s: string) => boolean) => {
      while (!done(text)) {
        const chunk = await reader.read();
        if (chunk.done) throw new Error(`stream ended early: ${text}`);
        text += new TextDecoder().decode(chunk.value);
      }
    };
    await readUntil((x) => x.includes(': connected'));

    await agent(`/conversations/${conversationId}/notes`, { text: 'internal: refund approved' });
    const reply = (await agent(`/conversations/${conversationId}/reply`, { text: 'Yes! How can I help?' })).json();
    await readUntil((x) => x.includes('"deliveryStatus":"sent"'));
    abort.abort();

    const events = text.split('\n\n').filter((b) => b.startsWith('event: ')).map((b) => {
      const [head, data] = b.split('\n');
      return { event: head!.slice('event: '.length), data: JSON.parse(data!.slice('data: '.length)) };
    });
    expect(events).toContainEqual({ event: 'message', data: expect.objectContaining({ id: reply.id, direction: 'outbound', text: 'Yes! How can I help?' }) });
    expect(events).toContainEqual({ event: 'status', data: { messageId: reply.id, deliveryStatus: 'sent' } });
    expect(text).not.toContain('refund approved');
  });
});

describe('web chat rate limits', () => {
  it('limits session starts per address with a stable code', async () => {
    const limited = await startTestHub({ jobs: false, env: { HUMMDESK_PUBLIC_RATE_LIMIT: '2' } });
    try {
      await createTestAccount(limited, { channelKey: 'tiny-widget', secrets: SECRETS });
      const start = () => limited.app.inject({ method: 'POST', url: '/webchat/tiny-widget/sessions', payload: {} });
      expect((await start()).statusCode).toBe(201);
      expect((await start()).statusCode).toBe(201);
      const third = await start();
      expect(third.statusCode).toBe(429);
      expect(third.json().error.code).toBe('rate_limited');
    } finally {
      await limited.close();
    }
  });

  it('limits each visitor by the visitor its token names: renewed tokens share the bucket, another visitor at the same address has its own', async () => {
    const limited = await startTestHub({ jobs: false, env: { HUMMDESK_PUBLIC_RATE_LIMIT: '2' } });
    try {
      const other = await createTestAccount(limited, { channelKey: 'tiny-widget', secrets: SECRETS });
      const start = async (): Promise<Session> => (await limited.app.inject({ method: 'POST', url: '/webchat/tiny-widget/sessions', payload: {} })).json();
      const [a, b] = [await start(), await start()];
      const read = (s: Session) => limited.app.inject({ method: 'GET', url: '/webchat/tiny-widget/messages', headers: visitorHeaders(s) });
      expect((await read(a)).statusCode).toBe(200);
      const renewed = { ...a, visitorToken: signVisitorToken(SECRETS.sessionSecret, other.channelId, { visitorId: a.visitorId, verified: false }, { now: new Date(Date.now() + 5_000) }) };
      expect(renewed.visitorToken).not.toBe(a.visitorToken);
      expect((await read(renewed)).statusCode).toBe(200);
      expect((await read(a)).statusCode).toBe(429);
      expect((await read(b)).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe('web chat only through its own routes', () => {
  it('refuses visitor messages on the generic webhook route, which has none of the web chat limits', async () => {
    const s = await startSession();
    const before = await count(`SELECT count(*) n FROM messages`);
    const res = await t.app.inject({
      method: 'POST',
      url: `/webhooks/webchat/${acct.channelId}`,
      headers: { ...visitorHeaders(s), 'content-type': 'application/json' },
      payload: JSON.stringify({ clientMessageId: randomUUID(), text: 'through the side door' }),
    });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('webchat_not_a_webhook');
    expect(await count(`SELECT count(*) n FROM messages`)).toBe(before);
  });
});

describe('visitor token expiry', () => {
  const HOUR = 3600_000;
  const expiredAs = (s: Session, agoMs: number) =>
    signVisitorToken(SECRETS.sessionSecret, acct.channelId, { visitorId: s.visitorId, verified: false }, { now: new Date(Date.now() - agoMs), ttlSeconds: 3600 });

  it('says when the token expires, and refuses an expired one on every visitor route with visitor_token_expired', async () => {
    const res = await t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/sessions`, payload: {} });
    expect(res.json().expiresIn).toBe(3600);
    const s: Session = res.json();
    const expired = { ...s, visitorToken: expiredAs(s, 2 * HOUR) };
    const q = new URLSearchParams({ visitorId: s.visitorId, visitorToken: expired.visitorToken });
    for (const r of [
      await send(expired, 'hello'),
      await t.app.inject({ method: 'GET', url: `/webchat/${WIDGET}/messages`, headers: visitorHeaders(expired) }),
      await t.app.inject({ method: 'GET', url: `/webchat/${WIDGET}/events?${q}` }),
      await t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/uploads?name=a.txt`, headers: { ...visitorHeaders(expired), 'content-type': 'text/plain' }, payload: 'hi' }),
    ]) {
      expect(r.statusCode, r.body).toBe(401);
      expect(r.json().error.code).toBe('visitor_token_expired');
    }
  });

  it('trades a token, expired or not, for a fresh one of the same visitor, who keeps their conversation', async () => {
    const s = await startSession();
    const { conversationId } = (await send(s, 'before the token expired')).json();
    const renewed = await startSession({ visitorId: s.visitorId, visitorToken: expiredAs(s, 2 * HOUR) });
    expect(renewed.visitorId).toBe(s.visitorId);
    expect((await history(renewed)).map((m) => m.text)).toEqual(['before the token expired']);
    expect((await send(renewed, 'and after')).json().conversationId).toBe(conversationId);
  });

  it('does not renew a token long past its expiry (HUMMDESK_VISITOR_RESUME_TTL)', async () => {
    const s = await startSession();
    const res = await t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/sessions`, payload: { visitorId: s.visitorId, visitorToken: expiredAs(s, 31 * 24 * HOUR) } });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('visitor_token_expired');
  });
});

describe('web chat event streams', () => {
  it('caps open streams per visitor and per address, frees a slot when a stream closes, and ends a stream when its token expires', async () => {
    const capped = await startTestHub({ jobs: false, env: { HUMMDESK_STREAMS_PER_PRINCIPAL: '1', HUMMDESK_STREAMS_PER_ADDRESS: '2' } });
    try {
      await createTestAccount(capped, { channelKey: WIDGET, secrets: SECRETS });
      await capped.app.listen({ port: 0, host: '127.0.0.1' });
      const base = `http://127.0.0.1:${(capped.app.server.address() as { port: number }).port}/webchat/${WIDGET}`;
      const session = async () => (await (await fetch(`${base}/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as Session;
      const open = async (s: Session, visitorToken = s.visitorToken) => {
        const abort = new AbortController();
        const res = await fetch(`${base}/events?${new URLSearchParams({ visitorId: s.visitorId, visitorToken })}`, { signal: abort.signal });
        return { res, close: () => abort.abort() };
      };
      const [a, b, c] = [await session(), await session(), await session()];
      const first = await open(a);
      expect(first.res.status).toBe(200);
      const again = await open(a);
      expect(again.res.status).toBe(429);
      expect((await again.res.json()).error.code).toBe('too_many_streams');
      const second = await open(b);
      expect(second.res.status).toBe(200);
      // New visitors cost nothing to make, so the address is capped too.
      const third = await open(c);
      expect(third.res.status).toBe(429);
      expect((await third.res.json()).error.code).toBe('too_many_streams');

      first.close();
      await eventually(async () => capped.app.streamSlots.openFor('address', '127.0.0.1') === 1);
      const nowC = await open(c);
      expect(nowC.res.status).toBe(200);
      nowC.close();
      second.close();
      await eventually(async () => capped.app.streamSlots.openFor('address', '127.0.0.1') === 0);

      // A stream opened with a token about to expire ends with it (the widget reopens it with its fresh token).
      const shortLived = signVisitorToken(SECRETS.sessionSecret, c.channelId, { visitorId: c.visitorId, verified: false }, { now: new Date(Date.now() - 3598_000), ttlSeconds: 3600 });
      const ending = await open(c, shortLived);
      expect(ending.res.status).toBe(200);
      const reader = ending.res.body!.getReader();
      while (!(await reader.read()).done);
      await eventually(async () => capped.app.streamSlots.openFor('address', '127.0.0.1') === 0);
    } finally {
      await capped.close();
    }
  });
});
