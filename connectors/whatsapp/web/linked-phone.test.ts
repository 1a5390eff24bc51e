import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboundEvent } from '../../core/types.js';
import { WhatsAppWebConnector } from './connector.js';
import type { LinkRecord, WaWebSession } from './session.js';
import { WA_WEB_SCENARIOS, type WaWebWorld } from './testing/scenarios.js';

// Opt-in: the real whatsapp-web.js against a real phone (network, a WhatsApp account, a second number
// to write to), running the same cases as the fake Client (testing/scenarios.ts, scenarios.test.ts).
// The first run prints a QR (raw text) or, with HUMMDESK_WA_WEB_TEST_PHONE, a pairing code, and waits
// for the phone; later runs reuse the session kept in HUMMDESK_WA_WEB_TEST_DIR.
const enabled = process.env.HUMMDESK_WA_WEB_TEST === '1';
const chat = process.env.HUMMDESK_WA_WEB_TEST_CHAT; // e.g. 358401234567@c.us: a number that is not the linked one
if (!enabled || !chat)
  console.warn('SKIPPED: the linked-phone suite needs HUMMDESK_WA_WEB_TEST=1 and HUMMDESK_WA_WEB_TEST_CHAT=<number>@c.us (optional: HUMMDESK_WA_WEB_TEST_DIR, HUMMDESK_WA_WEB_TEST_PHONE)');

describe.skipIf(!enabled || !chat)('whatsapp-web.js against a linked phone (opt-in)', () => {
  const connector = new WhatsAppWebConnector({
    executablePath: process.env.HUMMDESK_WHATSAPP_WEB_CHROMIUM ?? '/usr/bin/chromium',
    dataDir: resolve(process.env.HUMMDESK_WA_WEB_TEST_DIR ?? '.wwebjs-test'),
    connectTimeoutMs: 120_000,
  });
  const channel = { id: 'linked-phone-test', accountId: 'test', kind: 'whatsapp-web' as const, externalKey: 'waweb_test', teamId: null, config: {}, secrets: {} };
  const events: InboundEvent[] = [];
  const links: LinkRecord[] = [];
  const controller = new AbortController();
  let session: WaWebSession;
  let running: Promise<void>;
  /** Waits on the real phone, with a deadline that names what it waited for. */
  const within = (ms: number): WaWebWorld['until'] => async (what, check) => {
    const end = Date.now() + ms;
    for (;;) {
      const v = check();
      if (v) return v;
      if (Date.now() > end) throw new Error(`${what}: not in ${ms / 1000} s; link states: ${links.map((l) => `${l.state}${l.code ? `(${l.code})` : ''}`).join(' → ')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  beforeAll(async () => {
    session = connector.session(
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
    running = session.run(controller.signal);
    await within(5 * 60_000)('the phone linked', () => session.state === 'ready');
  }, 6 * 60_000);
  afterAll(async () => {
    controller.abort();
    await running;
  });

  it('links, and names the linked account', () => {
    expect(links.at(-1)).toMatchObject({ state: 'ready', account: expect.stringMatching(/@(c\.us|lid)$/) });
  });

  // Real acks come from WhatsApp itself: the network needs no help here.
  it.each(WA_WEB_SCENARIOS.map((s) => [s.name, s] as const))('%s', { timeout: 5 * 60_000 }, async (_name, scenario) => {
    await scenario.run({ connector, channel, chat: chat!, events, until: within(120_000), network: { acknowledged: () => {} } });
  });
});
