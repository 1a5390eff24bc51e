import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SOCKET_MODE_MAX_CONNECTIONS, SlackEmulator, type EmulatedWorkspace } from './emulator.js';

/** The emulator's Socket Mode refuses what Slack refuses: more than 10 open connections of one app. */

let emulator: SlackEmulator;
let ws: EmulatedWorkspace;
const open: WebSocket[] = [];

beforeAll(async () => {
  // Rate limits off: apps.connections.open is Tier 1, and this is about connections, not calls.
  emulator = await SlackEmulator.start({ limits: { enabled: false, latencyMs: { min: 0, max: 0 } } });
  ws = emulator.addWorkspace({ teamId: 'T0CAP' });
});
afterAll(async () => {
  for (const s of open) s.terminate();
  await emulator?.close();
});

/** apps.connections.open with the app-level token, then the WebSocket: its first message (hello or disconnect) and whether it closed. */
async function connect(): Promise<{ socket: WebSocket; first: { type: string; reason?: string }; closed: Promise<void> }> {
  const res = await fetch(`${emulator.apiUrl}apps.connections.open`, { method: 'POST', headers: { authorization: `Bearer ${ws.appToken}` } });
  const { ok, url } = (await res.json()) as { ok: boolean; url: string };
  expect(ok).toBe(true);
  const socket = new WebSocket(url);
  open.push(socket);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const first = await new Promise<{ type: string; reason?: string }>((resolve, reject) => {
    socket.once('message', (data) => resolve(JSON.parse(String(data)) as { type: string; reason?: string }));
    socket.once('error', reject);
  });
  return { socket, first, closed };
}

describe('socket mode connections per app', () => {
  it('accepts 10 connections of an app; the 11th is told too_many_websockets and closed, the 10 stay open', async () => {
    expect(SOCKET_MODE_MAX_CONNECTIONS).toBe(10);
    for (let i = 0; i < 10; i++) expect((await connect()).first.type).toBe('hello');
    expect(emulator.socketCount('T0CAP')).toBe(10);
    const eleventh = await connect();
    expect(eleventh.first).toMatchObject({ type: 'disconnect', reason: 'too_many_websockets' });
    await eleventh.closed;
    expect(emulator.socketCount('T0CAP')).toBe(10);
    // A connection that goes frees its place.
    const first = open[0]!;
    const gone = new Promise<void>((resolve) => first.once('close', () => resolve()));
    first.close();
    await gone;
    await expect.poll(() => emulator.socketCount('T0CAP')).toBe(9);
    expect((await connect()).first.type).toBe('hello');
  });
});
