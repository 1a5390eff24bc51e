import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { randomUUID } from 'node:crypto';
import { connect, type AddressInfo } from 'node:net';
import { findInstallation } from '../../storage/repositories/channels.js';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { openConversation, openEventStream } from '../testing/test-channel.js';

let t: TestHub;
let a: TestAccount;
let b: TestAccount;
let base: string;

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  a = await createTestAccount(t);
  b = await createTestAccount(t);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/api/v1/events`;
});
afterAll(() => t?.close());

const channelOf = async (acct: TestAccount) => (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: acct.channelId }))!;

describe('GET /api/v1/events', () => {
  it('refuses a stream without a valid token', async () => {
    const none = await openEventStream(base);
    expect(none.status).toBe(401);
    await none.ended;
    expect(JSON.parse(none.body)).toMatchObject({ error: { code: 'unauthorized' } });
    const bad = await openEventStream(`${base}?access_token=not-a-token`);
    expect(bad.status).toBe(401);
    bad.close();
  });

  it('takes the token in the access_token query (EventSource cannot send headers), or as an API key', async () => {
    const byQuery = await openEventStream(`${base}?access_token=${encodeURIComponent(a.users.viewer.token)}`);
    expect(byQuery.status).toBe(200);
    byQuery.close();
    const byKey = await openEventStream(base, { 'x-api-key': a.apiKeys.viewer });
    expect(byKey.status).toBe(200);
    byKey.close();
  });

  it('never takes an API key in the URL, where logs and browser history keep it; an embed token is fine', async () => {
    const keyInUrl = await openEventStream(`${base}?access_token=${encodeURIComponent(a.apiKeys.viewer)}`);
    expect(keyInUrl.status).toBe(401);
    await keyInUrl.ended;
    expect(JSON.parse(keyInUrl.body)).toMatchObject({ error: { code: 'api_key_in_url' } });
    const minted = await t.app.inject({ method: 'POST', url: '/api/v1/embed-tokens', headers: { authorization: `Bearer ${a.users.agent.token}` } });
    const embed = await openEventStream(`${base}?access_token=${encodeURIComponent(minted.json<{ token: string }>().token)}`);
    expect(embed.status).toBe(200);
    embed.close();
  });

  it("streams its own account's conversation and message events, never another account's", async () => {
    const streamA = await openEventStream(`${base}?access_token=${encodeURIComponent(a.users.agent.token)}`);
    const streamB = await openEventStream(base, { authorization: `Bearer ${b.users.agent.token}` });
    try {
      const conversationId = await openConversation(t.hub.ingest, await channelOf(a));
      await streamA.waitFor((e) => e.event === 'conversation.created' && e.data.conversationId === conversationId);
      const created = await streamA.waitFor((e) => e.event === 'message.created' && e.data.conversationId === conversationId);
      expect(created.data).toMatchObject({ type: 'message.created', direction: 'inbound', isPrivate: false });

      // An agent's note arrives as well, published by the API request.
      const note = await t.app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/notes`, headers: { authorization: `Bearer ${a.users.agent.token}` }, payload: { text: 'checking' } });
      expect(note.statusCode).toBe(201);
      await streamA.waitFor((e) => e.event === 'message.created' && e.data.messageId === note.json().id);

      // B sees its own event, and nothing of A's came before it (events of one bus arrive in order).
      const own = await openConversation(t.hub.ingest, await channelOf(b));
      await streamB.waitFor((e) => e.event === 'message.created' && e.data.conversationId === own);
      expect(streamB.events.every((e) => e.data.conversationId === own)).toBe(true);
      expect(streamA.events.some((e) => e.data.conversationId === own)).toBe(false);
    } finally {
      streamA.close();
      streamB.close();
    }
  });

  it('serialises an event once however many streams show it, and still only to streams of its account', async () => {
    const streams = await Promise.all([
      openEventStream(base, { authorization: `Bearer ${a.users.agent.token}` }),
      openEventStream(base, { authorization: `Bearer ${a.users.admin.token}` }),
      openEventStream(`${base}?access_token=${encodeURIComponent(a.users.viewer.token)}`),
      openEventStream(base, { 'x-api-key': a.apiKeys.viewer }),
    ]);
    const other = await openEventStream(base, { authorization: `Bearer ${b.users.agent.token}` });
    const mine = randomUUID();
    const theirs = randomUUID();
    const stringify = vi.spyOn(JSON, 'stringify');
    try {
      t.hub.bus.publish(a.accountId, { type: 'typing', conversationId: mine, by: 'agent', name: 'Ann' });
      for (const s of streams) await s.waitFor((e) => e.event === 'typing' && e.data.conversationId === mine);
      const serialised = stringify.mock.calls.filter(([v]) => (v as { conversationId?: unknown } | null)?.conversationId === mine);
      expect(serialised).toHaveLength(1);
      t.hub.bus.publish(b.accountId, { type: 'typing', conversationId: theirs, by: 'agent', name: 'Bo' });
      await other.waitFor((e) => e.data.conversationId === theirs);
      expect(other.events.some((e) => e.data.conversationId === mine)).toBe(false);
      for (const s of streams) expect(s.events.some((e) => e.data.conversationId === theirs)).toBe(false);
    } finally {
      stringify.mockRestore();
      for (const s of [...streams, other]) s.close();
    }
  });

  it("ends a removed user's open stream at the next heartbeat", async () => {
    const fast = await startTestHub({ jobs: false, env: { HUMMDESK_EVENTS_HEARTBEAT_MS: '100' } });
    try {
      const acct = await createTestAccount(fast);
      await fast.app.listen({ port: 0, host: '127.0.0.1' });
      const url = `http://127.0.0.1:${(fast.app.server.address() as AddressInfo).port}/api/v1/events`;
      const kept = await openEventStream(url, { authorization: `Bearer ${acct.users.viewer.token}` });
      const removed = await openEventStream(url, { authorization: `Bearer ${acct.users.agent.token}` });
      expect(removed.status).toBe(200);
      const del = await fast.app.inject({ method: 'DELETE', url: `/api/v1/users/${acct.users.agent.id}`, headers: { authorization: `Bearer ${acct.users.admin.token}` } });
      expect(del.statusCode).toBe(204);
      await removed.ended;
      // The other user's stream goes on: it still receives the next change.
      const conversationId = await openConversation(fast.hub.ingest, (await findInstallation(fast.hub.db, fast.hub.box, { kind: 'webchat', id: acct.channelId }))!);
      await kept.waitFor((e) => e.event === 'message.created' && e.data.conversationId === conversationId);
      kept.close();
    } finally {
      await fast.close();
    }
  });

  it("ends a revoked API key's open stream at the next heartbeat; a valid key's stream goes on", async () => {
    // Access is cached for a minute: only the revocation's own forget can end the stream this soon.
    const fast = await startTestHub({ jobs: false, env: { HUMMDESK_EVENTS_HEARTBEAT_MS: '100', HUMMDESK_USER_CACHE_MS: '60000' } });
    try {
      const acct = await createTestAccount(fast);
      await fast.app.listen({ port: 0, host: '127.0.0.1' });
      const url = `http://127.0.0.1:${(fast.app.server.address() as AddressInfo).port}/api/v1/events`;
      const admin = { authorization: `Bearer ${acct.users.admin.token}` };
      const created = await fast.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: admin, payload: { name: 'dashboard', role: 'viewer' } });
      expect(created.statusCode).toBe(201);
      const { key, apiKey } = created.json<{ key: string; apiKey: { id: string } }>();
      const kept = await openEventStream(url, { 'x-api-key': acct.apiKeys.viewer });
      const revoked = await openEventStream(url, { 'x-api-key': key });
      expect(revoked.status).toBe(200);
      // Two beats in, the key's access is cached when it is revoked.
      const beats = (s: { body: string }) => s.body.split(': ping').length - 1;
      await eventually(async () => beats(revoked) >= 2);

      const del = await fast.app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${apiKey.id}`, headers: admin });
      expect(del.statusCode).toBe(204);
      let timer: NodeJS.Timeout | undefined;
      // Far within the minute the cache would keep the key, and far beyond a 100 ms beat on a loaded machine.
      const ended = await Promise.race([revoked.ended.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), 15_000)))]);
      clearTimeout(timer);
      expect(ended, 'the revoked key still streams 15 s after the revocation').toBe(true);

      // The valid key's stream outlives a few more beats and still receives the next change.
      const keptBeats = beats(kept);
      await eventually(async () => beats(kept) >= keptBeats + 3);
      const conversationId = await openConversation(fast.hub.ingest, (await findInstallation(fast.hub.db, fast.hub.box, { kind: 'webchat', id: acct.channelId }))!);
      await kept.waitFor((e) => e.event === 'message.created' && e.data.conversationId === conversationId);
      kept.close();
      // Nor can the revoked key open a new one.
      const again = await openEventStream(url, { 'x-api-key': key });
      expect(again.status).toBe(401);
      again.close();
    } finally {
      await fast.close();
    }
  });

  it('caps open streams per user or API key and per address; a closed stream, even one cut off, frees its slot', async () => {
    const capped = await startTestHub({ jobs: false, env: { HUMMDESK_STREAMS_PER_PRINCIPAL: '2', HUMMDESK_STREAMS_PER_ADDRESS: '3' } });
    try {
      const acct = await createTestAccount(capped);
      await capped.app.listen({ port: 0, host: '127.0.0.1' });
      const port = (capped.app.server.address() as AddressInfo).port;
      const url = `http://127.0.0.1:${port}/api/v1/events`;
      const as = (token: string) => ({ authorization: `Bearer ${token}` });
      const agentSlots = () => capped.app.streamSlots.openFor('principal', `user:${acct.users.agent.id}`);

      const first = await openEventStream(url, as(acct.users.agent.token));
      const second = await openEventStream(url, as(acct.users.agent.token));
      expect([first.status, second.status]).toEqual([200, 200]);
      const third = await openEventStream(url, as(acct.users.agent.token));
      expect(third.status).toBe(429);
      await third.ended;
      expect(JSON.parse(third.body)).toMatchObject({ error: { code: 'too_many_streams' } });
      // Another user has slots of their own, until the address is full.
      const viewer = await openEventStream(url, as(acct.users.viewer.token));
      expect(viewer.status).toBe(200);
      const admin = await openEventStream(url, { 'x-api-key': acct.apiKeys.admin });
      expect(admin.status).toBe(429);
      admin.close();

      // A stream the client closes gives its slot back.
      first.close();
      await eventually(async () => agentSlots() === 1);
      const reopened = await openEventStream(url, as(acct.users.agent.token));
      expect(reopened.status).toBe(200);
      reopened.close();
      await eventually(async () => agentSlots() === 1);

      // So does one whose connection is cut off mid-stream (a tab killed, a network gone): no goodbye, just a reset socket.
      const socket = connect(port, '127.0.0.1');
      socket.write(`GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${acct.users.agent.token}\r\nAccept: text/event-stream\r\n\r\n`);
      let head = '';
      await new Promise<void>((opened) => socket.on('data', (chunk) => (head += chunk.toString()).includes(': connected') && opened()));
      expect(head).toMatch(/^HTTP\/1\.1 200/);
      expect(agentSlots()).toBe(2);
      socket.resetAndDestroy();
      await eventually(async () => agentSlots() === 1);
      expect(capped.app.streamSlots.openFor('address', '127.0.0.1')).toBe(2);

      second.close();
      viewer.close();
      await eventually(async () => capped.app.streamSlots.openFor('address', '127.0.0.1') === 0);
    } finally {
      await capped.close();
    }
  });
});
