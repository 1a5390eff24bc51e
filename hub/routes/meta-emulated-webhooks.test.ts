import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { GraphEmulator, signedWebhook, messengerWebhooks as ms, whatsappWebhooks as wa } from '../../connectors/meta/testing/emulator.js';

/*
 * What the Graph emulator sends and serves by itself, against a listening hub: Messenger's echo, delivery
 * and read webhooks after each send (signed and escaped as Meta does), and WhatsApp media URLs that
 * expire five minutes after Graph named them (the emulator's clock).
 */

const SECRET = 'emulated-meta-app-secret';
const PAGE = '300000000000041';
const NUMBER = '100000000000041';
const WAIT = 60_000;

describe('the Graph emulator\'s own webhooks and media URLs', () => {
  let t: TestHub;
  let graph: GraphEmulator;
  let a: TestAccount;
  /** How far Graph's clock runs ahead of this machine's. */
  let ahead = 0;

  const post = (kind: 'whatsapp' | 'messenger', body: unknown) => {
    const signed = signedWebhook(SECRET, body);
    return t.app.inject({ method: 'POST', url: `/webhooks/${kind}`, payload: signed.payload, headers: signed.headers });
  };
  const admin = () => ({ authorization: `Bearer ${a.users.admin.token}` });

  beforeAll(async () => {
    graph = await GraphEmulator.start({ now: () => Date.now() + ahead, latencyMs: [0, 0] });
    graph.addPage({ id: PAGE, token: 'emulated-page-token', appId: '4242' });
    graph.addNumber({ id: NUMBER, token: 'emulated-wa-token' });
    t = await startTestHub({ env: { HUMMDESK_META_APP_SECRET: SECRET, HUMMDESK_META_VERIFY_TOKEN: 'vt', HUMMDESK_META_GRAPH_URL: graph.url, HUMMDESK_META_APP_ID: '4242' } });
    a = await createTestAccount(t);
    for (const payload of [
      { kind: 'messenger', name: 'Messenger', externalKey: PAGE, secrets: { accessToken: 'emulated-page-token' } },
      { kind: 'whatsapp', name: 'WhatsApp', externalKey: NUMBER, secrets: { accessToken: 'emulated-wa-token' } },
    ]) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/channels', headers: admin(), payload });
      expect(res.statusCode, res.body).toBe(201);
    }
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    // Echo, delivery, read, and a late duplicate delivery that must not undo the read.
    graph.messenger.webhookTarget = { url: `${address}/webhooks/messenger`, appSecret: SECRET, receipts: ['echo', 'delivery', 'read', 'delivery'] };
  });
  afterAll(async () => {
    if (graph) graph.messenger.webhookTarget = undefined;
    await t?.close();
    await graph?.close();
  });

  it('Messenger: a reply\'s echo confirms it (never a second message), its delivery and read watermarks end it read', async () => {
    const psid = '400000000000041';
    graph.customerWrote(PAGE, psid);
    expect((await post('messenger', ms.text(PAGE, psid, { mid: 'm_EMU-IN', text: 'Hei, missä tilaus?' }))).json().results).toEqual(['created']);
    const conversationId = (await t.hub.db.query<{ conversation_id: string }>(`SELECT conversation_id FROM messages WHERE external_id = 'm_EMU-IN'`)).rows[0]!.conversation_id;
    const answers = graph.messenger.webhookAnswers.length;
    const reply = await t.app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/reply`, headers: { authorization: `Bearer ${a.users.agent.token}` }, payload: { text: 'Matkalla / on its way – ä' } });
    expect(reply.statusCode, reply.body).toBe(202);
    const sent = await eventually(async () => graph.messengerInbox.find((m) => m.metadata === `hummdesk:${reply.json().id}`), WAIT);
    // All four webhooks were posted by the emulator, signed over its escaped bytes, and accepted.
    await eventually(async () => graph.messenger.webhookAnswers.length === answers + 4, WAIT);
    expect(graph.messenger.webhookAnswers.slice(answers)).toEqual([200, 200, 200, 200]);
    const row = (await t.hub.db.query<{ delivery_status: string; external_id: string }>(`SELECT delivery_status, external_id FROM messages WHERE id = $1`, [reply.json().id])).rows[0]!;
    expect(row).toEqual({ delivery_status: 'read', external_id: sent.id });
    const outbound = await t.hub.db.query(`SELECT id FROM messages WHERE conversation_id = $1 AND direction = 'outbound'`, [conversationId]);
    expect(outbound.rows).toHaveLength(1);
  });

  it('WhatsApp: a media URL that expired before its download is asked for again; the file is stored once', async () => {
    const bytes = Buffer.alloc(120_000, 5);
    graph.addMedia('MEDIA-EXPIRES', NUMBER, bytes, 'image/jpeg');
    const release = graph.holdDownloads();
    const lookups = () => graph.requests.filter((r) => r.method === 'GET' && /^\/v\d+\.\d+\/MEDIA-EXPIRES$/.test(r.path)).length;
    const image = wa.message(NUMBER, { waId: '358405555555' }, { id: 'wamid.EXPIRES', type: 'image', image: { id: 'MEDIA-EXPIRES', mime_type: 'image/jpeg', sha256: 'x' } });
    expect((await post('whatsapp', image)).json().results).toEqual(['created']);
    // The hub asked Graph for the URL and its download is waiting: six minutes pass on Graph's clock.
    try {
      await eventually(async () => graph.requests.some((r) => r.path === '/media-download/MEDIA-EXPIRES'), WAIT);
      expect(lookups()).toBe(1);
      ahead += 6 * 60_000;
    } finally {
      release();
    }
    const attachment = async () =>
      (await t.hub.db.query<{ fetch_state: string; size: number | null; blob_key: string | null }>(
        `SELECT a.fetch_state, a.size, a.blob_key FROM attachments a JOIN messages m ON m.id = a.message_id WHERE m.external_id = 'wamid.EXPIRES'`,
      )).rows;
    const stored = await eventually(async () => (await attachment()).find((r) => r.fetch_state === 'stored'), WAIT);
    expect(stored.size).toBe(bytes.length);
    expect(await attachment()).toHaveLength(1);
    // The expired URL was refused once; the retry asked Graph again for a fresh one, and that download stored the file.
    expect(lookups()).toBe(2);
    expect(graph.requests.filter((r) => r.path === '/media-download/MEDIA-EXPIRES')).toHaveLength(2);
    expect(graph.downloads).toBe(2);
  });
});
