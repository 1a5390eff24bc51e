import { describe, expect, it } from 'vitest';
import { ackEvent, editEvent, messageEvent, revokeEvent, WA_WEB_MEDIA_REF } from './normalize.js';
import { FakeWaWebClient } from './testing/fake-client.js';
import { CUSTOMER, GROUP, LID_CUSTOMER, edited, fromLidCustomer, fromPhone, imageFromCustomer, inGroup, revokedStandIn, textFromCustomer, voiceFromCustomer } from './testing/recorded.js';

// The library's own Message objects (built by its constructor from recorded data) through our normalisation.
const client = new FakeWaWebClient({ clientId: 'c', executablePath: '/usr/bin/chromium', auth: { kind: 'local', dataPath: '/nonexistent' } });
const msg = (data: Record<string, unknown>) => new client.Message(client, data);
const CH = 'channel-1';

describe('whatsapp-web.js messages as normalized events', () => {
  it('a customer text: inbound, the chat id as identity and thread, the phone from a @c.us id', async () => {
    const e = await messageEvent(CH, msg(textFromCustomer()));
    expect(e).toMatchObject({
      type: 'message',
      message: {
        channel: { kind: 'whatsapp-web', channelId: CH },
        externalId: `false_${CUSTOMER}_3EB0C767D26A1D8A5F7B`,
        threadKey: `whatsapp-web:${CH}:${CUSTOMER}`,
        direction: 'inbound',
        sender: { externalId: CUSTOMER, displayName: 'Maija Meikäläinen', address: '358409998877', isBot: false },
        sentAt: new Date(1_765_000_000_000).toISOString(),
        text: 'Hi, my order #1234 has not arrived',
        attachments: [],
      },
    });
  });

  it('a @lid sender is its own identity: no phone, none looked up', async () => {
    const e = await messageEvent(CH, msg(fromLidCustomer()));
    if (e.type !== 'message') throw new Error(e.type);
    expect(e.message.sender).toEqual({ externalId: LID_CUSTOMER, displayName: 'Anonymous Buyer', isBot: false });
    expect(e.message.threadKey).toBe(`whatsapp-web:${CH}:${LID_CUSTOMER}`);
  });

  it('groups, status updates and broadcasts are ignored with a reason', async () => {
    expect(await messageEvent(CH, msg(inGroup()))).toEqual({ type: 'ignored', reason: `group chat ${GROUP}: groups are not support conversations` });
    const status = { ...textFromCustomer('3EB0STATUS0000000001'), from: 'status@broadcast', id: { fromMe: false, remote: 'status@broadcast', id: 'S1', _serialized: 'false_status@broadcast_S1' } };
    expect(await messageEvent(CH, msg(status))).toEqual({ type: 'ignored', reason: 'a status update, not a message' });
  });

  it('media the library downloads is carried inline with its type and name', async () => {
    const data = imageFromCustomer();
    const m = msg(data);
    client.media.set(m.id._serialized, { data: Buffer.from('jpeg bytes').toString('base64'), mimetype: 'image/jpeg', filename: null, filesize: 10 });
    const e = await messageEvent(CH, m);
    if (e.type !== 'message') throw new Error(e.type);
    expect(m.hasMedia).toBe(true);
    expect(e.message.text).toBe('the damaged box'); // the caption, not the thumbnail in body
    expect(e.message.attachments).toEqual([{ kind: 'image', ref: `inline:${Buffer.from('jpeg bytes').toString('base64')}`, mimeType: 'image/jpeg' }]);
  });

  it('media downloadMedia() gives nothing for is fetched later by reference, with what the message declared', async () => {
    const m = msg(voiceFromCustomer());
    client.media.set(m.id._serialized, null);
    const e = await messageEvent(CH, m);
    if (e.type !== 'message') throw new Error(e.type);
    expect(e.message.attachments).toEqual([{ kind: 'audio', ref: `${WA_WEB_MEDIA_REF}${m.id._serialized}`, fetchLater: true, mimeType: 'audio/ogg', size: 9120 }]);
    expect(e.message.details).toEqual({ voice: true });
  });

  it('a message typed on the linked phone: outbound, our staff, in the customer chat', async () => {
    const e = await messageEvent(CH, msg(fromPhone()));
    expect(e).toMatchObject({ type: 'message', message: { direction: 'outbound', threadKey: `whatsapp-web:${CH}:${CUSTOMER}`, sender: { externalId: 'phone', staff: true }, text: 'We are on it, sorry for the wait' } });
  });

  it('acks become delivery statuses; pending says nothing, a customer message has none', () => {
    const ours = fromPhone();
    const id = `true_${CUSTOMER}_3EB0F0F1F2F3F4F5F6F7`;
    expect(ackEvent(CH, msg({ ...ours, ack: 1 }), 1)).toEqual({ type: 'status', channelId: CH, externalId: id, status: 'sent' });
    expect(ackEvent(CH, msg({ ...ours, ack: 2 }), 2)).toMatchObject({ status: 'delivered' });
    expect(ackEvent(CH, msg({ ...ours, ack: 3 }), 3)).toMatchObject({ status: 'read' });
    expect(ackEvent(CH, msg({ ...ours, ack: 4 }), 4)).toMatchObject({ status: 'read' }); // played (voice)
    expect(ackEvent(CH, msg({ ...ours, ack: -1 }), -1)).toMatchObject({ status: 'failed', error: expect.stringContaining('whatsapp_web_send_failed') });
    expect(ackEvent(CH, msg(ours), 0)).toMatchObject({ type: 'ignored' });
    expect(ackEvent(CH, msg(textFromCustomer()), 3)).toMatchObject({ type: 'ignored' });
  });

  it('a revoke names the original message through protocolMessageKey', () => {
    const original = textFromCustomer();
    expect(revokeEvent(CH, msg(revokedStandIn(original)))).toEqual({
      type: 'deleted', channelId: CH, externalId: `false_${CUSTOMER}_3EB0C767D26A1D8A5F7B`, deletedAt: new Date(1_765_000_700_000).toISOString(), threadKey: `whatsapp-web:${CH}:${CUSTOMER}`,
    });
  });

  it('an edit carries the new text and the edit time', () => {
    const original = textFromCustomer();
    expect(editEvent(CH, msg(edited(original, 'my order #1235, sorry')), 'my order #1235, sorry')).toEqual({
      type: 'edited', channelId: CH, externalId: `false_${CUSTOMER}_3EB0C767D26A1D8A5F7B`, text: 'my order #1235, sorry', editedAt: new Date(1_765_000_800_000).toISOString(), threadKey: `whatsapp-web:${CH}:${CUSTOMER}`,
    });
  });
});
