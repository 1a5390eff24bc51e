import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { slackOf } from '../install-slack.js';
import { withAccount } from '../../storage/session.js';
import { updateChannel } from '../../storage/repositories/channels.js';
import { SlackDriver, envelope } from '../../connectors/slack/testing/driver.js';
import { SlackEmulator, type EmulatedMessage, type EmulatedWorkspace } from '../../connectors/slack/testing/emulator.js';
import { GraphEmulator, signedWebhook, messengerWebhooks as ms, whatsappWebhooks as wa } from '../../connectors/meta/testing/emulator.js';

/*
 * An agent answers a WhatsApp or Messenger customer from the Slack triage thread after the platform's
 * reply window closed: nothing reaches Meta, the agent is told why in the thread (with the approved
 * templates WhatsApp would still take), and Slack gets its 200, so it does not retry the event.
 */

const SIGNING = 'refusal-signing-secret';
const META_SECRET = 'refusal-meta-secret';
const NUMBER = '100000000000093';
const WABA = '200000000000093';
const PAGE = '300000000000093';
const WAIT = 60_000;
let slack: SlackEmulator;
let ws: EmulatedWorkspace;
let graph: GraphEmulator;
let t: TestHub;
let acct: TestAccount;
const driver = new SlackDriver(SIGNING);

beforeAll(async () => {
  slack = await SlackEmulator.start();
  graph = await GraphEmulator.start({ latencyMs: [0, 0] });
  graph.addNumber({ id: NUMBER, token: 'refusal-wa-token', wabaId: WABA });
  graph.addTemplate(WABA, { name: 'order_update', language: 'fi', body: 'Hei {{1}}, tilauksesi {{2}} on matkalla.' });
  graph.addTemplate(WABA, { name: 'not_yet', language: 'fi', body: 'Odota', status: 'PENDING' });
  graph.addPage({ id: PAGE, token: 'refusal-page-token' });
  t = await startTestHub({
    env: { HUMMDESK_META_APP_SECRET: META_SECRET, HUMMDESK_META_VERIFY_TOKEN: 'vt', HUMMDESK_META_GRAPH_URL: graph.url },
    slack: { slackApiUrl: slack.apiUrl, clientId: '1111.3334', clientSecret: 'emulated-client-secret', signingSecret: SIGNING },
  });
  acct = await createTestAccount(t, {
    channelKind: 'slack', channelKey: 'T0REFUSAL', secrets: { signingSecret: SIGNING, botToken: 'set-below' },
    config: { botUserId: 'UBOTREF', customerChannels: [], defaultTriageChannel: 'C0REFTRIAGE', threadReplies: 'replies' },
  });
  ws = slack.addWorkspace({
    teamId: 'T0REFUSAL', botUserId: 'UBOTREF',
    users: [{ id: 'UAGENT', name: 'aino', realName: 'Aino Agent', email: acct.users.agent.email }],
    channels: [{ id: 'C0REFTRIAGE', name: 'support-triage', isMember: true }],
  });
  await withAccount(t.hub.db, acct.accountId, (tx) => updateChannel(tx, t.hub.box, acct.channelId, { secrets: { signingSecret: SIGNING, botToken: ws.botToken } }));
  const admin = { authorization: `Bearer ${acct.users.admin.token}` };
  const whatsapp = await t.app.inject({ method: 'POST', url: '/api/v1/channels', headers: admin, payload: { kind: 'whatsapp', name: 'WhatsApp', externalKey: NUMBER, secrets: { accessToken: 'refusal-wa-token' } } });
  expect(whatsapp.statusCode, whatsapp.body).toBe(201);
  const sync = await t.app.inject({ method: 'POST', url: `/api/v1/channels/${whatsapp.json().id}/templates/sync`, headers: admin, payload: { businessAccountId: WABA } });
  expect(sync.statusCode, sync.body).toBe(200);
  const messenger = await t.app.inject({ method: 'POST', url: '/api/v1/channels', headers: admin, payload: { kind: 'messenger', name: 'Messenger', externalKey: PAGE, secrets: { accessToken: 'refusal-page-token' } } });
  expect(messenger.statusCode, messenger.body).toBe(201);
});
afterAll(async () => {
  await slackOf(t.hub)?.settled();
  await t?.close();
  await graph?.close();
  await slack?.close();
});

/** The conversation of a stored customer message, its Slack card, and its inbound messages moved `hours` into the past. */
async function cardOf(externalId: string, hours: number): Promise<{ conversationId: string; card: EmulatedMessage }> {
  const conversationId = (await t.hub.db.query<{ conversation_id: string }>(`SELECT conversation_id FROM messages WHERE external_id = $1`, [externalId])).rows[0]!.conversation_id;
  const card = await eventually(async () => {
    const row = (await t.hub.db.query<{ key: string }>(`SELECT surface_key AS key FROM surface_threads WHERE conversation_id = $1 AND active`, [conversationId])).rows[0];
    if (!row) return undefined;
    const [channel, ts] = row.key.split(':');
    return slack.messages.find((m: EmulatedMessage) => m.channel === channel && m.ts === ts);
  }, WAIT);
  await t.hub.db.query(`UPDATE messages SET sent_at = now() - make_interval(hours => $2) WHERE conversation_id = $1 AND direction = 'inbound'`, [conversationId, hours]);
  return { conversationId, card };
}

/** The agent's thread reply as Slack delivers it (HTTP status, results) and the ephemerals they got for it. */
async function threadReply(card: EmulatedMessage, text: string) {
  const m = slack.postAsUser('T0REFUSAL', 'C0REFTRIAGE', 'UAGENT', text, card.ts);
  const before = slack.ephemerals.length;
  const { body, headers } = driver.event(envelope('T0REFUSAL', { type: 'message', channel: 'C0REFTRIAGE', user: 'UAGENT', text, ts: m.ts, thread_ts: card.ts }));
  const res = await t.app.inject({ method: 'POST', url: '/webhooks/slack', payload: body, headers });
  return { status: res.statusCode, results: res.statusCode === 200 ? res.json().results : res.body, told: slack.ephemerals.slice(before) };
}

const outboundCount = async (conversationId: string) =>
  Number((await t.hub.db.query<{ n: string }>(`SELECT count(*) AS n FROM messages WHERE conversation_id = $1 AND direction = 'outbound'`, [conversationId])).rows[0]!.n);

describe('a Slack thread reply after the reply window closed', () => {
  it('WhatsApp: answered 200, nothing sent, the agent told why in the thread with the approved templates', async () => {
    graph.customerWrote(NUMBER, '358408000093');
    const signed = signedWebhook(META_SECRET, wa.text(NUMBER, { waId: '358408000093', name: 'Veera' }, { id: 'wamid.REFUSE-1', body: 'Missä paketti?' }));
    expect((await t.app.inject({ method: 'POST', url: '/webhooks/whatsapp', payload: signed.payload, headers: signed.headers })).statusCode).toBe(200);
    const { conversationId, card } = await cardOf('wamid.REFUSE-1', 25);
    const sentBefore = graph.inbox.length;

    const reply = await threadReply(card, 'Se lähti eilen!');
    expect([reply.status, reply.results]).toEqual([200, ['refused']]);
    expect(reply.told).toHaveLength(1);
    expect(reply.told[0]).toMatchObject({ user: 'UAGENT', channel: 'C0REFTRIAGE', threadTs: card.ts });
    expect(reply.told[0]!.text).toMatch(/^:warning: Nothing was sent: WhatsApp allows free text only within 24 hours/);
    // Only what Meta approved is offered: the pending template is not.
    expect(reply.told[0]!.text).toContain('`order_update` (fi)');
    expect(reply.told[0]!.text).not.toContain('not_yet');
    expect(graph.inbox.length).toBe(sentBefore);
    expect(await outboundCount(conversationId)).toBe(0);

    // The refusal is not claimed as done: the same text, once the customer wrote again, goes out.
    graph.customerWrote(NUMBER, '358408000093');
    const again = signedWebhook(META_SECRET, wa.text(NUMBER, { waId: '358408000093', name: 'Veera' }, { id: 'wamid.REFUSE-2', body: 'Haloo?' }));
    expect((await t.app.inject({ method: 'POST', url: '/webhooks/whatsapp', payload: again.payload, headers: again.headers })).statusCode).toBe(200);
    const ok = await threadReply(card, 'Se lähti eilen!');
    expect([ok.status, ok.results]).toEqual([200, ['reply']]);
    await eventually(async () => graph.inbox.find((x) => x.text === 'Se lähti eilen!'), WAIT);
  });

  it('Messenger: after 8 days answered 200, nothing sent, the agent told why in the thread', async () => {
    graph.customerWrote(PAGE, 'PSID-REFUSE');
    const signed = signedWebhook(META_SECRET, ms.text(PAGE, 'PSID-REFUSE', { mid: 'm_REFUSE-1', text: 'Hello?' }));
    expect((await t.app.inject({ method: 'POST', url: '/webhooks/messenger', payload: signed.payload, headers: signed.headers })).statusCode).toBe(200);
    const { conversationId, card } = await cardOf('m_REFUSE-1', 8 * 24);
    const sentBefore = graph.messengerInbox.length;

    const reply = await threadReply(card, 'Sorry for the wait!');
    expect([reply.status, reply.results]).toEqual([200, ['refused']]);
    expect(reply.told).toHaveLength(1);
    expect(reply.told[0]).toMatchObject({ user: 'UAGENT', threadTs: card.ts });
    expect(reply.told[0]!.text).toMatch(/^:warning: Nothing was sent: Messenger allows replies within 24 hours of the customer's last message, or 7 days by a human agent \(this window closed /);
    expect(reply.told[0]!.text).not.toContain('template');
    expect(graph.messengerInbox.length).toBe(sentBefore);
    expect(await outboundCount(conversationId)).toBe(0);
  });
});
