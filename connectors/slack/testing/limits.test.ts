import { afterEach, describe, expect, it } from 'vitest';
import { SlackEmulator, type EmulatedWorkspace } from './emulator.js';
import { SlackLimits } from './limits.js';

/** The emulator's rate limits and latency, seen as an app sees them: HTTP status, Retry-After, body. */

let emulator: SlackEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

/** A clock the test moves; the emulator's limits read it. */
function clock() {
  let t = Date.parse('2026-12-07T08:00:00Z');
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

async function setUp(opts: Parameters<typeof SlackEmulator.start>[0] = {}) {
  emulator = await SlackEmulator.start(opts);
  const ws = emulator.addWorkspace({ teamId: 'T0LIM', channels: [{ id: 'C0ONE', name: 'one', isMember: true }, { id: 'C0TWO', name: 'two', isMember: true }] });
  const other = emulator.addWorkspace({ teamId: 'T0OTHER', channels: [{ id: 'C0ELSE', name: 'else', isMember: true }] });
  return { emulator, ws, other };
}

async function call(e: SlackEmulator, token: string, method: string, args: Record<string, unknown>) {
  const res = await fetch(`${e.apiUrl}${method}`, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${token}` }, body: JSON.stringify(args) });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, unknown> };
}

const post = (e: SlackEmulator, ws: EmulatedWorkspace, channel: string, text: string) => call(e, ws.botToken, 'chat.postMessage', { channel, text });

describe('Slack rate limits in the emulator', () => {
  it('lets a short burst into a channel through, then answers 429 with Retry-After until a second has passed', async () => {
    const c = clock();
    const { emulator: e, ws } = await setUp({ now: c.now, limits: { latencyMs: 0 } });
    for (const n of [1, 2, 3]) expect((await post(e, ws, 'C0ONE', `burst ${n}`)).body.ok).toBe(true);
    const refused = await post(e, ws, 'C0ONE', 'one too many');
    expect(refused).toEqual({ status: 429, retryAfter: '1', body: { ok: false, error: 'ratelimited' } });
    expect(e.inChannel('C0ONE').map((m) => m.text)).toEqual(['burst 1', 'burst 2', 'burst 3']);
    expect(e.callsOf('chat.postMessage').at(-1)).toMatchObject({ status: 429, team: 'T0LIM' });
    // Another channel has its own budget.
    expect((await post(e, ws, 'C0TWO', 'elsewhere')).body.ok).toBe(true);

    c.advance(1000);
    expect((await post(e, ws, 'C0ONE', 'after a second')).body.ok).toBe(true);
    expect((await post(e, ws, 'C0ONE', 'still too fast')).status).toBe(429);
    // Twenty posts a second into one channel are far over: a long pause refills only the burst.
    c.advance(60_000);
    const twenty = await Promise.all(Array.from({ length: 20 }, (_, i) => post(e, ws, 'C0ONE', `flood ${i}`)));
    expect(twenty.filter((r) => r.status === 200)).toHaveLength(3);
    expect(twenty.filter((r) => r.status === 429)).toHaveLength(17);
  });

  it('limits each method per workspace by its tier (chat.update at Tier 3, apps.connections.open at Tier 1)', async () => {
    const c = clock();
    const { emulator: e, ws, other } = await setUp({ now: c.now, limits: { latencyMs: 0 } });
    const { body } = await post(e, ws, 'C0ONE', 'card');
    const update = (text: string) => call(e, ws.botToken, 'chat.update', { channel: 'C0ONE', ts: body.ts, text });
    for (let i = 0; i < 50; i++) expect((await update(`state ${i}`)).status).toBe(200);
    expect(await update('state 50')).toMatchObject({ status: 429, retryAfter: '2', body: { ok: false, error: 'ratelimited' } });
    expect(e.inChannel('C0ONE')[0]!.text).toBe('state 49');
    c.advance(1200);
    expect((await update('state 51')).status).toBe(200);

    const open = (token: string) => call(e, token, 'apps.connections.open', {});
    for (let i = 0; i < 5; i++) expect((await open(ws.appToken)).status).toBe(200);
    expect(await open(ws.appToken)).toMatchObject({ status: 429, retryAfter: '60' });
    // The other workspace's app has its own budget.
    expect((await open(other.appToken)).status).toBe(200);
    c.advance(60_000);
    expect((await open(ws.appToken)).status).toBe(200);
  });

  it('gives a distributed non-Marketplace app 15 messages a page and one history call a minute', async () => {
    const c = clock();
    const { emulator: e, ws } = await setUp({ now: c.now, limits: { latencyMs: 0, distributedApp: true, postBurst: 100 } });
    for (let i = 0; i < 20; i++) expect((await post(e, ws, 'C0ONE', `m${i}`)).status).toBe(200);
    const first = await call(e, ws.botToken, 'conversations.history', { channel: 'C0ONE', limit: 200 });
    const messages = first.body.messages as { text: string }[];
    expect(messages.map((m) => m.text)).toEqual(Array.from({ length: 15 }, (_, i) => `m${19 - i}`));
    expect(first.body.has_more).toBe(true);
    const cursor = (first.body.response_metadata as { next_cursor: string }).next_cursor;
    expect(await call(e, ws.botToken, 'conversations.history', { channel: 'C0ONE', cursor })).toMatchObject({ status: 429, retryAfter: '60' });
    expect((await call(e, ws.botToken, 'conversations.replies', { channel: 'C0ONE', ts: (await post(e, ws, 'C0TWO', 'x')).body.ts })).status).not.toBe(429);
    c.advance(60_000);
    const rest = await call(e, ws.botToken, 'conversations.history', { channel: 'C0ONE', cursor });
    expect((rest.body.messages as { text: string }[]).map((m) => m.text)).toEqual(['m4', 'm3', 'm2', 'm1', 'm0']);
    expect(rest.body.has_more).toBe(false);
  });

  it('takes at least 50 ms to answer a call by default', async () => {
    const { emulator: e, ws } = await setUp();
    const started = performance.now();
    expect((await call(e, ws.botToken, 'auth.test', {})).body.ok).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(49);
  });

  it('lifts the rate limits only when asked to', async () => {
    const { emulator: e, ws } = await setUp({ limits: { enabled: false, latencyMs: 0 } });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => post(e, ws, 'C0ONE', `free ${i}`)));
    expect(results.every((r) => r.status === 200)).toBe(true);
  });

  it('refuses a nonsensical budget or latency', () => {
    expect(() => new SlackLimits({ postsPerSecondPerChannel: 0 })).toThrow(/rate budget/);
    expect(() => new SlackLimits({ latencyMs: { min: 300, max: 50 } })).toThrow(/latency/);
    const fixed = new SlackLimits({ latencyMs: 120 });
    expect(fixed.latency()).toBe(120);
  });
});
