import { describe, it } from 'vitest';
import type { InboundEvent } from '../../core/types.js';
import { WhatsAppWebConnector } from './connector.js';
import { WA_ACK } from './port.js';
import { fakeFactory } from './testing/fake-client.js';
import { CUSTOMER } from './testing/recorded.js';
import { WA_WEB_SCENARIOS, type WaWebWorld } from './testing/scenarios.js';

// The shared linked-phone cases against the fake Client; linked-phone.test.ts runs the same ones against a real phone (opt-in).
describe('the linked-phone cases, against the fake Client', () => {
  it.each(WA_WEB_SCENARIOS.map((s) => [s.name, s] as const))('%s', async (_name, scenario) => {
    const factory = fakeFactory();
    const connector = new WhatsAppWebConnector({ dataDir: '/nonexistent', factory });
    const channel = { id: 'ch', accountId: 'a', kind: 'whatsapp-web' as const, externalKey: 'waweb_x', teamId: null, config: {}, secrets: {} };
    const events: InboundEvent[] = [];
    const session = connector.session(channel, async (e) => void events.push(...e), async () => {});
    connector.sessions.set(channel.id, session);
    const controller = new AbortController();
    const running = session.run(controller.signal);
    const until: WaWebWorld['until'] = async (_what, check) => {
      for (;;) {
        const v = check();
        if (v) return v;
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    try {
      await until('ready', () => session.state === 'ready');
      const client = factory.clients[0]!;
      await scenario.run({
        connector, channel, chat: CUSTOMER, events, until,
        network: { acknowledged: (id, ack) => client.acknowledge(id, WA_ACK[ack === 'delivered' ? 'device' : 'read']) },
        sentCount: () => client.sent.length,
      });
    } finally {
      controller.abort();
      await running;
    }
  });
});
