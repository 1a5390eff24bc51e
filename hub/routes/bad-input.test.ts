import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector, InboundEvent } from '../../connectors/core/types.js';
import { findInstallation } from '../../storage/repositories/channels.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { call, seedConversation, snapshotAccount } from '../testing/seed.js';

/*
 * Every kind of bad request gets a JSON error with a stable code and the right 4xx status, and
 * leaves no trace: the account's rows (all tenant tables) are the same before and after.
 */

const LIMIT = 4096;
let t: TestHub;
let acct: TestAccount;
let conversationId: string;

// Stands in for a webchat connector when none is installed; the requests below must never reach it.
const unreachableWebchat: Connector = {
  kind: 'webchat',
  capabilities: { threads: true, attachments: false, edits: false, format: 'plain', maxTextLength: 10_000, idempotentSend: false },
  verify: async () => { throw new Error('verify must not be reached for an unknown channel'); },
  parse: () => { throw new Error('parse must not be reached for an unknown channel'); },
  send: async () => { throw new Error('not used'); },
  check: async () => ({ ok: true }),
};

beforeAll(async () => {
  t = await startTestHub({ jobs: false, env: { HUMMDESK_BODY_LIMIT: String(LIMIT) } });
  if (!t.hub.connectors.has('webchat')) t.hub.connectors.set('webchat', unreachableWebchat);
  acct = await createTestAccount(t);
  conversationId = (await seedConversation(t, acct)).conversationId;
});
afterAll(() => t?.close());

interface Res {
  statusCode: number;
  headers: Record<string, unknown>;
  json(): { error: { code: string; message: string } };
}

/** Runs a request and checks status, code, JSON shape and that nothing of the account changed. */
async function expectRejected(send: () => Promise<Res>, status: number, code: string | RegExp) {
  const before = await snapshotAccount(t, acct.accountId);
  const res = await send();
  expect(res.statusCode).toBe(status);
  expect(String(res.headers['content-type'])).toMatch(/^application\/json/);
  const body = res.json();
  expect(body.error.code).toMatch(code instanceof RegExp ? code : new RegExp(`^${code}$`));
  expect(typeof body.error.message).toBe('string');
  expect(await snapshotAccount(t, acct.accountId)).toEqual(before);
}

const raw = (method: 'POST' | 'PATCH', url: string, payload: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method, url, payload, headers: { authorization: `Bearer ${acct.users.admin.token}`, 'content-type': 'application/json', ...headers } });

describe('bad input', () => {
  it('malformed JSON → 400 malformed_json', async () => {
    await expectRejected(() => raw('POST', `/api/v1/conversations/${conversationId}/notes`, '{"text": "half'), 400, 'malformed_json');
    await expectRejected(() => raw('POST', '/api/v1/teams', '{name: unquoted}'), 400, 'malformed_json');
  });

  it('a body over the configured limit → 413 body_too_large', async () => {
    const big = JSON.stringify({ text: 'x'.repeat(LIMIT + 1) });
    await expectRejected(() => raw('POST', `/api/v1/conversations/${conversationId}/reply`, big), 413, 'body_too_large');
    await expectRejected(() => t.app.inject({ method: 'POST', url: `/webhooks/webchat/${acct.channelId}`, payload: 'x'.repeat(LIMIT + 1), headers: { 'content-type': 'application/json' } }), 413, 'body_too_large');
  });

  it('a body just under the limit is accepted', async () => {
    const res = await raw('POST', `/api/v1/conversations/${conversationId}/notes`, JSON.stringify({ text: 'y'.repeat(LIMIT - 100) }));
    expect(res.statusCode).toBe(201);
  });

  it('an unknown channel kind → 404 unknown_channel_kind', async () => {
    await expectRejected(() => t.app.inject({ method: 'POST', url: '/webhooks/nope', payload: { hello: 'world' } }), 404, 'unknown_channel_kind');
  });

  it('an unknown channel → 404 channel_not_found', async () => {
    await expectRejected(() => t.app.inject({ method: 'POST', url: `/webhooks/webchat/${randomUUID()}`, payload: { text: 'hi' } }), 404, 'channel_not_found');
    await expectRejected(() => t.app.inject({ method: 'POST', url: '/webhooks/webchat/not-a-uuid', payload: { text: 'hi' } }), 404, 'channel_not_found');
  });

  it('a disabled channel is unknown to webhooks', async () => {
    const ch = await call(t, acct.users.admin.token, 'POST', '/api/v1/channels', { kind: 'webchat', name: 'old' });
    await call(t, acct.users.admin.token, 'DELETE', `/api/v1/channels/${ch.json<{ id: string }>().id}`);
    await expectRejected(() => t.app.inject({ method: 'POST', url: `/webhooks/webchat/${ch.json<{ id: string }>().id}`, payload: { text: 'hi' } }), 404, 'channel_not_found');
  });

  it('a bad token → 401', async () => {
    const note = (authorization: string) => () => t.app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/notes`, payload: { text: 'x' }, headers: { authorization } });
    await expectRejected(note('Bearer not.a.jwt'), 401, 'invalid_token');
    await expectRejected(note(`Bearer hd_00000000_${'A'.repeat(32)}`), 401, 'invalid_api_key');
    await expectRejected(note('Basic dXNlcjpwYXNz'), 401, 'unauthorized');
  });

  it('a role that may not act → 403 forbidden', async () => {
    const as = (token: string, method: 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) => () => call(t, token, method, url, body);
    await expectRejected(as(acct.users.viewer.token, 'POST', `/api/v1/conversations/${conversationId}/reply`, { text: 'x' }), 403, 'forbidden');
    await expectRejected(as(acct.users.agent.token, 'POST', '/api/v1/teams', { name: 'agents may not' }), 403, 'forbidden');
    await expectRejected(as(acct.apiKeys.agent, 'POST', '/api/v1/channels', { kind: 'webchat', name: 'x', externalKey: 'x' }), 403, 'forbidden');
    await expectRejected(as(acct.users.admin.token, 'POST', '/api/v1/users', { email: 'boss@x.test', name: 'x', role: 'owner', password: 'long enough password' }), 403, 'forbidden');
  });

  it('an invalid uuid in the path → 400 validation_failed', async () => {
    await expectRejected(() => call(t, acct.users.admin.token, 'GET', '/api/v1/conversations/123'), 400, 'validation_failed');
    await expectRejected(() => call(t, acct.users.admin.token, 'PATCH', "/api/v1/contacts/1'%20OR%201=1", { name: 'x' }), 400, 'validation_failed');
    await expectRejected(() => call(t, acct.users.admin.token, 'DELETE', '/api/v1/teams/zzz'), 400, 'validation_failed');
  });

  it('a body of the wrong shape → 400 validation_failed', async () => {
    const admin = acct.users.admin.token;
    await expectRejected(() => call(t, admin, 'POST', '/api/v1/teams', { name: 'x', settings: 'not an object' }), 400, 'validation_failed');
    await expectRejected(() => call(t, admin, 'POST', '/api/v1/teams', { name: 'x', accountId: acct.accountId }), 400, 'validation_failed');
    await expectRejected(() => call(t, admin, 'POST', '/api/v1/channels', { kind: 'fax', name: 'x', externalKey: 'x' }), 400, 'validation_failed');
    await expectRejected(() => call(t, admin, 'POST', `/api/v1/conversations/${conversationId}/status`, { status: 'deleted' }), 400, 'validation_failed');
    await expectRejected(() => call(t, admin, 'PATCH', `/api/v1/contacts/${randomUUID()}`, { email: 'not an email' }), 400, 'validation_failed');
  });

  it('an unsupported content type → 415', async () => {
    await expectRejected(() => raw('POST', '/api/v1/teams', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
  });

  it('a duplicate → 409 with nothing written', async () => {
    const admin = acct.users.admin.token;
    expect((await call(t, admin, 'POST', '/api/v1/teams', { name: 'Unique' })).statusCode).toBe(201);
    await expectRejected(() => call(t, admin, 'POST', '/api/v1/teams', { name: 'Unique' }), 409, 'team_exists');
    await expectRejected(() => call(t, admin, 'POST', '/api/v1/channels', { kind: 'webchat', name: 'dup', externalKey: `key-${acct.slug}` }), 400, 'widget_id_generated');
    await expectRejected(() => call(t, admin, 'POST', '/api/v1/users', { email: acct.users.agent.email.toUpperCase(), name: 'x', role: 'agent', password: 'long enough password' }), 409, 'user_exists');
  });

  it('a failure half way through a change rolls all of it back', async () => {
    // The reply's message is inserted before the unknown draft is found; the transaction must undo it.
    await expectRejected(() => call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${conversationId}/reply`, { text: 'hi', draftId: randomUUID() }), 404, 'draft_not_found');
  });
});

describe('text a database cannot store, names that lie, types that are not what was sent', () => {
  const admin = () => acct.users.admin.token;

  it('a NUL anywhere in a request → 400 invalid_text, never a 500', async () => {
    await expectRejected(() => call(t, admin(), 'POST', '/api/v1/teams', { name: 'a\u0000b' }), 400, 'invalid_text');
    await expectRejected(() => call(t, admin(), 'POST', '/api/v1/teams', { name: 'ok', settings: { 'k\u0000': 1 } }), 400, 'invalid_text');
    await expectRejected(() => call(t, admin(), 'PATCH', `/api/v1/contacts/${randomUUID()}`, { metadata: { note: ['x', 'y\u0000'] } }), 400, 'invalid_text');
    await expectRejected(() => call(t, admin(), 'POST', `/api/v1/conversations/${conversationId}/notes`, { text: '\u0000' }), 400, 'invalid_text');
    await expectRejected(() => call(t, admin(), 'GET', '/api/v1/contacts?q=%00'), 400, 'invalid_text');
    await expectRejected(() => call(t, admin(), 'GET', '/api/v1/conversations?category=a%00b'), 400, 'invalid_text');
    const res = await call(t, admin(), 'POST', '/api/v1/teams', { name: 'a\u0000b' });
    expect(res.json().error.details).toEqual({ in: 'body', path: '/name' });
  });

  it('a NUL in a customer message is dropped, and the message kept', async () => {
    const channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: acct.channelId }))!;
    // Thread hints take the full ingest path (not the one-statement fast path).
    const event: InboundEvent = {
      type: 'message',
      message: {
        channel: { kind: 'webchat', channelId: channel.id },
        externalId: `nul-${randomUUID()}`,
        threadKey: `webchat:${channel.id}:${randomUUID()}`,
        direction: 'inbound',
        sender: { externalId: `v-${randomUUID()}`, displayName: 'Eve\u0000 \u202Eorez', address: 'eve\u0000@x.test', isBot: false },
        sentAt: new Date().toISOString(),
        subject: 'sub\u0000ject',
        text: 'hel\u0000lo',
        html: '<p>hel\u0000lo</p>',
        attachments: [],
        threadHints: { references: ['<a\u0000@x>'], subjectKey: 'sub\u0000ject' },
        raw: {},
      },
    };
    const [outcome] = await t.hub.ingest.ingest(channel, [event]);
    expect(outcome?.result).toBe('created');
    const messages = await call(t, admin(), 'GET', `/api/v1/conversations/${outcome!.conversationId}/messages`);
    expect(messages.statusCode).toBe(200);
    expect(messages.json<{ items: { text: string }[] }>().items.map((m) => m.text)).toContain('hello');
    const { conversation } = (await call(t, admin(), 'GET', `/api/v1/conversations/${outcome!.conversationId}`)).json<{ conversation: { contactName: string; subject: string } }>();
    expect(conversation.subject).toBe('subject');
    // Bidi controls leave names too: "\u202Eorez" would show as "zero".
    expect(conversation.contactName).toBe('Eve orez');
  });

  it('a visitor message with a NUL is kept without it (the widget cannot fix it, so it is not refused)', async () => {
    const session = await t.app.inject({ method: 'POST', url: `/webchat/key-${acct.slug}/sessions`, payload: { name: 'Nul\u0000 \u202Eyrev' } });
    expect(session.statusCode).toBe(201);
    const { visitorToken, visitorId } = session.json<{ visitorToken: string; visitorId: string }>();
    const sent = await t.app.inject({
      method: 'POST', url: `/webchat/key-${acct.slug}/messages`,
      headers: { authorization: `Visitor ${visitorToken}`, 'x-visitor-id': visitorId },
      payload: { clientMessageId: `c-${randomUUID()}`, text: 'where is my\u0000 order?' },
    });
    expect(sent.statusCode).toBe(202);
    const { conversationId: id } = sent.json<{ conversationId: string }>();
    const messages = (await call(t, admin(), 'GET', `/api/v1/conversations/${id}/messages`)).json<{ items: { text: string }[] }>().items;
    expect(messages.map((m) => m.text)).toEqual(['where is my order?']);
    const { conversation } = (await call(t, admin(), 'GET', `/api/v1/conversations/${id}`)).json<{ conversation: { contactName: string } }>();
    expect(conversation.contactName).toBe('Nul yrev');
  });

  it('an agent reply from a surface (Slack, Teams) with a NUL is sent without it, not lost', async () => {
    const message = await t.hub.conversations.reply({ accountId: acct.accountId, kind: 'user', id: acct.users.agent.id }, conversationId, { text: 'thanks\u0000!', html: '<b>\u0000</b>' });
    expect(message.text).toBe('thanks!');
  });

  it('a path segment longer than any id → 414 path_too_long in the one error shape', async () => {
    const res = await call(t, admin(), 'GET', `/api/v1/conversations/${'x'.repeat(200)}`);
    expect(res.statusCode).toBe(414);
    expect(res.json()).toEqual({ error: { code: 'path_too_long', message: expect.any(String) } });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('names are stored without bidi controls', async () => {
    const { contactId } = await seedConversation(t, acct);
    const res = await call(t, admin(), 'PATCH', `/api/v1/contacts/${contactId}`, { name: 'Mallory \u202Efdp.exe\u2066' });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ name: string }>().name).toBe('Mallory fdp.exe');
    const reply = await call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${conversationId}/reply`, {
      text: 'see attached',
      attachments: [{ name: '\u202Efdp.exe', mimeType: 'application/pdf', contentBase64: Buffer.from('%PDF-1.4').toString('base64') }],
    });
    expect(reply.statusCode).toBe(202);
    const names = reply.json<{ attachments: { name: string }[] }>().attachments.map((a) => a.name);
    expect(names).toEqual(['fdp.exe']);
  });

  it('a JSON body is taken as typed: no false → "false", no "" → null', async () => {
    await expectRejected(() => call(t, admin(), 'POST', '/api/v1/teams', { name: false }), 400, 'validation_failed');
    await expectRejected(() => call(t, admin(), 'POST', '/api/v1/teams', { name: 12345 }), 400, 'validation_failed');
    await expectRejected(() => call(t, admin(), 'PATCH', `/api/v1/channels/${acct.channelId}`, { teamId: '' }), 400, 'validation_failed');
    await expectRejected(() => call(t, admin(), 'PATCH', `/api/v1/contacts/${randomUUID()}`, { name: ['x'] }), 400, 'validation_failed');
    // The URL still carries numbers as text.
    expect((await call(t, admin(), 'GET', '/api/v1/conversations?limit=2')).statusCode).toBe(200);
  });

  it('every response says nosniff (Slack url_verification echoes the caller\'s text)', async () => {
    for (const res of [
      await t.app.inject({ url: '/health' }),
      await t.app.inject({ url: '/no/such/route' }),
      await call(t, admin(), 'POST', '/api/v1/teams', { name: 'a\u0000' }),
      await t.app.inject({ method: 'POST', url: '/webhooks/slack', payload: { type: 'url_verification', challenge: '<script>alert(1)</script>' } }),
    ]) expect(res.headers['x-content-type-options']).toBe('nosniff');
  });
});
