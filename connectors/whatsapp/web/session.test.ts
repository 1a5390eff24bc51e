import { describe, expect, it } from 'vitest';
import { ConnectorError, RateLimitError } from '../../core/errors.js';
import type { InboundEvent } from '../../core/types.js';
import { ChatPacer } from './pacing.js';
import { WaWebSession, type LinkRecord } from './session.js';
import { fakeFactory, type FakeWaWebClient } from './testing/fake-client.js';
import { CUSTOMER, fromPhone } from './testing/recorded.js';

function harness(setup: (c: FakeWaWebClient) => void = () => {}) {
  const factory = fakeFactory(setup);
  const events: InboundEvent[] = [];
  const links: LinkRecord[] = [];
  const session = new WaWebSession({
    channelId: 'ch',
    factory,
    client: { executablePath: '/usr/bin/chromium', auth: { kind: 'local', dataPath: '/nonexistent' } },
    emit: async (e) => void events.push(...e),
    onLink: async (l) => void links.push(l),
    backoffMs: { first: 10, max: 40 },
  });
  const controller = new AbortController();
  const done = session.run(controller.signal);
  const until = async <T>(check: () => T | undefined | false): Promise<T> => {
    for (;;) {
      const v = check();
      if (v) return v;
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return { factory, events, links, session, until, stop: async () => (controller.abort(), await done) };
}

describe('a linked phone session', () => {
  it('a send whose echo arrives before its answer only confirms it: a status, never a message of the phone', async () => {
    const h = harness((c) => (c.echoBeforeAnswer = true));
    await h.until(() => h.session.state === 'ready');
    const sent = await h.session.send(CUSTOMER, 'hello from HummDesk');
    h.factory.clients[0]!.receive(fromPhone('3EB0TYPEDONPHONE0001', 'typed on the phone'));
    await h.until(() => h.events.length >= 2);
    expect(h.events[0]).toEqual({ type: 'status', channelId: 'ch', externalId: sent.externalId, status: 'sent' });
    expect(h.events[1]).toMatchObject({ type: 'message', message: { direction: 'outbound', text: 'typed on the phone', sender: { staff: true } } });
    await h.stop();
  });

  it('sends only while ready, with a stable code otherwise', async () => {
    const h = harness((c) => (c.script = 'qr'));
    await h.until(() => h.links.find((l) => l.state === 'qr_required'));
    await expect(h.session.send(CUSTOMER, 'x')).rejects.toMatchObject({ code: 'whatsapp_web_not_ready' });
    await expect(h.session.send(CUSTOMER, 'x')).rejects.toBeInstanceOf(ConnectorError);
    await h.stop();
  });

  it('the phone unlinking is logged_out; the session starts over with a new client and QR', async () => {
    let made = 0;
    const h = harness((c) => (c.script = made++ > 0 ? 'qr' : 'ready'));
    await h.until(() => h.session.state === 'ready');
    h.factory.clients[0]!.emit('disconnected', 'LOGOUT');
    await h.until(() => h.links.find((l) => l.state === 'qr_required'));
    expect(h.links.map((l) => l.state)).toEqual(['ready', 'logged_out', 'qr_required']);
    expect(h.links[1]).toMatchObject({ code: 'whatsapp_web_logged_out' });
    expect(h.factory.clients[0]!.destroyed).toBe(1);
    await h.stop();
    expect(h.factory.clients[1]!.destroyed).toBe(1);
  });

  it('reconnect waits double from the first up to the cap, and start over after the phone was ready (waits recorded, not slept)', async () => {
    let made = 0;
    const factory = fakeFactory((c) => (c.script = made++ === 4 ? 'ready' : { fail: new Error('net::ERR_NAME_NOT_RESOLVED') }));
    const controller = new AbortController();
    const waits: number[] = [];
    const states: string[] = [];
    const session = new WaWebSession({
      channelId: 'ch', factory, client: { executablePath: '/usr/bin/chromium', auth: { kind: 'local', dataPath: '/nonexistent' } },
      emit: async () => {}, onLink: async (l) => void states.push(l.state),
      backoffMs: { first: 1_000, max: 4_000 },
      random: () => 0.5,
      sleep: async (ms) => {
        waits.push(ms);
        if (waits.length === 6) controller.abort();
      },
    });
    const done = session.run(controller.signal);
    // Four failed starts, then a client that gets ready: it is lost, and the waits start over.
    for (;;) {
      if (session.state === 'ready') break;
      await new Promise((r) => setTimeout(r, 5));
    }
    factory.clients[4]!.emit('disconnected', 'NAVIGATION');
    await done;
    // Each wait is its backoff plus a tenth (jitter 0.5 of a fifth).
    expect(waits).toEqual([1_100, 2_200, 4_400, 4_400, 1_100, 2_200]);
    expect(factory.clients).toHaveLength(6);
    expect(states.filter((s) => s === 'ready')).toHaveLength(1);
  });

  it('WhatsApp Web unreachable: disconnected with whatsapp_web_unreachable, the browser closed, tried again', async () => {
    const h = harness((c) => (c.script = { fail: new Error('net::ERR_NAME_NOT_RESOLVED at https://web.whatsapp.com/') }));
    await h.until(() => h.factory.clients.length >= 3);
    const first = h.links[0]!;
    expect(first).toMatchObject({ state: 'disconnected', code: 'whatsapp_web_unreachable', reason: expect.stringContaining('ERR_NAME_NOT_RESOLVED') });
    await h.stop();
    expect(h.factory.clients.every((c) => c.destroyed === 1)).toBe(true);
    expect(h.links.at(-1)).toMatchObject({ state: 'disconnected', code: 'whatsapp_web_stopped' });
  });
});

describe('per-chat pacing', () => {
  function clock() {
    let now = 0;
    const slept: number[] = [];
    return { slept, c: { now: () => now, sleep: async (ms: number) => void (slept.push(ms), (now += ms)) }, advance: (ms: number) => (now += ms) };
  }

  it('one send a second per chat; other chats are not held', async () => {
    const k = clock();
    const p = new ChatPacer(1_000, 2_000, k.c);
    await p.take('a');
    await p.take('b');
    await p.take('a');
    expect(k.slept).toEqual([1_000]);
    k.advance(1_000);
    await p.take('a');
    expect(k.slept).toEqual([1_000]);
  });

  it('a wait longer than allowed is refused as a rate limit (the deliver job puts the send back)', async () => {
    const k = clock();
    const p = new ChatPacer(1_000, 1_500, { now: k.c.now, sleep: async () => {} });
    await p.take('a');
    await p.take('a');
    await expect(p.take('a')).rejects.toBeInstanceOf(RateLimitError);
    await expect(p.take('a')).rejects.toMatchObject({ retryAfterMs: 2_000 });
  });
});
