import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findInstallation } from '../../storage/repositories/channels.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { call } from '../testing/seed.js';
import { checkFileLink, fileLink } from '../services/file-links.js';

/** Signed file links: what lets an `<img>` or a download link show a conversation's file without a bearer token. */
let t: TestHub;
let acct: TestAccount;
let other: TestAccount;
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');

async function messageWithImage(a: TestAccount) {
  const channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: a.channelId }))!;
  const [o] = await t.hub.ingest.ingest(channel, [{
    type: 'message',
    message: {
      channel: { kind: 'webchat', channelId: channel.id }, externalId: `img-${Math.random()}`, threadKey: `webchat:${channel.id}:img-${Math.random()}`, direction: 'inbound',
      sender: { externalId: 'v-img', isBot: false }, sentAt: new Date().toISOString(), text: 'here is a photo',
      attachments: [{ kind: 'image', name: 'dot.png', mimeType: 'image/png', size: PNG.length, ref: `inline:${PNG.toString('base64')}` }], raw: {},
    },
  }]);
  const page = (await call(t, a.users.agent.token, 'GET', `/api/v1/conversations/${o!.conversationId}/messages`)).json<{ items: { attachments: { id: string; url: string }[] }[] }>();
  return { conversationId: o!.conversationId!, attachment: page.items[0]!.attachments[0]! };
}

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  acct = await createTestAccount(t);
  other = await createTestAccount(t);
});
afterAll(() => t?.close());

describe('signed file links', () => {
  it('are listed on each attachment and open the bytes without a token, sandboxed', async () => {
    const { attachment } = await messageWithImage(acct);
    expect(attachment.url).toMatch(/^\/files\/[0-9a-f-]{36}\/[0-9a-f-]{36}\/[0-9a-f-]{36}\?exp=\d+&sig=/);
    const res = await t.app.inject({ url: attachment.url });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.rawPayload.equals(PNG)).toBe(true);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.headers['content-security-policy']).toContain('sandbox');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('refuse a tampered signature, another file under the same signature, and an expired link', async () => {
    const { conversationId, attachment } = await messageWithImage(acct);
    const theirs = await messageWithImage(other);
    const tampered = attachment.url.replace(/sig=(.)/, (_m, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`);
    expect((await t.app.inject({ url: tampered })).json().error.code).toBe('file_link_invalid');
    // The same exp and sig on another tenant's file opens nothing.
    const query = attachment.url.slice(attachment.url.indexOf('?'));
    const swapped = `/files/${other.accountId}/${theirs.conversationId}/${theirs.attachment.id}${query}`;
    expect((await t.app.inject({ url: swapped })).statusCode).toBe(403);
    const old = fileLink(t.config.secretKey, { accountId: acct.accountId, conversationId, attachmentId: attachment.id }, Date.now() - 5 * 3600_000);
    const expired = await t.app.inject({ url: old });
    expect(expired.statusCode).toBe(403);
    expect(expired.json().error.code).toBe('file_link_expired');
    expect((await t.app.inject({ url: attachment.url.replace(/&sig=.*/, '') })).statusCode).toBe(400);
  });

  it('stay the same within the hour, so the browser cache serves a file once', () => {
    const ref = { accountId: acct.accountId, conversationId: acct.accountId, attachmentId: acct.accountId };
    const hour = Math.floor(Date.now() / 3600_000) * 3600_000;
    expect(fileLink(t.config.secretKey, ref, hour + 1000)).toBe(fileLink(t.config.secretKey, ref, hour + 3500_000));
    const url = new URL(fileLink(t.config.secretKey, ref, hour), 'http://x');
    expect(checkFileLink(t.config.secretKey, ref, Number(url.searchParams.get('exp')), url.searchParams.get('sig')!, hour + 3600_000)).toBe('ok');
  });
});
