import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { GraphEmulator, signedWebhook, whatsappWebhooks as wa } from '../../connectors/meta/testing/emulator.js';
import type { AccountEvent } from '../realtime/events.js';

/*
 * WhatsApp Cloud API and Messenger channels cut off from Meta: a refused token (190, expired or revoked)
 * or a number taken off its business account marks the channel disconnected (code, our words, since when)
 * in GET /channels/status, as the console shows a failing mailbox; admins are told once (audit, realtime
 * event); the next call Meta accepts (a send, the console's "Test connection") clears it.
 */

const SECRET = 'health-meta-app-secret';
const NUMBER = '100000000000083';
const TOKEN = 'token-health';
const PAGE = '300000000000083';
const PAGE_TOKEN = 'page-token-health';
const WAIT = 60_000;

let t: TestHub;
let graph: GraphEmulator;
let a: TestAccount;
let whatsapp: string;
let conversationId: string;
const events: AccountEvent[] = [];

const api = (method: 'GET' | 'POST', url: string, payload?: unknown, token = a.users.admin.token) =>
  t.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
const statusOf = async (channelId: string) => {
  const res = await api('GET', '/channels/status', undefined, a.users.viewer.token);
  expect(res.statusCode, res.body).toBe(200);
  return (res.json().items as { channelId: string; state: string; lastError: { code?: string; message: string; at: string } | null; since: string | null }[]).find((i) => i.channelId === channelId)!;
};
const audits = async (action: string, channelId: string) =>
  Number((await t.hub.db.query<{ n: string }>(`SELECT count(*) AS n FROM audit_log WHERE action = $1 AND target_id = $2`, [action, channelId])).rows[0]!.n);
/** Every job done or given up (read marks fail on a refused token too): none can record an older failure after what follows. */
const jobsSettled = () => eventually(async () => Number((await t.hub.db.query<{ n: string }>(`SELECT count(*) AS n FROM outbox WHERE done_at IS NULL AND dead_at IS NULL`)).rows[0]!.n) === 0, WAIT);
/** An agent's reply and how its delivery ended. */
const replied = async (text: string) => {
  const reply = await t.hub.conversations.reply({ accountId: a.accountId, kind: 'user', id: a.users.agent.id }, conversationId, { text });
  return eventually(async () => {
    const row = (await t.hub.db.query<{ s: string; e: string | null }>(`SELECT delivery_status s, delivery_error e FROM messages WHERE id = $1`, [reply.id])).rows[0]!;
    return row.s === 'queued' || row.s === 'sending' ? undefined : row;
  }, WAIT);
};

beforeAll(async () => {
  graph = await GraphEmulator.start();
  graph.addNumber({ id: NUMBER, token: TOKEN });
  graph.addPage({ id: PAGE, token: PAGE_TOKEN });
  t = await startTestHub({ env: { HUMMDESK_META_APP_SECRET: SECRET, HUMMDESK_META_VERIFY_TOKEN: 'vt', HUMMDESK_META_GRAPH_URL: graph.url } });
  a = await createTestAccount(t);
  t.hub.bus.subscribe(a.accountId, (e) => void events.push(e));
  const res = await api('POST', '/channels', { kind: 'whatsapp', name: 'WhatsApp', externalKey: NUMBER, secrets: { accessToken: TOKEN } });
  expect(res.statusCode, res.body).toBe(201);
  whatsapp = res.json().id;
  graph.customerWrote(NUMBER, '358407000083');
  const signed = signedWebhook(SECRET, wa.text(NUMBER, { waId: '358407000083', name: 'Aada' }, { id: 'wamid.HEALTH-1', body: 'Hei!' }));
  expect((await t.app.inject({ method: 'POST', url: '/webhooks/whatsapp', payload: signed.payload, headers: signed.headers })).statusCode).toBe(200);
  conversationId = (await t.hub.db.query<{ conversation_id: string }>(`SELECT conversation_id FROM messages WHERE external_id = 'wamid.HEALTH-1'`)).rows[0]!.conversation_id;
});
afterAll(async () => {
  await t?.close();
  await graph?.close();
});

describe('a Meta channel cut off from Meta', () => {
  it('an expired token (190) marks the WhatsApp channel disconnected once, with its code and since when; the next accepted call clears it', async () => {
    expect((await replied('Ensimmäinen')).s).toBe('sent');
    expect(await statusOf(whatsapp)).toMatchObject({ state: 'active', lastError: null, since: null });

    graph.refuseToken(TOKEN, 'expired');
    const failed = await replied('Toinen');
    expect(failed).toMatchObject({ s: 'failed' });
    const down = await statusOf(whatsapp);
    expect(down).toMatchObject({ state: 'disconnected', lastError: { code: 'channel_auth_failed' } });
    expect(down.lastError!.message).toContain('access token');
    expect(down.since).toBe(down.lastError!.at);
    expect(await audits('channel.disconnected', whatsapp)).toBe(1);
    expect(events.map((e) => e.event)).toContainEqual({ type: 'channel.disconnected', channelId: whatsapp, kind: 'whatsapp', reason: 'channel_auth_failed' });

    // Failing again keeps the first "since" and tells no one twice.
    expect((await replied('Kolmas')).s).toBe('failed');
    const still = await statusOf(whatsapp);
    expect(still.since).toBe(down.since);
    expect(still.lastError!.at >= down.lastError!.at).toBe(true);
    expect(await audits('channel.disconnected', whatsapp)).toBe(1);

    // The admin renews the token at Meta and tests the connection: Meta accepts, the state clears.
    await jobsSettled();
    graph.refuseToken(TOKEN, 'restore');
    expect((await api('POST', `/channels/${whatsapp}/check`)).json()).toEqual({ ok: true });
    expect(await audits('channel.reconnected', whatsapp)).toBe(1);
    // Connected again; until a reply goes out, the last delivery's failure is what the channel shows.
    expect(await statusOf(whatsapp)).toMatchObject({ state: 'failing' });
    expect((await replied('Neljäs')).s).toBe('sent');
    expect(await statusOf(whatsapp)).toMatchObject({ state: 'active', lastError: null, since: null });
  });

  it('a number removed from its business account shows as disconnected with its own code until a send goes through', async () => {
    graph.removeNumber(NUMBER);
    expect((await replied('Viides')).s).toBe('failed');
    const down = await statusOf(whatsapp);
    expect(down).toMatchObject({ state: 'disconnected', lastError: { code: 'meta_installation_removed' } });
    expect(down.lastError!.message).toContain('business number');
    await jobsSettled();
    graph.removeNumber(NUMBER, true);
    expect((await replied('Kuudes')).s).toBe('sent');
    expect(await statusOf(whatsapp)).toMatchObject({ state: 'active', lastError: null });
  });

  it('a Messenger Page whose token Meta revoked shows as disconnected; "Test connection" says so, and clears it once accepted', async () => {
    const res = await api('POST', '/channels', { kind: 'messenger', name: 'Messenger', externalKey: PAGE, secrets: { accessToken: PAGE_TOKEN } });
    expect(res.statusCode, res.body).toBe(201);
    const page = res.json().id as string;
    graph.refuseToken(PAGE_TOKEN, 'revoked');
    expect((await api('POST', `/channels/${page}/check`)).json()).toMatchObject({ ok: false, code: 'channel_auth_failed' });
    expect(await statusOf(page)).toMatchObject({ state: 'disconnected', lastError: { code: 'channel_auth_failed' } });
    graph.refuseToken(PAGE_TOKEN, 'restore');
    expect((await api('POST', `/channels/${page}/check`)).json()).toEqual({ ok: true });
    expect(await statusOf(page)).toMatchObject({ state: 'active' });
  });
});
