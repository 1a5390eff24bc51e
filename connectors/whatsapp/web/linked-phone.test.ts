import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InboundEvent } from '../../core/types.js';
import { WhatsAppWebConnector } from './connector.js';
import type { LinkRecord } from './session.js';

// Opt-in: the real whatsapp-web.js against a real phone (network, a WhatsApp account, a second number
// to write to). The first run prints a QR (raw text) or, with HUMMDESK_WA_WEB_TEST_PHONE, a pairing code,
// and waits for the phone; later runs reuse the session kept in HUMMDESK_WA_WEB_TEST_DIR.
const enabled = process.env.HUMMDESK_WA_WEB_TEST === '1';
const chat = process.env.HUMMDESK_WA_WEB_TEST_CHAT; // e.g. 358401234567@c.us: a number that is not the linked one
if (!enabled || !chat)
  console.warn('SKIPPED: the linked-phone suite needs HUMMDESK_WA_WEB_TEST=1 and HUMMDESK_WA_WEB_TEST_CHAT=<number>@c.us (optional: HUMMDESK_WA_WEB_TEST_DIR, HUMMDESK_WA_WEB_TEST_PHONE)');

describe.skipIf(!enabled || !chat)('whatsapp-web.js against a linked phone (opt-in)', () => {
  it('links, sends through the session, and sees its send confirmed and acknowledged', { timeout: 10 * 60_000 }, async () => {
    const connector = new WhatsAppWebConnector({
      executablePath: process.env.HUMMDESK_WHATSAPP_WEB_CHROMIUM ?? '/usr/bin/chromium',
      dataDir: resolve(process.env.HUMMDESK_WA_WEB_TEST_DIR ?? '.wwebjs-test'),
      connectTimeoutMs: 120_000,
    });
    const channel = { id: 'linked-phone-test', accountId: 'test', kind: 'whatsapp-web' as const, externalKey: 'waweb_test', teamId: null, config: {}, secrets: {} };
    const events: InboundEvent[] = [];
    const links: LinkRecord[] = [];
    const controller = new AbortController();
    const session = connector.session(
      channel,
      async (e) => void events.push(...e),
      async (l) => {
        links.push(l);
        if (l.qr) console.log(`scan in WhatsApp → Linked devices (render as a QR code): ${l.qr}`);
        if (l.pairingCode) console.log(`pairing code: ${l.pairingCode}`);
      },
      process.env.HUMMDESK_WA_WEB_TEST_PHONE ? { pairWithPhoneNumber: process.env.HUMMDESK_WA_WEB_TEST_PHONE } : {},
    );
    connector.sessions.set(channel.id, session);
    const running = session.run(controller.signal);
    const until = async (check: () => boolean, ms: number) => {
      const end = Date.now() + ms;
      while (!check()) {
        if (Date.now() > end) throw new Error(`not in time; link states: ${links.map((l) => `${l.state}${l.code ? `(${l.code})` : ''}`).join(' → ')}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    try {
      await until(() => session.state === 'ready', 5 * 60_000);
      expect(links.at(-1)).toMatchObject({ state: 'ready', account: expect.stringMatching(/@(c\.us|lid)$/) });
      const sent = await connector.send({
        channel, conversation: { id: 'c', threadKey: `whatsapp-web:${channel.id}:${chat}` }, recipient: { externalId: chat! }, author: {},
        text: `HummDesk linked-phone test ${new Date().toISOString()}`, attachments: [], idempotencyKey: 'k',
      });
      expect(sent.externalId).toMatch(new RegExp(`^true_${chat!.replace(/[.]/g, '\\.')}_`));
      // The echo confirms the send (never a message of the phone); WhatsApp's acks follow.
      await until(() => events.some((e) => e.type === 'status' && e.externalId === sent.externalId), 60_000);
      expect(events.filter((e) => e.type === 'message' && e.message.externalId === sent.externalId)).toEqual([]);
      await until(() => events.some((e) => e.type === 'status' && e.externalId === sent.externalId && ['delivered', 'read'].includes(e.status)), 120_000);
    } finally {
      controller.abort();
      await running;
    }
  });
});
