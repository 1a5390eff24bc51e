import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { GraphEmulator, signedWebhook, messengerWebhooks as ms } from '../../connectors/meta/testing/emulator.js';
import { withAccount } from '../../storage/session.js';
import { readCardModel } from '../surfaces/card-store.js';

/*
 * Messenger's reply window as the conversation API and the card model (read by Slack's and Teams'
 * renderers) show it: the 24-hour RESPONSE window, the HUMAN_AGENT tag's 7 days, closed; and a Page that
 * may not use the tag has 24 hours, refused at reply time as the connector would refuse it.
 */

const SECRET = 'window-meta-app-secret';
const PAGE = '300000000000091';
const PAGE_NO_TAG = '300000000000092';

describe('Messenger reply window in the API and on cards', () => {
  let t: TestHub;
  let graph: GraphEmulator;
  let a: TestAccount;

  const api = (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>, token = a.users.agent.token) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
  const customerWrites = async (page: string, psid: string, mid: string) => {
    const signed = signedWebhook(SECRET, ms.text(page, psid, { mid, text: 'Hei' }));
    const res = await t.app.inject({ method: 'POST', url: '/webhooks/messenger', payload: signed.payload, headers: signed.headers });
    expect(res.json().results, res.body).toEqual(['created']);
    return (await t.hub.db.query<{ conversation_id: string }>(`SELECT conversation_id FROM messages WHERE external_id = $1`, [mid])).rows[0]!.conversation_id;
  };
  const age = (conversationId: string, interval: string) =>
    t.hub.db.query(`UPDATE messages SET sent_at = now() - $2::interval WHERE conversation_id = $1 AND direction = 'inbound'`, [conversationId, interval]);
  const card = (conversationId: string) => withAccount(t.hub.db, a.accountId, (tx) => readCardModel(tx, conversationId, { url: (id) => `https://hub.example/c/${id}`, threadReplies: 'notes' }));

  beforeAll(async () => {
    graph = await GraphEmulator.start();
    graph.addPage({ id: PAGE, token: 'page-token-w' });
    graph.addPage({ id: PAGE_NO_TAG, token: 'page-token-n' });
    t = await startTestHub({ env: { HUMMDESK_META_APP_SECRET: SECRET, HUMMDESK_META_VERIFY_TOKEN: 'vt', HUMMDESK_META_GRAPH_URL: graph.url, HUMMDESK_META_APP_ID: '4242' } });
    a = await createTestAccount(t);
    for (const [page, token, config] of [[PAGE, 'page-token-w', {}], [PAGE_NO_TAG, 'page-token-n', { humanAgentTag: false }]] as const) {
      const res = await api('POST', '/channels', { kind: 'messenger', name: `Messenger ${page}`, externalKey: page, secrets: { accessToken: token }, config }, a.users.admin.token);
      expect(res.statusCode, res.body).toBe(201);
    }
  });
  afterAll(async () => {
    await t?.close();
    await graph?.close();
  });

  it('shows the RESPONSE window, then the HUMAN_AGENT tag\'s days, then closed, in the conversation API and the card model', async () => {
    const conversationId = await customerWrites(PAGE, '400000000000911', 'm_W1');
    const view = async () => (await api('GET', `/conversations/${conversationId}`)).json().channelWindow;
    const last = async () => (await t.hub.db.query<{ sent_at: Date }>(`SELECT sent_at FROM messages WHERE conversation_id = $1 AND direction = 'inbound'`, [conversationId])).rows[0]!.sent_at.getTime();

    let sentAt = await last();
    const windowAt = () => ({ closesAt: new Date(sentAt + 7 * 24 * 3600_000).toISOString(), responseClosesAt: new Date(sentAt + 24 * 3600_000).toISOString() });
    expect(await view()).toEqual({ kind: 'messenger', state: 'open', open: true, ...windowAt() });
    expect((await card(conversationId))!.replyWindow).toEqual({ kind: 'messenger', ...windowAt() });

    await age(conversationId, '30 hours');
    sentAt = await last();
    expect(await view()).toEqual({ kind: 'messenger', state: 'human_agent', open: true, ...windowAt() });
    expect((await card(conversationId))!.replyWindow).toEqual({ kind: 'messenger', ...windowAt() });

    await age(conversationId, '8 days');
    sentAt = await last();
    expect(await view()).toEqual({ kind: 'messenger', state: 'closed', open: false, ...windowAt() });
  });

  it('a Page that may not use the HUMAN_AGENT tag shows 24 hours, and a reply after them is refused before it is stored', async () => {
    const conversationId = await customerWrites(PAGE_NO_TAG, '400000000000922', 'm_W2');
    await age(conversationId, '30 hours');
    const view = (await api('GET', `/conversations/${conversationId}`)).json().channelWindow;
    expect(view).toMatchObject({ kind: 'messenger', state: 'closed', open: false });
    expect(view.responseClosesAt).toBeUndefined();
    const before = (await t.hub.db.query(`SELECT 1 FROM messages WHERE conversation_id = $1`, [conversationId])).rowCount;
    const late = await api('POST', `/conversations/${conversationId}/reply`, { text: 'Anteeksi viive' });
    expect([late.statusCode, late.json().error.code]).toEqual([400, 'messenger_window_closed']);
    expect((await t.hub.db.query(`SELECT 1 FROM messages WHERE conversation_id = $1`, [conversationId])).rowCount).toBe(before);
    expect(graph.messengerInbox).toHaveLength(0);
  });
});
