import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { GraphEmulator, signedWebhook, messengerWebhooks as ms } from '../../connectors/meta/testing/emulator.js';

const SECRET = 'handover-meta-app-secret';
const PAGE = '300000000000071';
const OUR_APP = '4242';
const PAGE_INBOX = '263902037430900';

describe('Messenger handover, Page inbox replies and files (/webhooks/messenger)', () => {
  let t: TestHub;
  let graph: GraphEmulator;
  let a: TestAccount;
  let psidSeq = 0;

  const post = (body: unknown) => {
    const signed = signedWebhook(SECRET, body);
    return t.app.inject({ method: 'POST', url: '/webhooks/messenger', payload: signed.payload, headers: signed.headers });
  };
  const api = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${a.users.agent.token}` }, ...(payload ? { payload: payload as Record<string, unknown> } : {}) });
  const conversationOf = async (mid: string) => (await t.hub.db.query<{ conversation_id: string }>(`SELECT conversation_id FROM messages WHERE external_id = $1`, [mid])).rows[0]!.conversation_id;
  const control = async (conversationId: string) => (await t.hub.db.query<{ c: Record<string, unknown> | null }>(`SELECT metadata->'control' AS c FROM conversations WHERE id = $1`, [conversationId])).rows[0]!.c;
  /** A customer whose first message arrived while the Page inbox held the thread. */
  const customerWithInbox = async () => {
    const psid = `4000000000071${String(++psidSeq).padStart(2, '0')}`;
    graph.customerWrote(PAGE, psid);
    graph.messenger.giveThreadTo(PAGE, psid, PAGE_INBOX);
    const mid = `m_HO_${psidSeq}`;
    expect((await post(ms.item(PAGE, psid, { message: { mid, text: 'Where is my parcel?' } }, { standby: true }))).json().results).toEqual(['created']);
    const conversationId = await conversationOf(mid);
    expect((await post(ms.item(PAGE, psid, { take_thread_control: { previous_owner_app_id: OUR_APP, new_owner_app_id: PAGE_INBOX, metadata: 'inbox agent' } }))).json().results).toEqual(['control']);
    return { psid, conversationId };
  };

  beforeAll(async () => {
    graph = await GraphEmulator.start();
    graph.addPage({ id: PAGE, name: 'Handover Page', token: 'page-token-ho', appId: OUR_APP });
    t = await startTestHub({ env: { HUMMDESK_META_APP_SECRET: SECRET, HUMMDESK_META_VERIFY_TOKEN: 'v', HUMMDESK_META_GRAPH_URL: graph.url, HUMMDESK_META_APP_ID: OUR_APP } });
    a = await createTestAccount(t);
    const created = await t.app.inject({
      method: 'POST', url: '/api/v1/channels', headers: { authorization: `Bearer ${a.users.admin.token}` },
      payload: { kind: 'messenger', name: 'Messenger', externalKey: PAGE, secrets: { accessToken: 'page-token-ho' } },
    });
    expect(created.statusCode, created.body).toBe(201);
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    graph.messenger.webhookTarget = { url: `${address}/webhooks/messenger`, appSecret: SECRET };
  });
  afterAll(async () => {
    await t?.close();
    await graph?.close();
  });

  it('keeps standby messages as context, records a Page inbox reply as our side once, and knows the inbox owns the thread', async () => {
    const { psid, conversationId } = await customerWithInbox();
    const standby = (await t.hub.db.query<{ auto_reply: boolean }>(`SELECT auto_reply FROM messages WHERE external_id = 'm_HO_1'`)).rows[0]!;
    expect(standby.auto_reply).toBe(true);
    expect(await control(conversationId)).toMatchObject({ owner: 'other', appId: PAGE_INBOX, previousAppId: OUR_APP });

    const echo = ms.echo(PAGE, psid, { mid: 'm_INBOX_1', text: 'Hi! It left our warehouse today.', appId: Number(PAGE_INBOX) });
    for (let i = 0; i < 2; i++) expect((await post(echo)).json().results).toEqual([i === 0 ? 'created' : 'duplicate']);
    const rows = (await t.hub.db.query<{ direction: string; author_kind: string; author_user_id: string | null; delivery_status: string; by: string }>(
      `SELECT direction, author_kind, author_user_id, delivery_status, metadata->>'sentElsewhere' AS by FROM messages WHERE external_id = 'm_INBOX_1'`,
    )).rows;
    expect(rows).toEqual([{ direction: 'outbound', author_kind: 'agent', author_user_id: null, delivery_status: 'sent', by: 'messenger_page_inbox' }]);
    const conversation = (await api('GET', `/conversations/${conversationId}`)).json();
    expect(conversation.conversation.status).toBe('pending');
  });

  it('an echo of a thread HummDesk never had stays outside it', async () => {
    const res = await post(ms.echo(PAGE, '400000000000999', { mid: 'm_INBOX_ORPHAN', text: 'Hello from the inbox', appId: Number(PAGE_INBOX) }));
    expect(res.json().results).toEqual(['echo']);
    expect((await t.hub.db.query(`SELECT 1 FROM messages WHERE external_id = 'm_INBOX_ORPHAN'`)).rowCount).toBe(0);
  });

  it('an agent reply takes the thread before it is sent; resolving passes it back to the Page inbox', async () => {
    const { psid, conversationId } = await customerWithInbox();
    // Sending while the inbox owns the thread is refused by Meta: the reply goes out only because it took control first.
    const reply = await api('POST', `/conversations/${conversationId}/reply`, { text: 'I am on it.' });
    expect(reply.statusCode, reply.body).toBe(202);
    const sent = await eventually(async () => graph.messengerInbox.find((m) => m.metadata === `hummdesk:${reply.json().id}`));
    expect(sent).toMatchObject({ psid, text: 'I am on it.', messagingType: 'RESPONSE' });
    expect(graph.messenger.controlCalls.filter((c) => c.psid === psid)).toEqual([{ kind: 'take', pageId: PAGE, psid, toAppId: OUR_APP }]);
    // Meta tells subscribed apps of the take; the conversation now knows the thread is ours and whose it was.
    expect(await eventually(async () => ((await control(conversationId))?.owner === 'us' ? control(conversationId) : undefined))).toMatchObject({ appId: OUR_APP, previousAppId: PAGE_INBOX });

    // A second reply while we own it takes nothing.
    const again = await api('POST', `/conversations/${conversationId}/reply`, { text: 'Found it.' });
    await eventually(async () => graph.messengerInbox.find((m) => m.metadata === `hummdesk:${again.json().id}`));
    expect(graph.messenger.controlCalls.filter((c) => c.psid === psid)).toHaveLength(1);

    const resolved = await api('POST', `/conversations/${conversationId}/status`, { status: 'resolved' });
    expect(resolved.statusCode, resolved.body).toBe(200);
    await eventually(async () => graph.messenger.controlCalls.some((c) => c.psid === psid && c.kind === 'pass'));
    expect(graph.messenger.controlCalls.filter((c) => c.psid === psid).at(-1)).toEqual({ kind: 'pass', pageId: PAGE, psid, toAppId: PAGE_INBOX });
    expect(graph.messenger.ownerOf({ id: PAGE, name: 'x', appId: OUR_APP }, psid)).toBe(PAGE_INBOX);
  });

  it('a reply with files uploads each first, then sends the text and one message per file', async () => {
    const psid = '400000000000751';
    graph.customerWrote(PAGE, psid);
    await post(ms.text(PAGE, psid, { mid: 'm_FILES_1', text: 'Can you send the invoice?' }));
    const conversationId = await conversationOf('m_FILES_1');
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4a90000000049454e44ae426082', 'hex');
    const reply = await api('POST', `/conversations/${conversationId}/reply`, {
      text: 'Here you are.',
      attachments: [
        { name: 'invoice.pdf', mimeType: 'application/pdf', contentBase64: Buffer.from('%PDF-1.4 test').toString('base64') },
        { name: 'stamp.png', mimeType: 'image/png', contentBase64: png.toString('base64') },
      ],
    });
    expect(reply.statusCode, reply.body).toBe(202);
    const ours = await eventually(async () => {
      const got = graph.messengerInbox.filter((m) => m.metadata === `hummdesk:${reply.json().id}`);
      return got.length === 3 ? got : undefined;
    });
    expect(ours.map((m) => m.text ?? m.attachment)).toEqual([
      'Here you are.',
      { type: 'file', name: 'invoice.pdf', mimeType: 'application/pdf', size: 13 },
      { type: 'image', name: 'stamp.png', mimeType: 'image/png', size: png.length },
    ]);
    // The reply is known by the text's message id (the first one sent).
    await eventually(async () => (await t.hub.db.query(`SELECT 1 FROM messages WHERE id = $1 AND external_id = $2 AND delivery_status = 'sent'`, [reply.json().id, ours[0]!.id])).rowCount === 1);
  });
});
