import { describe, expect, it } from 'vitest';
import { ConnectorError, PermanentError, RateLimitError } from '../../core/errors.js';
import type { OutboundMessage } from '../../core/types.js';
import { WhatsAppWebConnector } from './connector.js';
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
    await expect(c.send(reply({ attachments: [{ name: 'a.pdf', mimeType: 'application/pdf', content: Buffer.from('x') }] }))).rejects.toMatchObject({ code: 'whatsapp_web_attachments_unsupported' });
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
});
