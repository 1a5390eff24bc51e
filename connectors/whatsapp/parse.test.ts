import { describe, expect, it } from 'vitest';
import type { InboundEvent, NormalizedMessage } from '../core/types.js';
import { MetaBodyError } from '../meta/body.js';
import { whatsappWebhooks as wa } from '../meta/testing/emulator.js';
import { splitWhatsAppWebhook, whatsappEvents } from './parse.js';

const NUMBER = '1122334455667';
const CH = '00000000-0000-4000-8000-000000000001';
const customer = { waId: '358401234567', userId: 'US.13491208655302741918', name: 'Aino' };
const at = new Date('2026-01-02T03:04:05Z');

function events(body: unknown, number = NUMBER): InboundEvent[] {
  return whatsappEvents(CH, splitWhatsAppWebhook(body).byNumber.get(number) ?? []);
}

function message(fields: { type: string } & Record<string, unknown>, who = customer): NormalizedMessage {
  const [e] = events(wa.message(NUMBER, who, { id: 'wamid.M1', at, ...fields }));
  expect(e?.type).toBe('message');
  return (e as Extract<InboundEvent, { type: 'message' }>).message;
}

describe('WhatsApp webhook parsing', () => {
  it('text: business-scoped user id as identity, the phone kept as address, one thread per customer', () => {
    const m = message({ type: 'text', text: { body: 'Hei!' } });
    expect(m).toMatchObject({
      channel: { kind: 'whatsapp', channelId: CH },
      externalId: 'wamid.M1',
      threadKey: `whatsapp:${CH}:US.13491208655302741918`,
      direction: 'inbound',
      sender: { externalId: 'US.13491208655302741918', address: '358401234567', displayName: 'Aino', isBot: false },
      sentAt: '2026-01-02T03:04:05.000Z',
      text: 'Hei!',
      attachments: [],
    });
  });

  it('a username customer without a phone: the user id only, no address', () => {
    const m = message({ type: 'text', text: { body: 'hi' } }, { userId: 'US.999', name: 'anon' } as typeof customer);
    expect(m.sender).toEqual({ externalId: 'US.999', displayName: 'anon', isBot: false });
  });

  it('no user id (older payloads): the wa_id is the identity', () => {
    const m = message({ type: 'text', text: { body: 'hi' } }, { waId: '15550002222' } as typeof customer);
    expect(m.sender.externalId).toBe('15550002222');
    expect(m.threadKey).toBe(`whatsapp:${CH}:15550002222`);
  });

  it.each([
    ['image', { image: { id: 'MEDIA1', mime_type: 'image/jpeg', sha256: 'abc', caption: 'kuva' } }, 'image', 'kuva'],
    ['video', { video: { id: 'MEDIA1', mime_type: 'video/mp4' } }, 'video', ''],
    ['audio', { audio: { id: 'MEDIA1', mime_type: 'audio/ogg; codecs=opus', voice: true } }, 'audio', ''],
    ['document', { document: { id: 'MEDIA1', mime_type: 'application/pdf', filename: 'lasku.pdf', caption: 'lasku' } }, 'file', 'lasku'],
    ['sticker', { sticker: { id: 'MEDIA1', mime_type: 'image/webp', animated: true } }, 'image', ''],
  ])('%s: an attachment by media id, caption as text', (type, fields, kind, text) => {
    const m = message({ type, ...fields });
    expect(m.text).toBe(text);
    expect(m.attachments).toEqual([expect.objectContaining({ kind, ref: 'whatsapp-media:MEDIA1' })]);
    if (type === 'document') expect(m.attachments[0]!.name).toBe('lasku.pdf');
    if (type === 'audio') expect(m.details).toMatchObject({ voice: true });
  });

  it('location, contacts, order as readable text with the data kept in details', () => {
    expect(message({ type: 'location', location: { latitude: 60.17, longitude: 24.94, name: 'Kauppatori' } }).text).toBe('Location: Kauppatori\nhttps://maps.google.com/?q=60.17,24.94');
    const c = message({ type: 'contacts', contacts: [{ name: { formatted_name: 'Matti M' }, phones: [{ phone: '+358 40 1' }] }] });
    expect(c.text).toBe('Contact: Matti M (+358 40 1)');
    expect(c.details).toHaveProperty('contacts');
    const o = message({ type: 'order', order: { catalog_id: 'C1', product_items: [{ product_retailer_id: 'SKU', quantity: 2, item_price: 5, currency: 'EUR' }] } });
    expect(o.text).toBe('Order (catalog C1):\n2 × SKU at 5 EUR');
  });

  it('button and list replies, quick-reply buttons: the title as text, the id kept', () => {
    const b = message({ type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: 'yes', title: 'Kyllä' } }, context: { from: NUMBER, id: 'wamid.OURS' } });
    expect(b).toMatchObject({ text: 'Kyllä', inReplyToExternalId: 'wamid.OURS', details: { reply: { kind: 'button', id: 'yes' } } });
    const l = message({ type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: 'r2', title: 'Row', description: 'More' } } });
    expect(l).toMatchObject({ text: 'Row\nMore', details: { reply: { kind: 'list', id: 'r2' } } });
    expect(message({ type: 'button', button: { payload: 'P', text: 'Stop' } })).toMatchObject({ text: 'Stop', details: { reply: { kind: 'quick_reply', payload: 'P' } } });
  });

  it('reactions and their removal point at the message reacted to', () => {
    expect(message({ type: 'reaction', reaction: { message_id: 'wamid.X', emoji: '👍' } })).toMatchObject({ text: 'Reacted 👍', inReplyToExternalId: 'wamid.X' });
    expect(message({ type: 'reaction', reaction: { message_id: 'wamid.X', emoji: '' } })).toMatchObject({ text: 'Removed a reaction', inReplyToExternalId: 'wamid.X' });
  });

  it('replies, forwards and ad referrals', () => {
    expect(message({ type: 'text', text: { body: 'a' }, context: { from: NUMBER, id: 'wamid.Q' } }).inReplyToExternalId).toBe('wamid.Q');
    expect(message({ type: 'text', text: { body: 'a' }, context: { forwarded: true } }).details).toEqual({ forwarded: true });
    expect(message({ type: 'text', text: { body: 'a' }, referral: { source_type: 'ad', source_id: 'AD1', ctwa_clid: 'X' } }).details).toEqual({ referral: { source_type: 'ad', source_id: 'AD1', ctwa_clid: 'X' } });
  });

  it('edits and deletions name the original message', () => {
    const e = message({ type: 'edit', edit: { original_message_id: 'wamid.O', message: { type: 'text', text: { body: 'korjattu' } } } });
    expect(e).toMatchObject({ text: 'Edited: korjattu', inReplyToExternalId: 'wamid.O' });
    const d = message({ type: 'revoke', revoke: { original_message_id: 'wamid.O' } });
    expect(d).toMatchObject({ text: 'Deleted a message', inReplyToExternalId: 'wamid.O', autoReply: true });
  });

  it('unsupported and unknown types are kept as a notice, never dropped or thrown', () => {
    const u = message({ type: 'unsupported', errors: [{ code: 131051, title: 'Message type unknown' }], unsupported: { type: 'poll' } });
    expect(u.keptRaw).toEqual({ code: 'whatsapp_unsupported_message', reason: '131051 Message type unknown' });
    expect(u.text).toContain('unsupported (poll)');
    expect(message({ type: 'hologram', hologram: {} }).keptRaw?.code).toBe('whatsapp_unsupported_message');
  });

  it('a number change is stored as WhatsApp\'s own notice, never answered', () => {
    const s = message({ type: 'system', system: { body: 'User changed number', type: 'user_changed_number', wa_id: '358409999999' } });
    expect(s).toMatchObject({ text: 'User changed number', autoReply: true, details: { system: { type: 'user_changed_number', newWaId: '358409999999' } } });
  });

  it('statuses: sent/delivered/read, played as read, failed with its code and details, our message id as reference', () => {
    const recipient = customer.waId;
    const batch = wa.batch(
      wa.status(NUMBER, { id: 'wamid.S', status: 'sent', recipient, callbackData: 'our-id' }),
      wa.status(NUMBER, { id: 'wamid.S', status: 'played', recipient }),
      wa.status(NUMBER, { id: 'wamid.S', status: 'failed', recipient, error: { code: 131047, title: 'Re-engagement message', details: 'more than 24 hours' } }),
    );
    expect(events(batch)).toEqual([
      { type: 'status', channelId: CH, externalId: 'wamid.S', status: 'sent', reference: 'our-id' },
      { type: 'status', channelId: CH, externalId: 'wamid.S', status: 'read' },
      { type: 'status', channelId: CH, externalId: 'wamid.S', status: 'failed', error: '131047 Re-engagement message (more than 24 hours)' },
    ]);
  });

  it('splits one body per business number; changes without a number are ignored with a reason', () => {
    const body = wa.batch(wa.text(NUMBER, customer, { id: 'wamid.A', body: 'a' }), wa.text('999', customer, { id: 'wamid.B', body: 'b' }));
    (body.entry as unknown[]).push({ id: 'WABA', changes: [{ field: 'message_template_status_update', value: { event: 'APPROVED' } }] });
    const split = splitWhatsAppWebhook(body);
    expect([...split.byNumber.keys()]).toEqual([NUMBER, '999']);
    expect(split.ignored).toEqual([{ type: 'ignored', reason: 'whatsapp field "message_template_status_update" is not handled' }]);
    expect(events(body, '999').map((e) => e.type === 'message' && e.message.externalId)).toEqual(['wamid.B']);
  });

  it('garbage inside a valid body is ignored with a reason; a body that is no webhook is a clear error', () => {
    const body = { object: 'whatsapp_business_account', entry: [{ changes: [{ field: 'messages', value: { metadata: { phone_number_id: NUMBER }, messages: [{ type: 'text' }, 7], statuses: [{ id: 'x', status: 'warped' }] } }] }, 'junk'] };
    expect(events(body).map((e) => e.type)).toEqual(['ignored', 'ignored']);
    expect(splitWhatsAppWebhook(body).ignored).toEqual([{ type: 'ignored', reason: 'entry 1 has no changes list' }]);
    expect(() => splitWhatsAppWebhook({ botName: 'x' })).toThrow(MetaBodyError);
    expect(() => splitWhatsAppWebhook({ object: 'page', entry: [] })).toThrow(expect.objectContaining({ code: 'webhook_body_not_meta' }));
  });

  it('our side\'s messages from the WhatsApp Business app (smb_message_echoes) are outbound', () => {
    const body = { object: 'whatsapp_business_account', entry: [{ changes: [{ field: 'smb_message_echoes', value: { metadata: { phone_number_id: NUMBER }, message_echoes: [{ from: '15550001111', to: customer.waId, to_user_id: customer.userId, id: 'wamid.E', timestamp: '1767322000', type: 'text', text: { body: 'from the phone' } }] } }] }] };
    const [e] = events(body);
    expect(e).toMatchObject({ type: 'message', message: { direction: 'outbound', externalId: 'wamid.E', threadKey: `whatsapp:${CH}:${customer.userId}`, text: 'from the phone' } });
  });
});
