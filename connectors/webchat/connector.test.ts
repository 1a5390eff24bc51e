import { describe, expect, it } from 'vitest';
import type { ChannelInstallation, WebhookRequest } from '../core/types.js';
import { VerificationError } from '../core/errors.js';
import { connectorContract } from '../core/contract.js';
import { WebchatConnector } from './connector.js';
import { signVisitorToken } from './tokens.js';

const channel: ChannelInstallation = {
  id: '5f0c1b9e-8d1a-4c1e-9a57-2f0a7e1d3c44',
  accountId: '0b7a6c43-3f52-4f0e-8d7e-6d8a8a1f9b10',
  kind: 'webchat',
  externalKey: 'test-widget',
  teamId: null,
  config: { allowedOrigins: ['*'] },
  secrets: { sessionSecret: 'session-secret-for-tests', identitySecret: 'identity-secret-for-tests' },
};
const fixedNow = () => new Date('2026-03-01T12:00:00.000Z');
const token = signVisitorToken(channel.secrets.sessionSecret!, channel.id, { visitorId: 'v:abc', name: 'Vera', email: 'vera@example.com', verified: false });

const request = (over: { token?: string; visitorId?: string; body?: unknown } = {}): WebhookRequest => ({
  method: 'POST',
  path: '/webchat/test-widget/messages',
  headers: { authorization: `Visitor ${over.token ?? token}`, 'x-visitor-id': over.visitorId ?? 'v:abc', 'content-type': 'application/json' },
  query: {},
  rawBody: Buffer.from(JSON.stringify(over.body ?? { clientMessageId: 'c-1', text: 'Where is my order?' })),
  channel,
  now: fixedNow,
});

connectorContract('webchat', () => ({
  connector: new WebchatConnector(fixedNow),
  channel,
  validRequest: () => request(),
  tamperedRequest: () => request({ token: `${token.slice(0, -2)}AA` }),
}));

describe('webchat connector', () => {
  const connector = new WebchatConnector(fixedNow);

  it('turns a visitor message into a normalized inbound message', () => {
    const [event] = connector.parse(request());
    expect(event).toEqual({
      type: 'message',
      message: {
        channel: { kind: 'webchat', channelId: channel.id },
        externalId: 'v:abc:c-1',
        threadKey: `webchat:${channel.id}:v:abc`,
        direction: 'inbound',
        sender: { externalId: 'v:abc', displayName: 'Vera', address: 'vera@example.com', isBot: false, verified: false },
        sentAt: '2026-03-01T12:00:00.000Z',
        text: 'Where is my order?',
        attachments: [],
        raw: { clientMessageId: 'c-1', text: 'Where is my order?', attachments: [] },
      },
    });
  });

  it('turns uploaded file ids into upload refs, which may stand without text', () => {
    const id = '7d6f1a52-3c1b-4e7a-9f0e-2b8c5d4a1e90';
    const [event] = connector.parse(request({ body: { clientMessageId: 'c-2', text: '', attachments: [id, id] } }));
    expect(event).toMatchObject({ type: 'message', message: { text: '', attachments: [{ kind: 'file', ref: `upload:${id}` }] } });
  });

  it('ignores attachment refs that are not upload ids, and an empty message', () => {
    for (const body of [{ clientMessageId: 'c', text: 'x', attachments: ['inline:PHNjcmlwdD4='] }, { clientMessageId: 'c', text: 'x', attachments: 'nope' }, { clientMessageId: 'c', text: ' ', attachments: [] }])
      expect(connector.parse(request({ body }))[0]).toMatchObject({ type: 'ignored' });
  });

  it('refuses a token of another channel', async () => {
    const other = signVisitorToken(channel.secrets.sessionSecret!, '00000000-0000-0000-0000-000000000000', { visitorId: 'v:abc', verified: false });
    await expect(connector.verify(request({ token: other }))).rejects.toMatchObject({ code: 'visitor_token_invalid' });
  });

  it('refuses an expired token with visitor_token_expired', async () => {
    const expired = signVisitorToken(channel.secrets.sessionSecret!, channel.id, { visitorId: 'v:abc', verified: false }, { now: new Date(fixedNow().getTime() - 7_200_000), ttlSeconds: 3600 });
    await expect(connector.verify(request({ token: expired }))).rejects.toMatchObject({ code: 'visitor_token_expired' });
  });

  it('refuses a visitor id header that is not the token’s visitor', async () => {
    await expect(connector.verify(request({ visitorId: 'v:someone-else' }))).rejects.toBeInstanceOf(VerificationError);
  });

  it('refuses a request without a token', async () => {
    const req = request();
    delete req.headers.authorization;
    await expect(connector.verify(req)).rejects.toMatchObject({ code: 'visitor_token_invalid' });
  });

  it('ignores a body that is not a visitor message instead of guessing', () => {
    expect(connector.parse(request({ body: { text: 'no id' } }))[0]).toMatchObject({ type: 'ignored' });
    expect(connector.parse({ ...request(), rawBody: Buffer.from('{not json') })[0]).toMatchObject({ type: 'ignored' });
  });

  it('sends by naming the stored message, with a stable id per idempotency key', async () => {
    const sent = await connector.send({
      channel,
      conversation: { id: 'c', threadKey: `webchat:${channel.id}:v:abc` },
      recipient: { externalId: 'v:abc' },
      author: {},
      text: 'hello',
      attachments: [],
      idempotencyKey: 'msg-1',
    });
    expect(sent).toEqual({ externalId: 'hd:msg-1', sentAt: '2026-03-01T12:00:00.000Z' });
  });

  it('reports a channel without a session secret as not ok', async () => {
    expect(await connector.check(channel)).toEqual({ ok: true });
    expect(await connector.check({ ...channel, secrets: {} })).toMatchObject({ ok: false, code: 'webchat_session_secret_missing' });
  });
});
