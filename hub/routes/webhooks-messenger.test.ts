import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { GraphEmulator, signedWebhook, messengerWebhooks as ms } from '../../connectors/meta/testing/emulator.js';

const SECRET = 'e2e-meta-app-secret';
const VERIFY = 'e2e-verify-token';
const PAGE_A = '300000000000001';
const PAGE_B = '300000000000002';
const PSID = '400000000000001';

describe('Messenger end to end (/webhooks/messenger)', () => {
  let t: TestHub;
  let graph: GraphEmulator;
  let a: TestAccount;
  let b: TestAccount;
  let channelA: string;
  let channelB: string;

  const post = (body: unknown) => {
    const signed = signedWebhook(SECRET, body);
    return t.app.inject({ method: 'POST', url: '/webhooks/messenger', payload: signed.payload, headers: signed.headers });
  };
  const count = async (sql: string) => Number((await t.hub.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${sql}`)).rows[0]!.n);
  const create = (acct: TestAccount, page: string, token: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/channels', headers: { authorization: `Bearer ${acct.users.admin.token}` }, payload: { kind: 'messenger', name: 'Messenger', externalKey: page, secrets: { accessToken: token } } });

  beforeAll(async () => {
    graph = await GraphEmulator.start();
    graph.addPage({ id: PAGE_A, name: 'Tenant A Page', token: 'page-token-a' });
    graph.addPage({ id: PAGE_B, token: 'page-token-b' });
    t = await startTestHub({ env: { HUMMDESK_META_APP_SECRET: SECRET, HUMMDESK_META_VERIFY_TOKEN: VERIFY, HUMMDESK_META_GRAPH_URL: graph.url, HUMMDESK_META_APP_ID: '4242' } });
    a = await createTestAccount(t);
    b = await createTestAccount(t);
    const ca = await create(a, PAGE_A, 'page-token-a');
    expect(ca.statusCode, ca.body).toBe(201);
    expect(ca.json().config).toEqual({ graphVersion: 'v25.0', pageName: 'Tenant A Page' });
    channelA = ca.json().id;
    channelB = (await create(b, PAGE_B, 'page-token-b')).json().id;
  });
  afterAll(async () => {
    await t?.close();
    await graph?.close();
  });

  it('answers Meta\'s handshake with the challenge for the right verify token, 403 otherwise', async () => {
    const ok = await t.app.inject({ method: 'GET', url: `/webhooks/messenger?hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=42` });
    expect([ok.statusCode, ok.body]).toEqual([200, '42']);
    const wrong = await t.app.inject({ method: 'GET', url: '/webhooks/messenger?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=42' });
    expect(wrong.statusCode).toBe(403);
  });

  it('refuses to claim another tenant\'s Page with a token that is not that Page\'s', async () => {
    const stolen = await create(b, PAGE_A, 'page-token-b');
    expect([stolen.statusCode, stolen.json().error.code]).toEqual([400, 'messenger_page_mismatch']);
    const bad = await create(b, PAGE_A, 'nonsense');
    expect([bad.statusCode, bad.json().error.code]).toEqual([400, 'channel_auth_failed']);
  });

  it('refuses unsigned and re-serialised POSTs with 401 and stores nothing, even for a Page nobody serves', async () => {
    const before = await count('messages');
    for (const body of [ms.text(PAGE_A, PSID, { mid: 'm_UNSIGNED', text: 'päivää / hi' }), ms.text('999999', PSID, { mid: 'm_N', text: 'ä / x' })]) {
      const unsigned = await t.app.inject({ method: 'POST', url: '/webhooks/messenger', payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      expect([unsigned.statusCode, unsigned.json().error.code]).toEqual([401, 'webhook_signature_invalid']);
      const reserialised = await t.app.inject({ method: 'POST', url: '/webhooks/messenger', payload: JSON.stringify(body), headers: signedWebhook(SECRET, body).headers });
      expect(reserialised.statusCode).toBe(401);
    }
    expect(await count('messages')).toBe(before);
  });

  it('stores a signed text once, however often Meta redelivers it, under the customer\'s PSID', async () => {
    const body = ms.text(PAGE_A, PSID, { mid: 'm_ONCE', text: 'Hyvää päivää / 😀' });
    for (let i = 0; i < 3; i++) {
      const res = await post(body);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().results).toEqual([i === 0 ? 'created' : 'duplicate']);
    }
    const rows = (await t.hub.db.query<{ text: string; account_id: string; external_id: string }>(
      `SELECT m.text, m.account_id, ci.external_id FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN contact_identities ci ON ci.contact_id = c.contact_id WHERE m.external_id = 'm_ONCE'`,
    )).rows;
    expect(rows).toEqual([{ text: 'Hyvää päivää / 😀', account_id: a.accountId, external_id: PSID }]);
  });

  it('splits one body across tenants by Page; a Page nobody serves is answered 200 and ignored; our own echo never becomes a message', async () => {
    const body = ms.batch(
      ms.text(PAGE_A, PSID, { mid: 'm_BATCH-A', text: 'to A' }),
      ms.text('999999999', PSID, { mid: 'm_BATCH-X', text: 'to nobody' }),
      ms.text(PAGE_B, PSID, { mid: 'm_BATCH-B', text: 'to B' }),
      ms.echo(PAGE_B, PSID, { mid: 'm_BATCH-ECHO', text: 'ours', appId: 4242 }),
    );
    const res = await post(body);
    expect(res.statusCode, res.body).toBe(200);
    const rows = (await t.hub.db.query<{ external_id: string; account_id: string; channel_id: string }>(`SELECT external_id, account_id, channel_id FROM messages WHERE external_id LIKE 'm_BATCH-%' ORDER BY external_id`)).rows;
    expect(rows).toEqual([
      { external_id: 'm_BATCH-A', account_id: a.accountId, channel_id: channelA },
      { external_id: 'm_BATCH-B', account_id: b.accountId, channel_id: channelB },
    ]);
  });

  it('a reply goes out as a RESPONSE; after 30 hours tagged HUMAN_AGENT; after 8 days refused before anything is stored or sent', async () => {
    const psid = '400000000000777';
    graph.customerWrote(PAGE_A, psid);
    expect((await post(ms.text(PAGE_A, psid, { mid: 'm_Q1', text: 'Missä tilaukseni on?' }))).json().results).toEqual(['created']);
    const conversationId = (await t.hub.db.query<{ conversation_id: string }>(`SELECT conversation_id FROM messages WHERE external_id = 'm_Q1'`)).rows[0]!.conversation_id;
    const reply = (text: string) => t.app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/reply`, headers: { authorization: `Bearer ${a.users.agent.token}` }, payload: { text } });
    const first = await reply('Se on matkalla.');
    expect(first.statusCode, first.body).toBe(202);
    const sent = await eventually(async () => graph.messengerInbox.find((m) => m.metadata === `hummdesk:${first.json().id}`));
    expect(sent).toMatchObject({ pageId: PAGE_A, psid, messagingType: 'RESPONSE', text: 'Se on matkalla.' });
    // Our own send echoed back confirms it; it never becomes a second message.
    expect((await post(ms.echo(PAGE_A, psid, { mid: sent.id, text: sent.text!, appId: 4242 }))).statusCode).toBe(200);
    expect(await count(`messages WHERE external_id = '${sent.id}'`)).toBe(1);

    await t.hub.db.query(`UPDATE messages SET sent_at = now() - interval '30 hours' WHERE conversation_id = $1 AND direction = 'inbound'`, [conversationId]);
    graph.customerWrote(PAGE_A, psid, Date.now() - 30 * 3600_000);
    const tagged = await reply('Anteeksi viive.');
    expect(tagged.statusCode, tagged.body).toBe(202);
    expect(await eventually(async () => graph.messengerInbox.find((m) => m.metadata === `hummdesk:${tagged.json().id}`))).toMatchObject({ messagingType: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' });

    await t.hub.db.query(`UPDATE messages SET sent_at = now() - interval '8 days' WHERE conversation_id = $1 AND direction = 'inbound'`, [conversationId]);
    const before = { sent: graph.messengerInbox.length, messages: await count(`messages WHERE conversation_id = '${conversationId}'`) };
    const late = await reply('Liian myöhään');
    expect([late.statusCode, late.json().error.code]).toEqual([400, 'messenger_window_closed']);
    const tooLong = await reply('x'.repeat(2001));
    expect([tooLong.statusCode, tooLong.json().error.code]).toEqual([400, 'messenger_text_too_long']);
    expect(graph.messengerInbox.length).toBe(before.sent);
    expect(await count(`messages WHERE conversation_id = '${conversationId}'`)).toBe(before.messages);
  });

  it('a read watermark that comes before the send it covers is recorded is kept and applied when the send is', async () => {
    const psid = '400000000000889';
    graph.customerWrote(PAGE_A, psid);
    await post(ms.text(PAGE_A, psid, { mid: 'm_WE1', text: 'Hei taas' }));
    const conversationId = (await t.hub.db.query<{ conversation_id: string }>(`SELECT conversation_id FROM messages WHERE external_id = 'm_WE1'`)).rows[0]!.conversation_id;
    // Meta read the reply to the customer before our deliver job stored its id: nothing to mark yet.
    const early = await post(ms.item(PAGE_A, psid, { read: { watermark: Date.now() + 10 * 60_000 } }));
    expect(early.json().results).toEqual(['status_unmatched']);
    const res = await t.app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/reply`, headers: { authorization: `Bearer ${a.users.agent.token}` }, payload: { text: 'Se on perillä huomenna.' } });
    expect(res.statusCode, res.body).toBe(202);
    const id = res.json().id as string;
    await eventually(async () => (await t.hub.db.query(`SELECT 1 FROM messages WHERE id = $1 AND external_id IS NOT NULL`, [id])).rowCount === 1);
    expect((await t.hub.db.query<{ delivery_status: string }>(`SELECT delivery_status FROM messages WHERE id = $1`, [id])).rows[0]!.delivery_status).toBe('read');
  });

  it('a read watermark marks every earlier send of that customer read, never a later one nor one that failed, and never goes back', async () => {
    const psid = '400000000000888';
    graph.customerWrote(PAGE_A, psid);
    await post(ms.text(PAGE_A, psid, { mid: 'm_W1', text: 'Hei' }));
    const conversationId = (await t.hub.db.query<{ conversation_id: string }>(`SELECT conversation_id FROM messages WHERE external_id = 'm_W1'`)).rows[0]!.conversation_id;
    const reply = async (text: string) => {
      const res = await t.app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/reply`, headers: { authorization: `Bearer ${a.users.agent.token}` }, payload: { text } });
      expect(res.statusCode, res.body).toBe(202);
      const id = res.json().id as string;
      await eventually(async () => (await t.hub.db.query(`SELECT 1 FROM messages WHERE id = $1 AND external_id IS NOT NULL`, [id])).rowCount === 1);
      return id;
    };
    const [early, failed, late] = [await reply('yksi'), await reply('kaksi'), await reply('kolme')];
    await t.hub.db.query(`UPDATE messages SET sent_at = now() - interval '2 minutes' WHERE id = ANY($1)`, [[early, failed]]);
    await t.hub.db.query(`UPDATE messages SET delivery_status = 'failed', delivery_error = 'x' WHERE id = $1`, [failed]);
    const res = await post(ms.item(PAGE_A, psid, { read: { watermark: Date.now() - 60_000 } }));
    expect(res.json().results).toEqual(['status']);
    // A late delivery watermark never undoes read.
    await post(ms.item(PAGE_A, psid, { delivery: { watermark: Date.now() - 60_000 } }));
    const states = (await t.hub.db.query<{ id: string; delivery_status: string }>(`SELECT id, delivery_status FROM messages WHERE id = ANY($1)`, [[early, failed, late]])).rows;
    expect(Object.fromEntries(states.map((r) => [r.id, r.delivery_status]))).toEqual({ [early]: 'read', [failed]: 'failed', [late]: 'sent' });
  });
});
