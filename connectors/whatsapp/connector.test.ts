import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorContract } from '../core/contract.js';
import { AuthError, NotSentError, PermanentError, RateLimitError } from '../core/errors.js';
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

    it('uploads a file first and sends it by its media id, the text as caption; a document keeps its name', async () => {
      graph.customerWrote(NUMBER, '358401234567', now);
      const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(2000, 3)]);
      const sent = await connector.send(outbound({ text: 'Tässä kuva', attachments: [{ name: 'kuva.jpg', mimeType: 'image/jpeg', content: jpeg }] }));
      const got = graph.inbox.at(-1)!;
      expect(got).toMatchObject({ id: sent.externalId, type: 'image', text: 'Tässä kuva', media: { mimeType: 'image/jpeg' } });
      expect(got.media!.bytes.equals(jpeg)).toBe(true);
      expect(graph.uploads.at(-1)).toMatchObject({ id: got.media!.id, mimeType: 'image/jpeg', filename: 'kuva.jpg', size: jpeg.length });
      const paths = graph.requests.slice(-2).map((r) => r.path);
      expect(paths).toEqual([`/v25.0/${NUMBER}/media`, `/v25.0/${NUMBER}/messages`]);
      await connector.send(outbound({ text: '', attachments: [{ name: 'lasku.pdf', mimeType: 'application/pdf', content: Buffer.from('%PDF-1.4') }] }));
      expect(graph.inbox.at(-1)).toMatchObject({ type: 'document', media: { filename: 'lasku.pdf' } });
      expect(graph.inbox.at(-1)).not.toHaveProperty('text');
    });

    it('refuses, before uploading, a caption over 1,024 characters, two files, and audio with a caption', async () => {
      graph.customerWrote(NUMBER, '358401234567', now);
      const before = graph.requests.length;
      const img = { name: 'a.png', mimeType: 'image/png', content: Buffer.from('png') };
      await expect(connector.send(outbound({ text: 'x'.repeat(1025), attachments: [img] }))).rejects.toMatchObject({ code: 'whatsapp_caption_too_long' });
      await expect(connector.send(outbound({ attachments: [img, img] }))).rejects.toMatchObject({ code: 'whatsapp_one_attachment' });
      await expect(connector.send(outbound({ attachments: [{ name: 'v.ogg', mimeType: 'audio/ogg', content: Buffer.from('ogg') }] }))).rejects.toMatchObject({ code: 'whatsapp_caption_unsupported' });
      await expect(connector.send(outbound({ attachments: [{ name: 'big.png', mimeType: 'image/png', content: Buffer.alloc(5 * 1024 * 1024 + 1) }] }))).rejects.toMatchObject({ code: 'whatsapp_attachment_too_large' });
      expect(graph.requests.length).toBe(before);
      // 1,024 exactly is fine.
      await connector.send(outbound({ text: 'y'.repeat(1024), attachments: [img] }));
      expect(graph.inbox.at(-1)!.text).toHaveLength(1024);
    });

    it('a failed upload sent nothing: a 503 there is NotSentError (safe to retry), not an unknown outcome', async () => {
      graph.customerWrote(NUMBER, '358401234567', now);
      const sentBefore = graph.inbox.length;
      graph.scriptNext({ kind: 'server_error' });
      const err = await connector.send(outbound({ attachments: [{ name: 'a.png', mimeType: 'image/png', content: Buffer.from('png') }] })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotSentError);
      expect(graph.inbox.length).toBe(sentBefore);
    });

    it('the emulator refuses media sent by link (131053) and by a media id of another number', async () => {
      graph.customerWrote(NUMBER, '358401234567', now);
      const post = (image: unknown) =>
        fetch(`${graph.url}/v25.0/${NUMBER}/messages`, { method: 'POST', headers: { authorization: 'Bearer tok', 'content-type': 'application/json' }, body: JSON.stringify({ messaging_product: 'whatsapp', to: '358401234567', type: 'image', image }) }).then(async (r) => [r.status, ((await r.json()) as { error: { code: number } }).error.code]);
      expect(await post({ link: 'https://example.com/a.jpg' })).toEqual([400, 131053]);
      expect(await post({ id: 'MEDIA-NOT-OURS' })).toEqual([400, 131053]);
    });

    it('sends reply buttons and a list within their limits, and refuses beyond them before calling Meta', async () => {
      graph.customerWrote(NUMBER, '358401234567', now);
      const buttons = [{ id: 'yes', title: 'Kyllä' }, { id: 'no', title: 'Ei' }, { id: 'later', title: 'x'.repeat(20) }];
      await connector.send(outbound({ text: 'Sopiiko?', rich: { buttons } }));
      expect(graph.inbox.at(-1)).toMatchObject({ type: 'interactive', text: 'Sopiiko?', buttons });
      const rows = Array.from({ length: 10 }, (_, i) => ({ id: `r${i}`, title: 'r'.repeat(24), description: 'd'.repeat(72) }));
      await connector.send(outbound({ text: 'Valitse', rich: { list: { button: 'Vaihtoehdot', sections: [{ title: 'A', rows: rows.slice(0, 5) }, { title: 'B', rows: rows.slice(5) }] } } }));
      expect(graph.inbox.at(-1)!.list!.rows).toHaveLength(10);
      const before = graph.requests.length;
      const refused = async (rich: OutboundMessage['rich'], code: string) => expect(connector.send(outbound({ text: 'q', rich }))).rejects.toMatchObject({ code });
      await refused({ buttons: [...buttons, { id: 'four', title: 'Neljä' }] }, 'whatsapp_too_many_buttons');
      await refused({ buttons: [{ id: 'a', title: 'x'.repeat(21) }] }, 'whatsapp_button_title_too_long');
      await refused({ list: { button: 'B', sections: [{ rows: [...rows, { id: 'r10', title: 'yksitoista' }] }] } }, 'whatsapp_too_many_rows');
      await refused({ list: { button: 'B', sections: [{ rows: [{ id: 'a', title: 'x'.repeat(25) }] }] } }, 'whatsapp_row_title_too_long');
      await refused({ list: { button: 'B', sections: [{ rows: [{ id: 'a', title: 'a', description: 'x'.repeat(73) }] }] } }, 'whatsapp_row_description_too_long');
      expect(graph.requests.length).toBe(before);
    });

    it('quotes the message it answers, reacts to one, and marks one read', async () => {
      graph.customerWrote(NUMBER, '358401234567', now);
      await connector.send(outbound({ text: 'Vastaus', rich: { quoteExternalId: 'wamid.Q1' } }));
      expect(graph.inbox.at(-1)).toMatchObject({ type: 'text', quotes: 'wamid.Q1' });
      await connector.send(outbound({ text: '👍', rich: { reaction: { externalId: 'wamid.Q1', emoji: '👍' } } }));
      expect(graph.inbox.at(-1)).toMatchObject({ type: 'reaction', reaction: { messageId: 'wamid.Q1', emoji: '👍' } });
      await connector.markRead(channel, 'wamid.Q1');
      expect(graph.readMarks.at(-1)).toEqual({ phoneNumberId: NUMBER, messageId: 'wamid.Q1' });
    });

    describe('templates', () => {
      const WABA = '2233445566';
      beforeAll(() => {
        graph.addNumber({ id: NUMBER, token: 'tok', wabaId: WABA });
        graph.addTemplate(WABA, { name: 'order_update', language: 'fi', body: 'Hei {{1}}, tilauksesi {{2}} on matkalla.' });
        graph.addTemplate(WABA, { name: 'draft_one', language: 'fi', body: 'x', status: 'PENDING' });
        for (let i = 0; i < 120; i++) graph.addTemplate(WABA, { name: `bulk_${i}`, language: 'en_US', body: 'Hello' });
      });

      it('syncs approved templates only, across pages, with their body parameter count', async () => {
        const list = await connector.templates(channel, WABA);
        expect(list).toHaveLength(121);
        expect(list.find((t) => t.name === 'order_update')).toMatchObject({ language: 'fi', params: 2, body: 'Hei {{1}}, tilauksesi {{2}} on matkalla.' });
        expect(list.some((t) => t.name === 'draft_one')).toBe(false);
        expect(graph.requests.filter((r) => r.path === `/v25.0/${WABA}/message_templates`).length).toBeGreaterThan(1);
        await expect(connector.templates({ ...channel, secrets: { accessToken: 'wrong' } }, WABA)).rejects.toBeInstanceOf(AuthError);
      });

      it('sends a template outside the 24-hour window; Meta\'s 132001 and 132000 come back as clear codes', async () => {
        const template = { name: 'order_update', language: 'fi', variables: ['Aino', '#123'] };
        const closed = { recipient: { externalId: 'US.9', address: '358409999999' }, lastInboundAt: new Date(now - 3 * 24 * 3600_000).toISOString() };
        const sent = await connector.send(outbound({ ...closed, text: 'ignored', rich: { template } }));
        expect(graph.inbox.at(-1)).toMatchObject({ id: sent.externalId, type: 'template', template, text: 'Hei Aino, tilauksesi #123 on matkalla.' });
        await expect(connector.send(outbound({ ...closed, rich: { template: { ...template, name: 'no_such' } } }))).rejects.toMatchObject({ code: 'whatsapp_template_not_found' });
        await expect(connector.send(outbound({ ...closed, rich: { template: { ...template, variables: ['Aino'] } } }))).rejects.toMatchObject({ code: 'whatsapp_template_params_mismatch' });
        const before = graph.requests.length;
        await expect(connector.send(outbound({ ...closed, rich: { template: { ...template, variables: ['Aino', 'two\nlines'] } } }))).rejects.toMatchObject({ code: 'whatsapp_template_variable_invalid' });
        expect(graph.requests.length).toBe(before);
      });

      it('sends header (text, image, document) and button parameters in Graph\'s shape; the emulator refuses what Meta refuses', async () => {
        graph.addTemplate(WABA, { name: 'shipped', language: 'en_US', header: { format: 'TEXT', text: 'Order {{1}}' }, body: 'Hi {{1}}, it shipped.', buttons: [{ type: 'QUICK_REPLY', text: 'Thanks' }, { type: 'URL', text: 'Track', url: 'https://track.example/{{1}}' }] });
        graph.addTemplate(WABA, { name: 'receipt', language: 'en_US', header: { format: 'DOCUMENT' }, body: 'Your receipt.' });
        graph.addTemplate(WABA, { name: 'promo', language: 'en_US', header: { format: 'IMAGE' }, body: 'New in store.' });
        const closed = { recipient: { externalId: 'US.9', address: '358409999999' }, lastInboundAt: new Date(now - 3 * 24 * 3600_000).toISOString() };
        const shipped = { name: 'shipped', language: 'en_US', variables: ['Aino'], header: { type: 'text' as const, text: '#42' }, buttons: [{ index: 0, subType: 'quick_reply' as const, payload: 'thanks-42' }, { index: 1, subType: 'url' as const, text: '42?c=fi' }] };
        const sent = await connector.send(outbound({ ...closed, rich: { template: shipped } }));
        expect(graph.inbox.at(-1)).toMatchObject({
          id: sent.externalId, type: 'template', text: 'Order #42\n\nHi Aino, it shipped.',
          template: { name: 'shipped', variables: ['Aino'], header: { type: 'text', text: '#42' }, buttons: [{ index: 0, subType: 'quick_reply', value: 'thanks-42' }, { index: 1, subType: 'url', value: '42?c=fi' }] },
        });
        // A media header is the message's one file, uploaded first and named by its id.
        const pdf = { name: 'receipt-42.pdf', mimeType: 'application/pdf', content: Buffer.from('%PDF-1.4 receipt') };
        await connector.send(outbound({ ...closed, text: 'Your receipt.', attachments: [pdf], rich: { template: { name: 'receipt', language: 'en_US', variables: [], header: { type: 'document' } } } }));
        const receipt = graph.inbox.at(-1)!;
        expect(receipt).toMatchObject({ type: 'template', template: { header: { type: 'document', mimeType: 'application/pdf', filename: 'receipt-42.pdf' } }, media: { filename: 'receipt-42.pdf' } });
        expect(receipt.media!.bytes.equals(pdf.content)).toBe(true);
        expect(graph.uploads.at(-1)).toMatchObject({ id: (receipt.template!.header as { mediaId: string }).mediaId, mimeType: 'application/pdf' });
        // Checked before Meta is called: a media header without its file, a file of the wrong type, a bad payload.
        const before = graph.requests.length;
        await expect(connector.send(outbound({ ...closed, rich: { template: { name: 'promo', language: 'en_US', variables: [], header: { type: 'image' } } } }))).rejects.toMatchObject({ code: 'whatsapp_template_header_missing' });
        await expect(connector.send(outbound({ ...closed, attachments: [pdf], rich: { template: { name: 'promo', language: 'en_US', variables: [], header: { type: 'image' } } } }))).rejects.toMatchObject({ code: 'whatsapp_template_header_format' });
        await expect(connector.send(outbound({ ...closed, attachments: [pdf], rich: { template: { ...shipped } } }))).rejects.toMatchObject({ code: 'whatsapp_template_header_unexpected' });
        await expect(connector.send(outbound({ ...closed, rich: { template: { ...shipped, buttons: [{ index: 1, subType: 'url', text: 'has space' }] } } }))).rejects.toMatchObject({ code: 'whatsapp_template_variable_invalid' });
        expect(graph.requests.length).toBe(before);
        // What only the synced components tell (the connector does not know them) Meta refuses, and so does the emulator, by code.
        await expect(connector.send(outbound({ ...closed, rich: { template: { ...shipped, header: undefined } } }))).rejects.toMatchObject({ code: 'whatsapp_template_params_mismatch', message: expect.stringContaining('header') });
        await expect(connector.send(outbound({ ...closed, rich: { template: { ...shipped, buttons: [shipped.buttons[0]!] } } }))).rejects.toMatchObject({ code: 'whatsapp_template_params_mismatch', message: expect.stringContaining('button 1') });
        await expect(connector.send(outbound({ ...closed, rich: { template: { ...shipped, buttons: [{ index: 0, subType: 'url', text: 'x' }, shipped.buttons[1]!] } } }))).rejects.toMatchObject({ code: 'whatsapp_template_param_format' });
        const jpeg = { name: 'p.jpg', mimeType: 'image/jpeg', content: Buffer.from([0xff, 0xd8, 0xff, 0xe0]) };
        await expect(connector.send(outbound({ ...closed, attachments: [jpeg], rich: { template: { name: 'receipt', language: 'en_US', variables: [], header: { type: 'image' } } } }))).rejects.toMatchObject({ code: 'whatsapp_template_param_format' });
      });
    });

    it('check reads the number with the token', async () => {
      await expect(connector.check(channel)).resolves.toEqual({ ok: true });
      await expect(connector.check({ ...channel, secrets: { accessToken: 'nope' } })).resolves.toMatchObject({ ok: false, code: 'channel_auth_failed' });
    });
  });
});
