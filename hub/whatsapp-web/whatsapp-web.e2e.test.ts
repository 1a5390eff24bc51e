import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { startListeners, type Listeners } from '../listeners.js';
import { withAccount } from '../../storage/session.js';
import { WhatsAppWebConnector } from '../../connectors/whatsapp/web/connector.js';
import { fakeFactory, type FakeWaWebClient } from '../../connectors/whatsapp/web/testing/fake-client.js';
import { CUSTOMER, LID_CUSTOMER, OUR_NUMBER, edited, fromLidCustomer, fromPhone, imageFromCustomer, inGroup, revokedStandIn, textFromCustomer, voiceFromCustomer } from '../../connectors/whatsapp/web/testing/recorded.js';

// A linked phone end to end: a fake whatsapp-web.js Client emitting the library's own Message objects,
// through the real normalisation, the leased listener, ingest, the API, the deliver and media jobs.
let t: TestHub;
let acct: TestAccount;
let listeners: Listeners;
const factory = fakeFactory((c) => (c.script = 'qr'));
const client = (): FakeWaWebClient => factory.clients.at(-1)!;

type ApiMessage = { id: string; direction: string; text: string; externalId: string | null; deliveryStatus: string | null; authorName: string | null; attachments: { kind: string; mimeType: string | null; fetchState: string | null; fetchError: string | null }[] };

const api = async (method: 'GET' | 'POST', url: string, key: string, payload?: object) => t.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${key}` }, ...(payload ? { payload } : {}) });
const channelView = async (key: string) => (await api('GET', `/channels/${acct.channelId}`, key)).json<{ unofficial?: boolean; link?: Record<string, unknown> }>();
const conversationOf = (chat: string) =>
  withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<{ id: string }>(`SELECT id FROM conversations WHERE channel_id = $1 AND thread_key = $2`, [acct.channelId, `whatsapp-web:${acct.channelId}:${chat}`])).rows[0]?.id);
const messagesOf = async (conversationId: string) => (await api('GET', `/conversations/${conversationId}/messages`, acct.apiKeys.agent)).json<{ items: ApiMessage[] }>().items;
const deletedAt = (externalId: string) =>
  withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<{ d: string | null }>(`SELECT metadata->>'deletedAt' AS d FROM messages WHERE channel_id = $1 AND external_id = $2`, [acct.channelId, externalId])).rows[0]?.d);
const messageByExternal = async (conversationId: string, externalId: string) => (await messagesOf(conversationId)).find((m) => m.externalId === externalId);

beforeAll(async () => {
  t = await startTestHub();
  t.hub.connectors.set('whatsapp-web', new WhatsAppWebConnector({ dataDir: t.config.dataDir, factory, backoffMs: { first: 50, max: 200 } }));
  acct = await createTestAccount(t, { channelKind: 'whatsapp-web', channelKey: 'waweb_e2e', secrets: {} });
  listeners = startListeners(t.hub, { rescanMs: 3_600_000 });
  await eventually(async () => factory.clients.length > 0, 30_000);
}, 120_000);

afterAll(async () => {
  await listeners?.stop();
  await t?.close();
});

describe('whatsapp-web channel through a fake linked phone', () => {
  it('shows qr_required with the QR to admins (not to viewers), then ready once the phone links', async () => {
    const qr = await eventually(async () => (await channelView(acct.apiKeys.admin)).link?.qr as string | undefined, 30_000);
    expect(qr).toMatch(/^2@fakeRef/);
    const admin = await channelView(acct.apiKeys.admin);
    expect(admin).toMatchObject({ unofficial: true, link: { state: 'qr_required', listening: true } });
    const viewer = await channelView(acct.apiKeys.viewer);
    expect(viewer.link).toMatchObject({ state: 'qr_required' });
    expect(viewer.link).not.toHaveProperty('qr');
    client().link();
    const ready = await eventually(async () => ((await channelView(acct.apiKeys.viewer)).link?.state === 'ready' ? (await channelView(acct.apiKeys.viewer)).link : undefined), 30_000);
    expect(ready).toMatchObject({ state: 'ready', account: OUR_NUMBER });
  });

  it('a customer message becomes a conversation with the chat id as identity and the phone as contact phone', async () => {
    client().receive(textFromCustomer());
    const conversationId = await eventually(() => conversationOf(CUSTOMER), 30_000);
    const [m] = await messagesOf(conversationId);
    expect(m).toMatchObject({ direction: 'inbound', text: 'Hi, my order #1234 has not arrived', externalId: `false_${CUSTOMER}_3EB0C767D26A1D8A5F7B` });
    const contact = await withAccount(t.hub.db, acct.accountId, async (tx) =>
      (await tx.query<{ externalId: string; phone: string | null }>(
        `SELECT ci.external_id AS "externalId", c.phone FROM contact_identities ci JOIN contacts c ON c.id = ci.contact_id WHERE ci.channel_id = $1 AND ci.external_id = $2`,
        [acct.channelId, CUSTOMER],
      )).rows[0]);
    expect(contact).toEqual({ externalId: CUSTOMER, phone: '358409998877' });
  });

  it('a @lid sender is an identity of its own, with no phone', async () => {
    client().receive(fromLidCustomer());
    const conversationId = await eventually(() => conversationOf(LID_CUSTOMER), 30_000);
    expect((await messagesOf(conversationId))[0]).toMatchObject({ text: 'Hello from a hidden number' });
    const phone = await withAccount(t.hub.db, acct.accountId, async (tx) =>
      (await tx.query<{ phone: string | null }>(`SELECT c.phone FROM contact_identities ci JOIN contacts c ON c.id = ci.contact_id WHERE ci.channel_id = $1 AND ci.external_id = $2`, [acct.channelId, LID_CUSTOMER])).rows[0]?.phone);
    expect(phone).toBeNull();
  });

  it('group messages are not stored', async () => {
    client().receive(inGroup());
    // A later customer message is stored, so the group one (emitted first, handled in order) was passed over.
    client().receive(textFromCustomer('3EB0AFTERGROUP000001', 'after the group message'));
    const conversationId = (await conversationOf(CUSTOMER))!;
    await eventually(async () => messageByExternal(conversationId, `false_${CUSTOMER}_3EB0AFTERGROUP000001`), 30_000);
    const groups = await withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query(`SELECT 1 FROM conversations WHERE channel_id = $1 AND thread_key LIKE '%@g.us'`, [acct.channelId])).rows);
    expect(groups).toEqual([]);
  });

  it('media: downloaded files are stored; one downloadMedia() never gives is marked unavailable', async () => {
    const image = imageFromCustomer();
    const voice = voiceFromCustomer();
    client().media.set(`false_${CUSTOMER}_3EB0A0F1C2B3D4E5F601`, { data: Buffer.from('jpeg bytes').toString('base64'), mimetype: 'image/jpeg', filesize: 10 });
    client().media.set(`false_${CUSTOMER}_3EB0B1B2B3B4B5B6B7B8`, null);
    client().receive(image);
    client().receive(voice);
    const conversationId = (await conversationOf(CUSTOMER))!;
    const img = await eventually(async () => messageByExternal(conversationId, `false_${CUSTOMER}_3EB0A0F1C2B3D4E5F601`), 30_000);
    expect(img.text).toBe('the damaged box');
    expect(img.attachments).toEqual([expect.objectContaining({ kind: 'image', mimeType: 'image/jpeg', fetchState: null })]);
    const failed = await eventually(async () => {
      const m = await messageByExternal(conversationId, `false_${CUSTOMER}_3EB0B1B2B3B4B5B6B7B8`);
      return m?.attachments[0]?.fetchState === 'failed' ? m : undefined;
    }, 60_000);
    expect(failed.attachments[0]).toMatchObject({ kind: 'audio', fetchState: 'failed', fetchError: expect.stringContaining('whatsapp_web_media_unavailable') });
  });

  it('a message typed on the linked phone is recorded as our side, already sent; its edit and revoke apply', async () => {
    const phoneMsg = fromPhone();
    client().receive(phoneMsg);
    const conversationId = (await conversationOf(CUSTOMER))!;
    const id = `true_${CUSTOMER}_3EB0F0F1F2F3F4F5F6F7`;
    const m = await eventually(async () => messageByExternal(conversationId, id), 30_000);
    expect(m).toMatchObject({ direction: 'outbound', deliveryStatus: 'sent', text: 'We are on it, sorry for the wait', authorName: 'Linked phone' });
    client().edit(edited(phoneMsg, 'We are on it!'), 'We are on it!', 'We are on it, sorry for the wait');
    await eventually(async () => (await messageByExternal(conversationId, id))?.text === 'We are on it!', 30_000);
    client().revoke(revokedStandIn(phoneMsg));
    await eventually(() => deletedAt(id), 30_000);
    expect((await messageByExternal(conversationId, id))?.text).toBe('');
  });

  it('a customer edit replaces the text; a revoke redacts the message', async () => {
    const original = textFromCustomer('3EB0TOBEEDITED000001', 'my order is #999');
    client().receive(original);
    const conversationId = (await conversationOf(CUSTOMER))!;
    const id = `false_${CUSTOMER}_3EB0TOBEEDITED000001`;
    await eventually(async () => messageByExternal(conversationId, id), 30_000);
    client().edit(edited(original, 'my order is #998'), 'my order is #998', 'my order is #999');
    await eventually(async () => (await messageByExternal(conversationId, id))?.text === 'my order is #998', 30_000);
    client().revoke(revokedStandIn(original));
    await eventually(() => deletedAt(id), 30_000);
    expect((await messageByExternal(conversationId, id))?.text).toBe('');
  });

  it('a reply goes out through the phone once (its echo is not a second message); acks move its status forward only', async () => {
    const conversationId = (await conversationOf(CUSTOMER))!;
    const before = (await messagesOf(conversationId)).length;
    const r = await api('POST', `/conversations/${conversationId}/reply`, acct.apiKeys.agent, { text: 'Your parcel left our warehouse today.' });
    expect(r.statusCode).toBeLessThan(300);
    const sent = await eventually(async () => (await messagesOf(conversationId)).find((m) => m.text === 'Your parcel left our warehouse today.' && m.deliveryStatus === 'sent' && m.externalId), 60_000);
    expect(client().sent.at(-1)).toMatchObject({ chatId: CUSTOMER, content: 'Your parcel left our warehouse today.' });
    const raw = { ...fromPhone(sent.externalId!.split('_').at(-1)!, sent.text), id: { fromMe: true, remote: CUSTOMER, id: sent.externalId!.split('_').at(-1)!, _serialized: sent.externalId! } };
    client().ack(raw, 3);
    await eventually(async () => (await messageByExternal(conversationId, sent.externalId!))?.deliveryStatus === 'read', 30_000);
    client().ack(raw, 2); // a late "delivered" after "read"
    client().receive(textFromCustomer('3EB0MARKER0000000001', 'thanks!'));
    await eventually(async () => messageByExternal(conversationId, `false_${CUSTOMER}_3EB0MARKER0000000001`), 30_000);
    expect((await messageByExternal(conversationId, sent.externalId!))?.deliveryStatus).toBe('read');
    // One message for the reply: the echo the phone gave before sendMessage answered confirmed it, nothing more.
    expect((await messagesOf(conversationId)).length).toBe(before + 2);
  });

  it('a reply with a file goes out through the phone as MessageMedia of the bytes in our blob store, the text as caption', async () => {
    const conversationId = (await conversationOf(CUSTOMER))!;
    const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('parcel photo')]);
    const up = await t.app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/uploads?name=parcel.png`, headers: { authorization: `Bearer ${acct.apiKeys.agent}`, 'content-type': 'image/png' }, payload: PNG });
    expect(up.statusCode, up.body).toBe(201);
    const r = await api('POST', `/conversations/${conversationId}/reply`, acct.apiKeys.agent, { text: 'This one?', uploadIds: [up.json().id] });
    expect(r.statusCode, r.body).toBeLessThan(300);
    const sent = await eventually(async () => (await messagesOf(conversationId)).find((m) => m.id === r.json().id && m.deliveryStatus === 'sent' && m.externalId), 60_000);
    const out = client().sent.find((s) => s.media);
    expect(out).toMatchObject({ chatId: CUSTOMER, content: 'This one?', media: { mimetype: 'image/png', filename: 'parcel.png', data: PNG.toString('base64') } });
    expect(out!.media).toBeInstanceOf(client().MessageMedia);
    // Its echo confirmed it: still one message for the reply.
    expect((await messagesOf(conversationId)).filter((m) => m.externalId === sent.externalId)).toHaveLength(1);
  });

  it('the phone unlinking: the listener closes that browser and starts over with a new QR', async () => {
    const first = client();
    first.script = 'qr';
    factory.clients.length = 0;
    first.emit('disconnected', 'LOGOUT');
    await eventually(async () => factory.clients.length > 0, 30_000);
    const link = await eventually(async () => {
      const l = (await channelView(acct.apiKeys.admin)).link;
      return l?.state === 'qr_required' ? l : undefined;
    }, 30_000);
    expect(link.qr).toMatch(/^2@fakeRef/);
    expect(first.destroyed).toBeGreaterThan(0);
  });
});
