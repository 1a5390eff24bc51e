import { expect } from 'vitest';
import type { ChannelInstallation, InboundEvent, OutboundMessage } from '../../../core/types.js';
import type { WhatsAppWebConnector } from '../connector.js';
import { WA_WEB_MAX_TEXT } from '../limits.js';

/**
 * The linked-phone cases that run both against the fake Client (scenarios.test.ts) and, opt-in,
 * against a real phone (linked-phone.test.ts): the same sends and the same checks on what comes back.
 */
export interface WaWebWorld {
  /** A connector whose session for `channel` is ready. */
  connector: WhatsAppWebConnector;
  channel: ChannelInstallation;
  /** The customer's chat (`…@c.us`). */
  chat: string;
  /** Everything the session emitted, in order. */
  events: InboundEvent[];
  /** Waits for a condition (a real phone: with a deadline that says what it waited for). */
  until<T>(what: string, check: () => T | undefined | false): Promise<T>;
  /** What WhatsApp's servers do after a send: the fake acknowledges as they would; a real phone gets real acks, so nothing to do. */
  network: { acknowledged(externalId: string, ack: 'delivered' | 'read'): void };
  /** Messages the client has sent so far, where the world can count them (the fake). */
  sentCount?(): number;
}

export interface WaWebScenario {
  name: string;
  run(w: WaWebWorld): Promise<void>;
}

// A 1×1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

function reply(w: WaWebWorld, over: Partial<OutboundMessage>): OutboundMessage {
  return {
    channel: w.channel, conversation: { id: 'c', threadKey: `whatsapp-web:${w.channel.id}:${w.chat}` }, recipient: { externalId: w.chat }, author: {},
    text: '', attachments: [], idempotencyKey: `k-${Math.random()}`, ...over,
  };
}

const statusOf = (w: WaWebWorld, externalId: string, statuses: string[]) =>
  w.events.find((e) => e.type === 'status' && e.externalId === externalId && statuses.includes(e.status));
const messagesWith = (w: WaWebWorld, externalId: string) => w.events.filter((e) => e.type === 'message' && e.message.externalId === externalId);

export const WA_WEB_SCENARIOS: WaWebScenario[] = [
  {
    name: 'a text goes out to the chat; its echo confirms it as sent, never a message of the phone; acks move it forward',
    async run(w) {
      const sent = await w.connector.send(reply(w, { text: `HummDesk linked-phone test ${new Date().toISOString()}` }));
      expect(sent.externalId).toMatch(new RegExp(`^true_${w.chat.replace(/[.]/g, '\\.')}_`));
      await w.until('the send confirmed', () => statusOf(w, sent.externalId, ['sent', 'delivered', 'read']));
      expect(messagesWith(w, sent.externalId)).toEqual([]);
      w.network.acknowledged(sent.externalId, 'delivered');
      await w.until('delivered or read', () => statusOf(w, sent.externalId, ['delivered', 'read']));
    },
  },
  {
    name: 'a picture goes out as the library\'s MessageMedia with the text as its caption, confirmed the same way',
    async run(w) {
      const sent = await w.connector.send(reply(w, { text: 'a picture from the linked-phone test', attachments: [{ name: 'dot.png', mimeType: 'image/png', content: PNG }] }));
      await w.until('the picture confirmed', () => statusOf(w, sent.externalId, ['sent', 'delivered', 'read']));
      expect(messagesWith(w, sent.externalId)).toEqual([]);
    },
  },
  {
    name: 'a text past WhatsApp\'s limit is refused with its code before anything leaves',
    async run(w) {
      const before = w.sentCount?.();
      await expect(w.connector.send(reply(w, { text: 'x'.repeat(WA_WEB_MAX_TEXT + 1) }))).rejects.toMatchObject({ code: 'whatsapp_web_text_too_long' });
      if (before !== undefined) expect(w.sentCount!()).toBe(before);
    },
  },
];
