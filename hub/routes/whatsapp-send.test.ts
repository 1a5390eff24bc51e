import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { GraphEmulator, signedWebhook, whatsappWebhooks as wa } from '../../connectors/meta/testing/emulator.js';

/*
 * WhatsApp Cloud API outbound, end to end: webhooks signed as Meta signs them into the hub, replies out
 * through the deliver job to the local Graph emulator, its status webhooks back into the hub.
 */

const SECRET = 'send-meta-app-secret';
const NUMBER = '100000000000071';
const WABA = '200000000000071';
const WAIT = 60_000;

describe('WhatsApp replies end to end (files, buttons, templates, window, read marks)', () => {
  let t: TestHub;
  let graph: GraphEmulator;
  let a: TestAccount;
  let channelId: string;

  const api = (method: 'GET' | 'POST', url: string, payload?: unknown, token = a.users.agent.token) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
  const post = (body: unknown) => {
    const signed = signedWebhook(SECRET, body);
    return t.app.inject({ method: 'POST', url: '/webhooks/whatsapp', payload: signed.payload, headers: signed.headers });
  };
  const delivery = async (id: string) =>
    (await t.hub.db.query<{ delivery_status: string; delivery_error: string | null; external_id: string | null }>(`SELECT delivery_status, delivery_error, external_id FROM messages WHERE id = $1`, [id])).rows[0]!;
  const settled = (id: string) => eventually(async () => {
    const d = await delivery(id);
    return d.delivery_status === 'queued' || d.delivery_status === 'sending' ? undefined : d;
  }, WAIT);
  const count = async (sql: string, params: unknown[] = []) => Number((await t.hub.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${sql}`, params)).rows[0]!.n);

  /** A customer writes; the conversation and their message's id. */
  const customerWrites = async (customer: { waId?: string; userId?: string; name?: string }, wamid: string, body: string) => {
    graph.customerWrote(NUMBER, customer.waId ?? customer.userId!);
    const res = await post(wa.text(NUMBER, customer, { id: wamid, body }));
    expect(res.json().results, res.body).toEqual(['created']);
    const row = (await t.hub.db.query<{ id: string; conversation_id: string }>(`SELECT id, conversation_id FROM messages WHERE external_id = $1`, [wamid])).rows[0]!;
    return { conversationId: row.conversation_id, messageId: row.id };
  };

  beforeAll(async () => {
    graph = await GraphEmulator.start();
    graph.addNumber({ id: NUMBER, token: 'token-send', wabaId: WABA });
    graph.addTemplate(WABA, { name: 'order_update', language: 'fi', body: 'Hei {{1}}, tilauksesi {{2}} on matkalla.' });
    graph.addTemplate(WABA, { name: 'still_pending', language: 'fi', body: 'Odota', status: 'PENDING' });
    t = await startTestHub({ env: { HUMMDESK_META_APP_SECRET: SECRET, HUMMDESK_META_VERIFY_TOKEN: 'vt', HUMMDESK_META_GRAPH_URL: graph.url } });
    a = await createTestAccount(t);
    const res = await api('POST', '/channels', { kind: 'whatsapp', name: 'WhatsApp', externalKey: NUMBER, secrets: { accessToken: 'token-send' } }, a.users.admin.token);
    expect(res.statusCode, res.body).toBe(201);
    channelId = res.json().id;
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    graph.webhookTarget = { url: `${address}/webhooks/whatsapp`, appSecret: SECRET, statuses: ['sent', 'delivered', 'read'] };
  });
  afterAll(async () => {
    if (graph) graph.webhookTarget = undefined;
    await t?.close();
    await graph?.close();
  });

  it('text in → an agent answers through hub.conversations → the emulator\'s inbox → statuses back, and the customer sees it read', async () => {
    const { conversationId, messageId } = await customerWrites({ waId: '358407000001', userId: 'US.7001', name: 'Aino' }, 'wamid.IN-1', 'Missä pakettini on?');
    const view = await api('GET', `/conversations/${conversationId}`);
    const inboundAt = (await t.hub.db.query<{ sent_at: Date }>(`SELECT sent_at FROM messages WHERE id = $1`, [messageId])).rows[0]!.sent_at;
    expect(view.json().channelWindow).toEqual({ kind: 'whatsapp', closesAt: new Date(inboundAt.getTime() + 24 * 3600_000).toISOString(), open: true, state: 'open' });
    const reply = await t.hub.conversations.reply({ accountId: a.accountId, kind: 'user', id: a.users.agent.id }, conversationId, { text: 'Se on matkalla 🚚' });
    const sent = await eventually(async () => graph.inbox.find((m) => m.bizOpaqueCallbackData === reply.id), WAIT);
    expect(sent).toMatchObject({ to: '358407000001', type: 'text', text: 'Se on matkalla 🚚' });
    // Meta's sent, delivered and read webhooks come back signed; the message ends read.
    await eventually(async () => (await delivery(reply.id)).delivery_status === 'read', WAIT);
    expect(await delivery(reply.id)).toMatchObject({ external_id: sent.id });
    // Answering marked the customer's message read (blue ticks), once.
    await eventually(async () => graph.readMarks.some((r) => r.messageId === 'wamid.IN-1'), WAIT);
    expect((await api('POST', `/conversations/${conversationId}/read`)).statusCode).toBe(204);
    expect(graph.readMarks.filter((r) => r.messageId === 'wamid.IN-1')).toHaveLength(1);
  });

  it('an agent opening a conversation marks the customer\'s latest message read; a viewer opening it does not', async () => {
    const { conversationId } = await customerWrites({ waId: '358407000002' }, 'wamid.IN-OPEN', 'Hei?');
    expect((await api('POST', `/conversations/${conversationId}/read`, undefined, a.users.viewer.token)).statusCode).toBe(204);
    expect(await count(`outbox WHERE topic = 'channel.read' AND payload->>'conversationId' = $1`, [conversationId])).toBe(0);
    expect((await api('POST', `/conversations/${conversationId}/read`)).statusCode).toBe(204);
    await eventually(async () => graph.readMarks.some((r) => r.messageId === 'wamid.IN-OPEN'), WAIT);
  });

  it('a file reply is uploaded first and sent by its media id, with the text as caption', async () => {
    const { conversationId } = await customerWrites({ waId: '358407000003' }, 'wamid.IN-FILE', 'Lähetä kuitti');
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(4000, 9)]);
    const res = await api('POST', `/conversations/${conversationId}/reply`, { text: 'Tässä kuitti', attachments: [{ name: 'kuitti.png', mimeType: 'image/png', contentBase64: png.toString('base64') }] });
    expect(res.statusCode, res.body).toBe(202);
    expect(await settled(res.json().id)).toMatchObject({ delivery_status: expect.stringMatching(/^(sent|delivered|read)$/) });
    const sent = graph.inbox.find((m) => m.bizOpaqueCallbackData === res.json().id)!;
    expect(sent).toMatchObject({ type: 'image', text: 'Tässä kuitti', media: { mimeType: 'image/png' } });
    expect(sent.media!.bytes.equals(png)).toBe(true);
    expect(graph.uploads.find((u) => u.id === sent.media!.id)).toMatchObject({ filename: 'kuitti.png', size: png.length });
  });

  it('buttons, lists, quotes and reactions go out; anything past WhatsApp\'s limits is refused with its code, nothing stored or sent', async () => {
    const { conversationId, messageId } = await customerWrites({ waId: '358407000004' }, 'wamid.IN-RICH', 'Voinko vaihtaa koon?');
    const ok = async (payload: Record<string, unknown>) => {
      const res = await api('POST', `/conversations/${conversationId}/reply`, payload);
      expect(res.statusCode, res.body).toBe(202);
      await settled(res.json().id);
      return graph.inbox.find((m) => m.bizOpaqueCallbackData === res.json().id)!;
    };
    expect(await ok({ text: 'Kyllä voit', quoteMessageId: messageId, buttons: [{ id: 'size_s', title: 'S' }, { id: 'size_m', title: 'M' }, { id: 'size_l', title: 'L' }] }))
      .toMatchObject({ type: 'interactive', quotes: 'wamid.IN-RICH', buttons: [{ id: 'size_s', title: 'S' }, { id: 'size_m', title: 'M' }, { id: 'size_l', title: 'L' }] });
    expect(await ok({ text: 'Valitse koko', list: { button: 'Koot', sections: [{ rows: [{ id: 's', title: 'Small', description: 'EU 36–38' }] }] } })).toMatchObject({ type: 'interactive', list: { button: 'Koot' } });
    expect(await ok({ text: '', reaction: { messageId, emoji: '👍' } })).toMatchObject({ type: 'reaction', reaction: { messageId: 'wamid.IN-RICH', emoji: '👍' } });

    const before = { sent: graph.inbox.length, stored: await count('messages WHERE conversation_id = $1', [conversationId]) };
    const refused = async (payload: Record<string, unknown>, code: string) => {
      const res = await api('POST', `/conversations/${conversationId}/reply`, payload);
      expect([res.statusCode, res.json().error?.code], res.body).toEqual([400, code]);
    };
    await refused({ text: 'q', buttons: [1, 2, 3, 4].map((i) => ({ id: `b${i}`, title: `B${i}` })) }, 'whatsapp_too_many_buttons');
    await refused({ text: 'q', buttons: [{ id: 'b', title: 'x'.repeat(21) }] }, 'whatsapp_button_title_too_long');
    await refused({ text: 'q', list: { button: 'B', sections: [{ rows: Array.from({ length: 11 }, (_, i) => ({ id: `r${i}`, title: `R${i}` })) }] } }, 'whatsapp_too_many_rows');
    await refused({ text: 'q', list: { button: 'B', sections: [{ rows: [{ id: 'r', title: 'x'.repeat(25) }] }] } }, 'whatsapp_row_title_too_long');
    await refused({ text: 'q', list: { button: 'B', sections: [{ rows: [{ id: 'r', title: 'r', description: 'x'.repeat(73) }] }] } }, 'whatsapp_row_description_too_long');
    await refused({ text: 'x'.repeat(1025), attachments: [{ name: 'a.png', mimeType: 'image/png', contentBase64: 'iVBORw0K' }] }, 'whatsapp_caption_too_long');
    await refused({ text: 'x'.repeat(4097) }, 'whatsapp_text_too_long');
    await refused({ text: 'lainaus', quoteMessageId: '00000000-0000-4000-8000-000000000000' }, 'quote_not_found');
    expect(graph.inbox.length).toBe(before.sent);
    expect(await count('messages WHERE conversation_id = $1', [conversationId])).toBe(before.stored);
  });

  it('outside the 24-hour window free text is refused and the closing time shown; an approved template goes out instead', async () => {
    const { conversationId } = await customerWrites({ userId: 'US.7005', name: 'Usernamed' }, 'wamid.IN-OLD', 'Hei');
    await t.hub.db.query(`UPDATE messages SET sent_at = now() - interval '30 hours' WHERE conversation_id = $1 AND direction = 'inbound'`, [conversationId]);
    const view = (await api('GET', `/conversations/${conversationId}`)).json();
    expect(view.channelWindow).toMatchObject({ kind: 'whatsapp', open: false, state: 'closed' });
    expect(Date.parse(view.channelWindow.closesAt)).toBeLessThan(Date.now());
    const late = await api('POST', `/conversations/${conversationId}/reply`, { text: 'Vieläkö ehdin?' });
    expect([late.statusCode, late.json().error.code]).toEqual([400, 'whatsapp_window_closed']);

    // Templates: synced from the business account (approved only), then sent with checked variables.
    const noWaba = await api('POST', `/channels/${channelId}/templates/sync`, {}, a.users.admin.token);
    expect([noWaba.statusCode, noWaba.json().error.code]).toEqual([400, 'whatsapp_business_account_id_required']);
    const sync = await api('POST', `/channels/${channelId}/templates/sync`, { businessAccountId: WABA }, a.users.admin.token);
    expect(sync.statusCode, sync.body).toBe(200);
    expect(sync.json().items.map((x: { name: string; params: number }) => [x.name, x.params])).toEqual([['order_update', 2]]);
    expect((await api('GET', `/channels/${channelId}/templates`)).json().items).toHaveLength(1);

    const before = graph.inbox.length;
    const wrongCount = await api('POST', `/conversations/${conversationId}/template`, { name: 'order_update', language: 'fi', variables: ['Aino'] });
    expect([wrongCount.statusCode, wrongCount.json().error.code]).toEqual([400, 'whatsapp_template_params_mismatch']);
    const badFormat = await api('POST', `/conversations/${conversationId}/template`, { name: 'order_update', language: 'fi', variables: ['Aino', 'kaksi\nriviä'] });
    expect([badFormat.statusCode, badFormat.json().error.code]).toEqual([400, 'whatsapp_template_variable_invalid']);
    const unknown = await api('POST', `/conversations/${conversationId}/template`, { name: 'still_pending', language: 'fi', variables: [] });
    expect([unknown.statusCode, unknown.json().error.code]).toEqual([400, 'whatsapp_template_not_found']);
    expect(graph.inbox.length).toBe(before);

    const res = await api('POST', `/conversations/${conversationId}/template`, { name: 'order_update', language: 'fi', variables: ['Aino', '#4521'] });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().text).toBe('Hei Aino, tilauksesi #4521 on matkalla.');
    await eventually(async () => ['sent', 'delivered', 'read'].includes((await delivery(res.json().id)).delivery_status), WAIT);
    expect(graph.inbox.find((m) => m.bizOpaqueCallbackData === res.json().id)).toMatchObject({
      recipient: 'US.7005', type: 'template', template: { name: 'order_update', language: 'fi', variables: ['Aino', '#4521'] },
    });

    // Meta pauses the template: its status webhook is applied, and it can no longer be sent.
    expect(await graph.setTemplateStatus(WABA, 'order_update', 'fi', 'PAUSED', 'LOW_QUALITY')).toBe(200);
    expect((await api('GET', `/channels/${channelId}/templates`)).json().items[0]).toMatchObject({ status: 'PAUSED', statusReason: 'LOW_QUALITY' });
    const paused = await api('POST', `/conversations/${conversationId}/template`, { name: 'order_update', language: 'fi', variables: ['Aino', '#4521'] });
    expect([paused.statusCode, paused.json().error.code]).toEqual([400, 'whatsapp_template_not_found']);
    await graph.setTemplateStatus(WABA, 'order_update', 'fi', 'APPROVED');
    expect((await api('GET', `/channels/${channelId}/templates`)).json().items[0]).toMatchObject({ status: 'APPROVED', statusReason: null });

    // A template Meta approves later is fetched by a sync the webhook starts.
    expect(await graph.setTemplateStatus(WABA, 'still_pending', 'fi', 'APPROVED')).toBe(200);
    await eventually(async () => (await api('GET', `/channels/${channelId}/templates`)).json().items.some((x: { name: string }) => x.name === 'still_pending'), WAIT);
  });

  it('a template\'s header (text or an uploaded image) and button parameters are checked against the synced template, then sent in Graph\'s shape', async () => {
    graph.addTemplate(WABA, { name: 'shipped', language: 'en_US', header: { format: 'TEXT', text: 'Order {{1}}' }, body: 'Hi {{1}}, it shipped.', buttons: [{ type: 'QUICK_REPLY', text: 'Thanks' }, { type: 'URL', text: 'Track', url: 'https://track.example/{{1}}' }] });
    graph.addTemplate(WABA, { name: 'promo', language: 'en_US', header: { format: 'IMAGE' }, body: 'New in store, {{1}}.' });
    expect((await api('POST', `/channels/${channelId}/templates/sync`, {}, a.users.admin.token)).statusCode).toBe(200);
    const { conversationId } = await customerWrites({ userId: 'US.7006', name: 'Header' }, 'wamid.IN-HDR', 'Hei');
    await t.hub.db.query(`UPDATE messages SET sent_at = now() - interval '30 hours' WHERE conversation_id = $1 AND direction = 'inbound'`, [conversationId]);
    const template = (body: Record<string, unknown>) => api('POST', `/conversations/${conversationId}/template`, { language: 'en_US', ...body });
    const refused = async (body: Record<string, unknown>) => {
      const res = await template(body);
      return [res.statusCode, res.json().error?.code];
    };
    const stored = await count(`messages WHERE conversation_id = $1 AND direction = 'outbound'`, [conversationId]);
    expect(await refused({ name: 'shipped', variables: ['Aino'], buttons: [{ index: 1, urlSuffix: '42' }] })).toEqual([400, 'whatsapp_template_header_missing']);
    expect(await refused({ name: 'shipped', variables: ['Aino'], header: { text: '#42' } })).toEqual([400, 'whatsapp_template_button_missing']);
    expect(await refused({ name: 'shipped', variables: ['Aino'], header: { text: '#42' }, buttons: [{ index: 1, urlSuffix: '42' }, { index: 0, urlSuffix: 'x' }] })).toEqual([400, 'whatsapp_template_button_mismatch']);
    expect(await refused({ name: 'shipped', variables: ['Aino'], header: { text: '#42' }, buttons: [{ index: 1, payload: 'x' }] })).toEqual([400, 'whatsapp_template_button_mismatch']);
    expect(await refused({ name: 'promo', variables: ['Aino'] })).toEqual([400, 'whatsapp_template_header_missing']);
    expect(await refused({ name: 'promo', variables: ['Aino'], header: { text: 'x' } })).toEqual([400, 'whatsapp_template_header_format']);
    expect(await refused({ name: 'promo', variables: ['Aino'], header: { uploadId: '00000000-0000-4000-8000-000000000000' } })).toEqual([400, 'upload_unknown']);
    const upload = (name: string, type: string, bytes: Buffer) =>
      t.app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/uploads?name=${encodeURIComponent(name)}`, headers: { authorization: `Bearer ${a.users.agent.token}`, 'content-type': type }, payload: bytes });
    const pdf = await upload('flyer.pdf', 'application/pdf', Buffer.from('%PDF-1.4 flyer'));
    expect(pdf.statusCode, pdf.body).toBe(201);
    expect(await refused({ name: 'promo', variables: ['Aino'], header: { uploadId: pdf.json().id } })).toEqual([400, 'whatsapp_template_header_format']);
    expect(await count(`messages WHERE conversation_id = $1 AND direction = 'outbound'`, [conversationId])).toBe(stored);

    const res = await template({ name: 'shipped', variables: ['Aino'], header: { text: '#42' }, buttons: [{ index: 0, payload: 'thanks-42' }, { index: 1, urlSuffix: '42' }] });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().text).toBe('Order #42\n\nHi Aino, it shipped.');
    const sent = await eventually(async () => graph.inbox.find((m) => m.bizOpaqueCallbackData === res.json().id), WAIT);
    expect(sent).toMatchObject({ recipient: 'US.7006', type: 'template', template: { name: 'shipped', header: { type: 'text', text: '#42' }, buttons: [{ index: 0, subType: 'quick_reply', value: 'thanks-42' }, { index: 1, subType: 'url', value: '42' }] } });

    const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('a small png')]);
    const png = await upload('new.png', 'image/png', PNG);
    expect(png.statusCode, png.body).toBe(201);
    const promo = await template({ name: 'promo', variables: ['Aino'], header: { uploadId: png.json().id } });
    expect(promo.statusCode, promo.body).toBe(202);
    expect(promo.json().attachments.map((x: { name: string }) => x.name)).toEqual(['new.png']);
    const out = await eventually(async () => graph.inbox.find((m) => m.bizOpaqueCallbackData === promo.json().id), WAIT);
    expect(out).toMatchObject({ type: 'template', text: 'New in store, Aino.', template: { header: { type: 'image', mimeType: 'image/png' } } });
    expect(out.media!.bytes.equals(PNG)).toBe(true);
    expect((await settled(promo.json().id)).delivery_status).not.toBe('failed');
  });

  it('an uploaded file is held to WhatsApp\'s limits when the reply is made, not only when it is sent', async () => {
    const { conversationId } = await customerWrites({ waId: '358407000009', name: 'Big' }, 'wamid.IN-BIG', 'Lähetä kuva');
    const big = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(6 * 1024 * 1024)]);
    const up = await t.app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/uploads?name=big.png`, headers: { authorization: `Bearer ${a.users.agent.token}`, 'content-type': 'image/png' }, payload: big });
    expect(up.statusCode, up.body).toBe(201);
    const reply = await api('POST', `/conversations/${conversationId}/reply`, { text: 'Tässä', uploadIds: [up.json().id] });
    expect([reply.statusCode, reply.json().error?.code]).toEqual([400, 'whatsapp_attachment_too_large']);
    expect(await count(`messages WHERE conversation_id = $1 AND direction = 'outbound'`, [conversationId])).toBe(0);
    expect(await count(`uploads WHERE id = $1 AND message_id IS NULL`, [up.json().id])).toBe(1);
  });

  it('templates are WhatsApp\'s: another channel\'s conversation is refused with a code', async () => {
    const sync = await api('POST', `/channels/${a.channelId}/templates/sync`, {}, a.users.admin.token);
    expect([sync.statusCode, sync.json().error.code]).toEqual([400, 'templates_not_supported']);
  });

  it('a message Meta refused is failed, and retrying its job really sends it again', async () => {
    const { conversationId } = await customerWrites({ waId: '358407000006' }, 'wamid.IN-RETRY', 'Testi');
    graph.scriptNext({ kind: 'error', httpStatus: 400, code: 131026, message: '(#131026) Message undeliverable' });
    const res = await api('POST', `/conversations/${conversationId}/reply`, { text: 'Toinen yritys' });
    const id = res.json().id as string;
    expect(await settled(id)).toMatchObject({ delivery_status: 'failed', delivery_error: expect.stringMatching(/131026/) });
    expect(graph.inbox.some((m) => m.bizOpaqueCallbackData === id)).toBe(false);
    const dead = await eventually(async () => (await api('GET', '/jobs/dead', undefined, a.users.admin.token)).json().items.find((j: { topic: string; payload: { messageId?: string } }) => j.topic === 'deliver' && j.payload.messageId === id) as { id: string } | undefined, WAIT);
    expect((await api('POST', `/jobs/dead/${dead.id}/retry`, undefined, a.users.admin.token)).statusCode).toBe(202);
    t.hub.runner.kick();
    await eventually(async () => graph.inbox.find((m) => m.bizOpaqueCallbackData === id), WAIT);
    await eventually(async () => ['sent', 'delivered', 'read'].includes((await delivery(id)).delivery_status), WAIT);
    expect((await delivery(id)).delivery_error).toBeNull();
  });
});
