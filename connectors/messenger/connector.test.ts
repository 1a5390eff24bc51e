import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, PermanentError } from '../core/errors.js';
import type { ChannelInstallation, OutboundMessage, WebhookRequest } from '../core/types.js';
import { GraphEmulator, signedWebhook, messengerWebhooks as ms } from '../meta/testing/emulator.js';
import { MessengerConnector, messengerMessagingType } from './connector.js';

const SECRET = 'meta-app-secret';
const PAGE = '300000000000001';
const PSID = '400000000000001';
const channel: ChannelInstallation = {
  id: '00000000-0000-4000-8000-0000000000cc', accountId: '00000000-0000-4000-8000-0000000000bb', kind: 'messenger',
  externalKey: PAGE, teamId: null, config: {}, secrets: { accessToken: 'page-tok' },
};
const HOUR = 3600_000;

function request(body: unknown, tamper = false): WebhookRequest {
  const { payload, headers } = signedWebhook(SECRET, body);
  return { method: 'POST', path: '/webhooks/messenger', headers, query: {}, rawBody: tamper ? Buffer.from(JSON.stringify(body)) : payload, channel };
}

describe('Messenger connector', () => {
  it('verifies the signature over the bytes as received and parses only its own Page', async () => {
    const connector = new MessengerConnector({ appSecrets: [SECRET], verifyTokens: [] });
    const body = ms.batch(ms.text(PAGE, PSID, { mid: 'm_1', text: 'Hei / ä' }), ms.text('999999', PSID, { mid: 'm_2', text: 'x' }));
    await expect(connector.verify(request(body))).resolves.toBeUndefined();
    await expect(connector.verify(request(body, true))).rejects.toMatchObject({ code: 'webhook_signature_invalid' });
    expect(connector.parse(request(body)).map((e) => e.type)).toEqual(['message', 'ignored']);
  });

  it('picks RESPONSE within 24 hours, the HUMAN_AGENT tag up to 7 days, and closes after', () => {
    const now = new Date('2026-01-10T00:00:00Z');
    const ago = (h: number) => new Date(now.getTime() - h * HOUR).toISOString();
    expect(messengerMessagingType(ago(23), now)).toEqual({ messaging_type: 'RESPONSE' });
    expect(messengerMessagingType(ago(30), now)).toEqual({ messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' });
    expect(messengerMessagingType(ago(30), now, false)).toEqual({ closedAt: ago(6) });
    expect(messengerMessagingType(ago(8 * 24), now)).toEqual({ closedAt: ago(24) });
    expect(messengerMessagingType(undefined, now)).toEqual({});
  });

  describe('send, against the local Graph emulator', () => {
    let graph: GraphEmulator;
    const now = Date.parse('2026-01-10T12:00:00Z');
    let connector: MessengerConnector;
    beforeAll(async () => {
      graph = await GraphEmulator.start({ now: () => now });
      graph.addPage({ id: PAGE, token: 'page-tok', name: 'Kauppa' });
      connector = new MessengerConnector({ appSecrets: [SECRET], verifyTokens: [], graphUrl: graph.url }, { now: () => new Date(now) });
    });
    afterAll(() => graph.close());

    const outbound = (lastInboundHoursAgo: number | undefined, over: Partial<OutboundMessage> = {}): OutboundMessage => ({
      channel, conversation: { id: 'c1', threadKey: `messenger:${channel.id}:${PSID}` }, recipient: { externalId: PSID },
      author: {}, text: 'Moi!', attachments: [], idempotencyKey: '11111111-2222-4333-8444-555555555555',
      lastInboundAt: lastInboundHoursAgo === undefined ? undefined : new Date(now - lastInboundHoursAgo * HOUR).toISOString(), ...over,
    });

    it('looks a customer\'s name up with the Page token (User Profile API); Graph refuses another token and a PSID it does not know', async () => {
      graph.messenger.addProfile(PAGE, PSID, { firstName: 'Aino', lastName: 'Virtanen' });
      graph.messenger.addProfile(PAGE, '400000000000009', {});
      await expect(connector.profile(channel, PSID)).resolves.toEqual({ firstName: 'Aino', lastName: 'Virtanen' });
      expect(graph.requests.at(-1)).toMatchObject({ method: 'GET', path: `/v25.0/${PSID}`, authorization: 'Bearer page-tok' });
      expect(graph.messenger.profileLookups.at(-1)).toMatchObject({ psid: PSID, fields: ['first_name', 'last_name'], status: 200 });
      // A person who shares no name is an answer without one.
      await expect(connector.profile(channel, '400000000000009')).resolves.toEqual({ firstName: null, lastName: null });
      await expect(connector.profile({ ...channel, secrets: { accessToken: 'stolen' } }, PSID)).rejects.toBeInstanceOf(AuthError);
      await expect(connector.profile(channel, '499999999999999')).rejects.toMatchObject({ code: 'meta_error_100' });
    });

    it('within 24 hours: a RESPONSE carrying our message id in metadata', async () => {
      graph.customerWrote(PAGE, PSID, now - HOUR);
      const sent = await connector.send(outbound(1));
      expect(graph.messengerInbox.at(-1)).toEqual({ pageId: PAGE, psid: PSID, messagingType: 'RESPONSE', text: 'Moi!', metadata: 'hummdesk:11111111-2222-4333-8444-555555555555', id: sent.externalId });
      expect(graph.requests.at(-1)).toMatchObject({ path: '/v25.0/me/messages', authorization: 'Bearer page-tok' });
    });

    it('after 30 hours: tagged HUMAN_AGENT; after 8 days refused before Meta is called', async () => {
      graph.customerWrote(PAGE, PSID, now - 30 * HOUR);
      await connector.send(outbound(30));
      expect(graph.messengerInbox.at(-1)).toMatchObject({ messagingType: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' });
      const before = graph.requests.length;
      await expect(connector.send(outbound(8 * 24))).rejects.toMatchObject({ code: 'messenger_window_closed' });
      await expect(connector.send(outbound(undefined))).rejects.toMatchObject({ code: 'messenger_window_closed' });
      await expect(connector.send(outbound(1, { text: 'x'.repeat(2001) }))).rejects.toMatchObject({ code: 'messenger_text_too_long' });
      expect(graph.requests.length).toBe(before);
    });

    it('Meta\'s own window refusal (10 / 2018278) is permanent with the same code', async () => {
      graph.customerWrote(PAGE, PSID, now - 9 * 24 * HOUR);
      const err = await connector.send(outbound(1)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PermanentError);
      expect((err as PermanentError).code).toBe('messenger_window_closed');
    });

    it('files: over 25 MB refused before Meta is called; an upload Meta refuses leaves nothing sent', async () => {
      graph.customerWrote(PAGE, PSID, now - HOUR);
      const before = { requests: graph.requests.length, sent: graph.messengerInbox.length };
      const big = { name: 'big.mp4', mimeType: 'video/mp4', content: Buffer.alloc(25 * 1024 * 1024 + 1) };
      await expect(connector.send(outbound(1, { attachments: [big] }))).rejects.toMatchObject({ code: 'messenger_file_too_large' });
      expect(graph.requests.length).toBe(before.requests);
      // An empty file is refused by the upload API: the text that would have gone first is not sent alone.
      await expect(connector.send(outbound(1, { attachments: [{ name: 'x.png', mimeType: 'image/png', content: Buffer.alloc(0) }] }))).rejects.toBeInstanceOf(PermanentError);
      expect(graph.messengerInbox.length).toBe(before.sent);
      const files = await connector.send(outbound(1, { text: '', attachments: [{ name: 'a.txt', mimeType: 'text/plain', content: Buffer.from('abc') }] }));
      expect(graph.messengerInbox.at(-1)).toMatchObject({ id: files.externalId, attachment: { type: 'file', name: 'a.txt', size: 3 } });
      expect(graph.messengerInbox.length).toBeGreaterThan(before.sent);
    });

    it('while another app owns the thread, takes it before sending; hands it back to the app named', async () => {
      graph.customerWrote(PAGE, PSID, now - HOUR);
      graph.messenger.giveThreadTo(PAGE, PSID, '263902037430900');
      const page = { id: PAGE, name: 'Kauppa', appId: '4242' };
      // Without taking it Meta refuses the send (code 10).
      await expect(connector.send(outbound(1))).rejects.toBeInstanceOf(PermanentError);
      const sent = await connector.send(outbound(1, { conversation: { id: 'c1', threadKey: `messenger:${channel.id}:${PSID}`, control: { owner: 'other', appId: '263902037430900' } } }));
      expect(graph.messengerInbox.at(-1)).toMatchObject({ id: sent.externalId, text: 'Moi!' });
      expect(graph.messenger.ownerOf(page, PSID)).toBe('4242');
      await connector.handBack(channel, { externalId: PSID }, { appId: null });
      expect(graph.messenger.ownerOf(page, PSID)).toBe('263902037430900');
      expect(graph.messenger.controlCalls.slice(-2).map((c) => [c.kind, c.toAppId])).toEqual([['take', '4242'], ['pass', '263902037430900']]);
      // Only the owner may pass it on.
      await expect(connector.handBack(channel, { externalId: PSID }, { appId: '555' })).rejects.toBeInstanceOf(PermanentError);
    });

    it('a wrong Page token is an auth failure; check names the Page the token is for', async () => {
      await expect(connector.send(outbound(1, { channel: { ...channel, secrets: { accessToken: 'wrong' } } }))).rejects.toBeInstanceOf(AuthError);
      await expect(connector.check(channel)).resolves.toEqual({ ok: true });
      await expect(connector.check({ ...channel, externalKey: '300000000000009' })).resolves.toMatchObject({ ok: false, code: 'messenger_page_mismatch' });
    });
  });

  it('fetches an attachment from the URL Meta gave, sends no Page token there, and refuses URLs that are not https', async () => {
    const seen: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': '4' });
      res.end(Buffer.from([1, 2, 3, 4]));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const connector = new MessengerConnector({ appSecrets: [SECRET], verifyTokens: [] });
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x.png`;
      const got = await connector.fetchAttachment(channel, `messenger-url:${url}`, { maxBytes: 100 });
      const read: number[] = [];
      for await (const piece of got.body as AsyncIterable<Uint8Array>) read.push(...piece);
      expect(read).toEqual([1, 2, 3, 4]);
      expect(seen[0] ?? '').not.toContain('page-tok');
      await expect(connector.fetchAttachment(channel, `messenger-url:${url}`, { maxBytes: 3 })).rejects.toMatchObject({ code: 'attachment_too_large' });
      await expect(connector.fetchAttachment(channel, 'messenger-url:http://example.com/x', { maxBytes: 100 })).rejects.toMatchObject({ code: 'attachment_ref_invalid' });
      await expect(connector.fetchAttachment(channel, 'whatsapp-media:1', { maxBytes: 100 })).rejects.toMatchObject({ code: 'attachment_ref_invalid' });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
