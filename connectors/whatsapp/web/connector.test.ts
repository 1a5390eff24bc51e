import { describe, expect, it } from 'vitest';
import { ConnectorError, PermanentError, RateLimitError } from '../../core/errors.js';
import type { OutboundMessage } from '../../core/types.js';
import { WA_WEB_MAX_FILE_BYTES, WhatsAppWebConnector } from './connector.js';
import { fakeFactory } from './testing/fake-client.js';
import { CUSTOMER, GROUP } from './testing/recorded.js';

const channel = { id: 'ch', accountId: 'a', kind: 'whatsapp-web' as const, externalKey: 'waweb_x', teamId: null, config: {}, secrets: {} };
const reply = (over: Partial<OutboundMessage> = {}): OutboundMessage => ({
  channel, conversation: { id: 'c', threadKey: `whatsapp-web:ch:${CUSTOMER}` }, recipient: { externalId: CUSTOMER }, author: {}, text: 'hello', attachments: [], idempotencyKey: 'k', ...over,
});

describe('the whatsapp-web connector', () => {
  it('takes no webhooks', async () => {
    await expect(new WhatsAppWebConnector({ dataDir: '/nonexistent' }).verify({ method: 'POST', path: '/', headers: {}, query: {}, rawBody: Buffer.from('{}') })).rejects.toMatchObject({ code: 'whatsapp_web_no_webhooks' });
  });

  it('refuses what it cannot send before anything leaves, with a code', async () => {
    const c = new WhatsAppWebConnector({ dataDir: '/nonexistent' });
    const pdf = { name: 'a.pdf', mimeType: 'application/pdf', content: Buffer.from('x') };
    await expect(c.send(reply({ attachments: Array.from({ length: 11 }, () => pdf) }))).rejects.toMatchObject({ code: 'whatsapp_web_too_many_files' });
    await expect(c.send(reply({ attachments: [{ ...pdf, content: Buffer.alloc(WA_WEB_MAX_FILE_BYTES + 1) }] }))).rejects.toMatchObject({ code: 'whatsapp_web_attachment_too_large' });
    await expect(c.send(reply({ text: '  ' }))).rejects.toBeInstanceOf(PermanentError);
    await expect(c.send(reply({ recipient: { externalId: GROUP } }))).rejects.toMatchObject({ code: 'whatsapp_web_recipient_invalid' });
  });

  it('without the phone in this process: back to the queue when another process runs it, else not ready', async () => {
    const elsewhere = new WhatsAppWebConnector({ dataDir: '/nonexistent', heldElsewhere: async () => true });
    await expect(elsewhere.send(reply())).rejects.toBeInstanceOf(RateLimitError);
    const nowhere = new WhatsAppWebConnector({ dataDir: '/nonexistent', heldElsewhere: async () => false });
    const err = await nowhere.send(reply()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).not.toBeInstanceOf(RateLimitError);
    expect(err).toMatchObject({ code: 'whatsapp_web_not_ready' });
  });

  it('fetches only its own media references', async () => {
    await expect(new WhatsAppWebConnector({ dataDir: '/nonexistent' }).fetchAttachment(channel, 'whatsapp-media:123', { maxBytes: 10 })).rejects.toMatchObject({ code: 'attachment_ref_invalid' });
  });

  describe('files through the linked phone (the fake Client with the library\'s own MessageMedia)', () => {
    const INTERVAL = 200;
    const start = async () => {
      const factory = fakeFactory();
      const c = new WhatsAppWebConnector({ dataDir: '/nonexistent', factory, pacing: { intervalMs: INTERVAL, maxWaitMs: 0 } });
      const controller = new AbortController();
      const links: unknown[] = [];
      const running = c.listen(channel, async () => {}, { get: async () => undefined, set: async (_k, v) => void links.push(v) }, controller.signal);
      while (!links.some((l) => (l as { state?: string }).state === 'ready')) await new Promise((r) => setTimeout(r, 5));
      return { c, client: factory.clients[0]!, stop: async () => (controller.abort(), await running) };
    };
    const png = { name: 'parcel.png', mimeType: 'image/png', content: Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]) };
    const pdf = { name: 'receipt.pdf', mimeType: 'application/pdf', content: Buffer.from('%PDF-1.4 receipt') };
    const ogg = { name: 'note.ogg', mimeType: 'audio/ogg', content: Buffer.from('OggS voice') };

    it('sends each file as a MessageMedia of its bytes, the text as the first one\'s caption, documents as documents, one message a pace apart', async () => {
      const h = await start();
      const MessageMedia = h.client.MessageMedia;
      const sent = await h.c.send(reply({ text: 'Here you are', attachments: [png, pdf], inReplyToExternalId: 'false_x_Q' }));
      const [first, second] = h.client.sent;
      expect(h.client.sent).toHaveLength(2);
      expect(first!.media).toBeInstanceOf(MessageMedia);
      expect(first!.media).toMatchObject({ mimetype: 'image/png', data: png.content.toString('base64'), filename: 'parcel.png', filesize: png.content.length });
      expect(first!.options).toEqual({ caption: 'Here you are', quotedMessageId: 'false_x_Q' });
      expect(second!.media).toMatchObject({ mimetype: 'application/pdf', data: pdf.content.toString('base64'), filename: 'receipt.pdf' });
      expect(second!.options).toEqual({ sendMediaAsDocument: true });
      // The reply is known by its first message; the pace holds between the two (load only widens the gap).
      expect(sent.externalId).toMatch(/^true_/);
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(INTERVAL - 1);
      // The next reply to that chat would wait: it goes back to the queue before anything leaves.
      await expect(h.c.send(reply({ text: 'again' }))).rejects.toBeInstanceOf(RateLimitError);
      expect(h.client.sent).toHaveLength(2);
      await h.stop();
    });

    it('a file over its type\'s limit is refused before any message of the reply leaves (WhatsApp: image 5 MB)', async () => {
      const h = await start();
      const big = { name: 'scan.jpg', mimeType: 'image/jpeg', content: Buffer.alloc(5 * 1024 * 1024 + 1) };
      await expect(h.c.send(reply({ text: 'Two files', attachments: [pdf, big] }))).rejects.toMatchObject({ code: 'whatsapp_web_attachment_too_large' });
      expect(h.client.sent).toEqual([]);
      await h.stop();
    });

    it('a WebP goes as a sticker (no caption: the text first, on its own)', async () => {
      const h = await start();
      const webp = { name: 'wave.webp', mimeType: 'image/webp', content: Buffer.from('RIFF\0\0\0\0WEBPVP8 sticker') };
      await h.c.send(reply({ text: 'Hello!', attachments: [webp] }));
      expect(h.client.sent.map((s) => [s.content, s.media?.mimetype])).toEqual([['Hello!', undefined], ['', 'image/webp']]);
      expect(h.client.sent[1]!.options).toEqual({ sendMediaAsSticker: true });
      await h.stop();
    });

    it('audio shows no caption: the text goes first as its own message, then the file', async () => {
      const h = await start();
      await h.c.send(reply({ text: 'Listen to this', attachments: [ogg] }));
      expect(h.client.sent.map((s) => [s.content, s.media?.mimetype])).toEqual([['Listen to this', undefined], ['', 'audio/ogg']]);
      expect(h.client.sent[1]!.at - h.client.sent[0]!.at).toBeGreaterThanOrEqual(INTERVAL - 1);
      await h.stop();
    });
  });
});
