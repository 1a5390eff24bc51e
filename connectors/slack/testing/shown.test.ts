import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackEmulator, type EmulatedWorkspace } from './emulator.js';
import { ShownMessages } from './shown.js';

let emulator: SlackEmulator;
let ws: EmulatedWorkspace;
beforeAll(async () => {
  emulator = await SlackEmulator.start({ limits: { latencyMs: 0 } });
  ws = emulator.addWorkspace({ teamId: 'T0SHOW', channels: [{ id: 'C0TRIAGE', name: 'triage', isMember: true }, { id: 'C0OTHER', name: 'other', isMember: true }] });
});
afterAll(() => emulator?.close());

async function call(method: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await fetch(`${emulator.apiUrl}${method}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ws.botToken}` }, body: JSON.stringify(args) });
  return (await res.json()) as Record<string, unknown>;
}

describe('ShownMessages', () => {
  it('records which customer messages each post and update shows, and which are shown in two posts', async () => {
    const shown = new ShownMessages(emulator, { channels: (c) => c === 'C0TRIAGE', token: /tk\d+x/g });
    const root = await call('chat.postMessage', { channel: 'C0TRIAGE', text: 'card', blocks: [{ type: 'section', text: { type: 'plain_text', text: 'first: tk1x' } }] });
    await call('chat.postMessage', { channel: 'C0TRIAGE', thread_ts: root.ts, text: 'tk2x and tk3x' });
    // An update of the same post showing the same message again is not a second post.
    await call('chat.update', { channel: 'C0TRIAGE', ts: root.ts, text: 'card tk1x, now with tk4x' });
    await call('chat.postMessage', { channel: 'C0TRIAGE', thread_ts: root.ts, text: 'again tk3x' });
    await call('chat.postMessage', { channel: 'C0OTHER', text: 'elsewhere tk5x' });
    expect(shown.tally(['tk1x', 'tk2x', 'tk3x', 'tk4x', 'tk5x', 'tk6x'])).toMatchObject({ shown: 4, doubled: 1 });
    expect(shown.postsShowing('tk1x')).toBe(1);
    expect(shown.postsShowing('tk3x')).toBe(2);
    expect(shown.shownAt('tk5x')).toBeUndefined();
    expect(shown.shownAt('tk4x')).toBeGreaterThanOrEqual(shown.shownAt('tk1x')!);
  });
});
