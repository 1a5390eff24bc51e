import { describe, expect, it } from 'vitest';
import type { InboundEvent, NormalizedMessage } from '../core/types.js';
import { MetaBodyError } from '../meta/body.js';
import { messengerWebhooks as ms } from '../meta/testing/emulator.js';
import { messengerEvents, splitMessengerWebhook } from './parse.js';

const PAGE = '100000000000001';
const PSID = '200000000000001';
const CH = '00000000-0000-4000-8000-000000000002';
const at = new Date('2026-01-02T03:04:05.678Z');

function events(body: unknown, page = PAGE, appIds: string[] = ['4242']): InboundEvent[] {
  return messengerEvents(CH, page, splitMessengerWebhook(body).byPage.get(page) ?? [], { appIds });
}

function one(fields: Record<string, unknown>, opts: { standby?: boolean } = {}): InboundEvent {
  const all = events(ms.item(PAGE, PSID, fields, { at, ...opts }));
  expect(all).toHaveLength(1);
  return all[0]!;
}

function message(fields: Record<string, unknown>, opts: { standby?: boolean } = {}): NormalizedMessage {
  const e = one(fields, opts);
  expect(e.type).toBe('message');
  return (e as Extract<InboundEvent, { type: 'message' }>).message;
}

describe('Messenger webhook parsing', () => {
  it('text: the PSID is the identity, one thread per customer and Page, millisecond timestamps', () => {
    expect(message({ message: { mid: 'm_1', text: 'Hei / moi' } })).toMatchObject({
      channel: { kind: 'messenger', channelId: CH },
      externalId: 'm_1',
      threadKey: `messenger:${CH}:${PSID}`,
      direction: 'inbound',
      sender: { externalId: PSID, isBot: false },
      sentAt: '2026-01-02T03:04:05.678Z',
      text: 'Hei / moi',
      attachments: [],
    });
  });

  it.each([
    ['image', 'image'],
    ['video', 'video'],
    ['audio', 'audio'],
    ['file', 'file'],
  ])('%s attachment: fetched later from its URL', (type, kind) => {
    const m = message({ message: { mid: 'm_a', attachments: [{ type, payload: { url: 'https://cdn.example/x?a=1' } }] } });
    expect(m.attachments).toEqual([{ kind, ref: 'messenger-url:https://cdn.example/x?a=1', fetchLater: true }]);
    expect(m.keptRaw).toBeUndefined();
  });

  it('sticker, location and fallback', () => {
    const sticker = message({ message: { mid: 'm_s', attachments: [{ type: 'image', payload: { url: 'https://cdn.example/s.png', sticker_id: 369239263222822 } }] } });
    expect([sticker.text, sticker.details]).toEqual(['Sticker', { sticker: { id: 369239263222822 } }]);
    const loc = message({ message: { mid: 'm_l', attachments: [{ type: 'location', title: 'Kamppi', payload: { coordinates: { lat: 60.17, long: 24.93 } } }] } });
    expect(loc.text).toBe('Location: Kamppi\nhttps://maps.google.com/?q=60.17,24.93');
    const fb = message({ message: { mid: 'm_f', attachments: [{ type: 'fallback', title: 'A page', url: 'https://example.com/p', payload: null }] } });
    expect([fb.text, fb.details]).toEqual(['A page\nhttps://example.com/p', { fallback: { title: 'A page', url: 'https://example.com/p' } }]);
  });

  it('an unknown attachment type is kept as a notice, never thrown', () => {
    const m = message({ message: { mid: 'm_u', attachments: [{ type: 'hologram', payload: {} }] } });
    expect(m.keptRaw).toMatchObject({ code: 'messenger_unsupported_message' });
    expect(m.text).toMatch(/cannot show/);
  });

  it('quick replies, reply_to and a referral on a message', () => {
    const m = message({ message: { mid: 'm_q', text: 'Yes', quick_reply: { payload: 'YES' }, reply_to: { mid: 'm_earlier' } } });
    expect(m.details).toEqual({ reply: { kind: 'quick_reply', payload: 'YES' } });
    expect(m.inReplyToExternalId).toBe('m_earlier');
  });

  it('postbacks: the button title as text, the payload kept; without mid a stable id from sender and time', () => {
    const m = message({ postback: { title: 'Say Hello', payload: 'HELLO' } });
    expect(m).toMatchObject({ externalId: `postback:${PSID}:${at.getTime()}`, text: 'Say Hello', details: { postback: { payload: 'HELLO', title: 'Say Hello' } } });
    expect(message({ postback: { mid: 'm_pb', title: 'T', payload: 'P' } }).externalId).toBe('m_pb');
  });

  it('a standalone referral is context: stored, never answered', () => {
    const m = message({ referral: { ref: 'SUMMER', source: 'SHORTLINK', type: 'OPEN_THREAD' } });
    expect(m).toMatchObject({ text: 'Opened the conversation from SHORTLINK (ref SUMMER)', autoReply: true });
  });

  it('reactions and their removal point at the message reacted to', () => {
    const r = message({ reaction: { mid: 'm_1', action: 'react', emoji: '❤', reaction: 'love' } });
    expect(r).toMatchObject({ text: 'Reacted ❤', inReplyToExternalId: 'm_1' });
    const u = message({ reaction: { mid: 'm_1', action: 'unreact', emoji: '❤', reaction: 'love' } });
    expect(u.text).toBe('Removed a reaction');
    expect(u.externalId).not.toBe(r.externalId);
  });

  it('edits replace the text of the message edited', () => {
    expect(one({ message_edit: { mid: 'm_1', text: 'fixed', num_edit: 1 } })).toEqual({ type: 'edited', channelId: CH, externalId: 'm_1', text: 'fixed', editedAt: at.toISOString(), threadKey: `messenger:${CH}:${PSID}` });
  });

  it('delivery: a delivered status for every mid named and a watermark; read is a watermark for every earlier send', () => {
    const all = events(ms.item(PAGE, PSID, { delivery: { mids: ['m_o1', 'm_o2'], watermark: at.getTime() } }, { at }));
    expect(all).toEqual([
      { type: 'status', channelId: CH, externalId: 'm_o1', status: 'delivered' },
      { type: 'status', channelId: CH, externalId: 'm_o2', status: 'delivered' },
      { type: 'watermark', channelId: CH, threadKey: `messenger:${CH}:${PSID}`, status: 'delivered', upTo: at.toISOString() },
    ]);
    expect(one({ read: { watermark: at.getTime() } })).toEqual({ type: 'watermark', channelId: CH, threadKey: `messenger:${CH}:${PSID}`, status: 'read', upTo: at.toISOString() });
    expect(one({ read: {} })).toMatchObject({ type: 'ignored' });
  });

  it('echoes: ours (our app id, or our message id in metadata) confirm the send; another app\'s is outbound by someone else', () => {
    const byApp = events(ms.echo(PAGE, PSID, { mid: 'm_e1', text: 'x', appId: 4242, at }));
    expect(byApp).toEqual([{ type: 'status', channelId: CH, externalId: 'm_e1', status: 'sent' }]);
    const byMeta = events(ms.echo(PAGE, PSID, { mid: 'm_e2', text: 'x', appId: 1, metadata: 'hummdesk:11111111-2222-4333-8444-555555555555', at }));
    expect(byMeta).toEqual([{ type: 'status', channelId: CH, externalId: 'm_e2', status: 'sent', reference: '11111111-2222-4333-8444-555555555555' }]);
    const [inbox] = events(ms.echo(PAGE, PSID, { mid: 'm_e3', text: 'From the Page inbox', appId: 263902037430900, at }));
    expect(inbox).toMatchObject({ type: 'message', message: { direction: 'outbound', externalId: 'm_e3', threadKey: `messenger:${CH}:${PSID}`, text: 'From the Page inbox', sender: { externalId: PAGE }, details: { echo: { appId: '263902037430900' } }, elsewhere: { by: 'messenger_page_inbox' } } });
    const [bot] = events(ms.echo(PAGE, PSID, { mid: 'm_e4', text: 'Bot says hi', appId: 777, at }));
    expect(bot).toMatchObject({ message: { direction: 'outbound', elsewhere: { by: 'messenger_app:777' } } });
  });

  it('handover: thread control passed to us, taken by the Page inbox, or requested', () => {
    const thread = `messenger:${CH}:${PSID}`;
    expect(one({ pass_thread_control: { previous_owner_app_id: '263902037430900', new_owner_app_id: '4242', metadata: 'x' } })).toEqual({
      type: 'control', channelId: CH, threadKey: thread, owner: 'us', appId: '4242', previousAppId: '263902037430900', at: at.toISOString(),
    });
    expect(one({ take_thread_control: { previous_owner_app_id: 4242, new_owner_app_id: 263902037430900 } })).toMatchObject({ type: 'control', owner: 'other', appId: '263902037430900', previousAppId: '4242' });
    // Older payloads name only the app that lost the thread: it went to someone else.
    expect(one({ take_thread_control: { previous_owner_app_id: '4242', metadata: 'inbox' } })).toMatchObject({ type: 'control', owner: 'other', appId: null, previousAppId: '4242' });
    expect(one({ request_thread_control: { requested_owner_app_id: 263902037430900 } })).toMatchObject({ type: 'ignored', reason: expect.stringContaining('asked for the thread') });
  });

  it('standby: another app owns the thread, so messages are context only', () => {
    const m = message({ message: { mid: 'm_sb', text: 'hello?' } }, { standby: true });
    expect(m).toMatchObject({ autoReply: true, details: { standby: true } });
  });

  it('one body with several Pages is split per Page; entries without items, unknown events are ignored with reasons', () => {
    const body = ms.batch(ms.text(PAGE, PSID, { mid: 'm_A', text: 'a' }), ms.text('100000000000009', PSID, { mid: 'm_B', text: 'b' }), { entry: [{ id: PAGE, changes: [] }] });
    const split = splitMessengerWebhook(body);
    expect([...split.byPage.keys()]).toEqual([PAGE, '100000000000009']);
    expect(split.ignored).toEqual([{ type: 'ignored', reason: `entry 2 of Page ${PAGE} has no messaging or standby list (Page feed changes are not handled)` }]);
    expect(one({ something_new: { x: 1 } })).toEqual({ type: 'ignored', reason: 'a Messenger "something_new" event is not handled' });
    expect(events(ms.item(PAGE, PAGE, { message: { mid: 'm_self', text: 'x' } }))[0]).toMatchObject({ type: 'ignored' });
  });

  it('a body that is not a Page notification is a clear error', () => {
    expect(() => splitMessengerWebhook({ object: 'whatsapp_business_account', entry: [] })).toThrow(MetaBodyError);
    expect(() => splitMessengerWebhook([1])).toThrow(expect.objectContaining({ code: 'webhook_body_not_meta' }));
  });
});
