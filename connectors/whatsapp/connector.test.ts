import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorContract } from '../core/contract.js';
import { AuthError, PermanentError, RateLimitError } from '../core/errors.js';
import type { ChannelInstallation, OutboundMessage, WebhookRequest } from '../core/types.js';
import { GraphEmulator, signedWebhook, whatsappWebhooks as wa } from '../meta/testing/emulator.js';
import { WhatsAppConnector } from './connector.js';

const SECRET = 'meta-app-secret';
const NUMBER = '1122334455667';
const channel: ChannelInstallation = {
  id: '00000000-0000-4000-8000-0000000000aa', accountId: '00000000-0000-4000-8000-0000000000bb', kind: 'whatsapp',
  externalKey: NUMBER, teamId: null, config: {}, secrets: { accessToken: 'tok' },
};
const at = new Date('2026-01-02T03:04:05Z');

function request(body: unknown, tamper = false): WebhookRequest {
  const { payload, headers } = signedWebhook(SECRET, body);
  return { method: 'POST', path: '/webhooks/whatsapp', headers, query: {}, rawBody: tamper ? Buffer.from(JSON.stringify(body)) : payload, now: () => at };
}

const text = wa.text(NUMBER, { waId: '358401234567', userId: 'US.1', name: 'Ääkkönen' }, { id: 'wamid.T1', body: 'Hei / moi 😀', at });

connectorContract('whatsapp', () => ({
  connector: new WhatsAppConnector({ appSecrets: [SECRET], verifyTokens: ['vt'] }),
  channel,
  validRequest: () => request(text),
  tamperedRequest: () => request(text, true),
  statusRequest: () => request(wa.status(NUMBER, { id: 'wamid.S', status: 'delivered', recipient: '358401234567', at })),
  echoRequest: () =>
    request({ object: 'whatsapp_business_account', entry: [{ changes: [{ field: 'smb_message_echoes', value: { metadata: { phone_number_id: NUMBER }, message_echoes: [{ from: '1555', to: '358401234567', id: 'wamid.E', timestamp: '1767322000', type: 'text', text: { body: 'x' } }] } }] }] }),
}));

describe('WhatsApp connector', () => {
  it('parses only its own number\'s changes from a batch, naming the rest', () => {
    const connector = new WhatsAppConnector({ appSecrets: [SECRET], verifyTokens: [] });
    const body = wa.batch(text, wa.text('999', { waId: '1' }, { id: 'wamid.other', body: 'x' }));
    const events = connector.parse({ ...request(body), channel });
    expect(events.map((e) => e.type)).toEqual(['message', 'ignored']);
  });

  describe('send, against the local Graph emulator', () => {
    let graph: GraphEmulator;
    let now = Date.parse('2026-01-02T12:00:00Z');
    let connector: WhatsAppConnector;
    beforeAll(async () => {
      graph = await GraphEmulator.start({ now: () => now });
      graph.addNumber({ id: NUMBER, token: 'tok' });
      connector = new WhatsAppConnector({ appSecrets: [SECRET], verifyTokens: [], graphUrl: graph.url }, { now: () => new Date(now) });
    });
    afterAll(() => graph.close());

    const outbound = (over: Partial<OutboundMessage> = {}): OutboundMessage => ({
      channel, conversation: { id: 'c1', threadKey: `whatsapp:${channel.id}:US.1` }, recipient: { externalId: 'US.1', address: '358401234567' },
      author: {}, text: 'Moi!', attachments: [], idempotencyKey: '11111111-2222-4333-8444-555555555555', lastInboundAt: new Date(now - 3600_000).toISOString(), ...over,
    });

    it('sends text to the phone with our message id as biz_opaque_callback_data', async () => {
      graph.customerWrote(NUMBER, '358401234567', now - 3600_000);
      const sent = await connector.send(outbound());
      expect(graph.inbox.at(-1)).toEqual({ phoneNumberId: NUMBER, to: '358401234567', type: 'text', text: 'Moi!', bizOpaqueCallbackData: '11111111-2222-4333-8444-555555555555', id: sent.externalId });
      expect(graph.requests.at(-1)).toMatchObject({ path: `/v25.0/${NUMBER}/messages`, authorization: 'Bearer tok' });
    });

    it('sends to the business-scoped user id as recipient when no phone is known', async () => {
      graph.customerWrote(NUMBER, 'US.1', now - 60_000);
      await connector.send(outbound({ recipient: { externalId: 'US.1' } }));
      expect(graph.inbox.at(-1)).toMatchObject({ recipient: 'US.1' });
      expect(graph.inbox.at(-1)).not.toHaveProperty('to');
    });

    it('refuses, before calling Meta, text over 4,096 characters and text outside the 24-hour window', async () => {
      const before = graph.requests.length;
      await expect(connector.send(outbound({ text: 'x'.repeat(4097) }))).rejects.toMatchObject({ code: 'whatsapp_text_too_long' });
      await expect(connector.send(outbound({ lastInboundAt: new Date(now - 25 * 3600_000).toISOString() }))).rejects.toMatchObject({ code: 'whatsapp_window_closed' });
      await expect(connector.send(outbound({ lastInboundAt: undefined }))).rejects.toMatchObject({ code: 'whatsapp_window_closed' });
      expect(graph.requests.length).toBe(before);
      expect([...'😀'.repeat(4096)].length).toBe(4096);
    });

    it('Meta\'s own window refusal (131047) is permanent with the same code', async () => {
      graph.customerWrote(NUMBER, '358400000000', now - 30 * 3600_000);
      const err = await connector.send(outbound({ recipient: { externalId: 'US.2', address: '358400000000' } })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PermanentError);
      expect((err as PermanentError).code).toBe('whatsapp_window_closed');
    });

    it('a scripted 429 is a rate limit with Retry-After; a wrong token is an auth failure', async () => {
      graph.customerWrote(NUMBER, '358401234567', now);
      graph.scriptNext({ kind: 'rate_limit', retryAfterSeconds: 3 });
      const err = await connector.send(outbound()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RateLimitError);
      expect((err as RateLimitError).retryAfterMs).toBe(3000);
      await expect(connector.send(outbound({ channel: { ...channel, secrets: { accessToken: 'wrong' } } }))).rejects.toBeInstanceOf(AuthError);
    });

    it('the installation\'s Graph version is used, and an unknown one is refused by Graph', async () => {
      graph.customerWrote(NUMBER, '358401234567', now);
      await connector.send(outbound({ channel: { ...channel, config: { graphVersion: 'v24.0' } } }));
      expect(graph.requests.at(-1)!.path).toBe(`/v24.0/${NUMBER}/messages`);
      await expect(connector.send(outbound({ channel: { ...channel, config: { graphVersion: 'v1.0' } } }))).rejects.toBeInstanceOf(PermanentError);
      now += 1;
    });

    it('check reads the number with the token', async () => {
      await expect(connector.check(channel)).resolves.toEqual({ ok: true });
      await expect(connector.check({ ...channel, secrets: { accessToken: 'nope' } })).resolves.toMatchObject({ ok: false, code: 'channel_auth_failed' });
    });
  });
});
