import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { slackOf } from '../install-slack.js';
import { withAccount } from '../../storage/session.js';
import { updateChannel } from '../../storage/repositories/channels.js';
import { SlackDriver, envelope } from '../../connectors/slack/testing/driver.js';
import { SlackEmulator, type EmulatedMessage, type EmulatedWorkspace } from '../../connectors/slack/testing/emulator.js';
import { GraphEmulator, signedWebhook, whatsappWebhooks as wa } from '../../connectors/meta/testing/emulator.js';

/*
 * A WhatsApp customer answered from the Slack triage card: the card shows the 24-hour window, an
 * agent's thread reply goes to the Graph emulator's inbox, and Meta's statuses come back to the message.
 */

const SIGNING = 'wa-card-signing-secret';
const META_SECRET = 'wa-card-meta-secret';
const NUMBER = '100000000000091';
const WAIT = 60_000;
let slack: SlackEmulator;
let ws: EmulatedWorkspace;
let graph: GraphEmulator;
let t: TestHub;
let acct: TestAccount;
const driver = new SlackDriver(SIGNING);

beforeAll(async () => {
  slack = await SlackEmulator.start();
  graph = await GraphEmulator.start();
  graph.addNumber({ id: NUMBER, token: 'wa-card-token' });
  t = await startTestHub({
    env: { HUMMDESK_META_APP_SECRET: META_SECRET, HUMMDESK_META_VERIFY_TOKEN: 'vt', HUMMDESK_META_GRAPH_URL: graph.url },
    slack: { slackApiUrl: slack.apiUrl, clientId: '1111.3333', clientSecret: 'emulated-client-secret', signingSecret: SIGNING },
  });
  acct = await createTestAccount(t, {
    channelKind: 'slack', channelKey: 'T0WACARD', secrets: { signingSecret: SIGNING, botToken: 'set-below' },
    config: { botUserId: 'UBOTWA', customerChannels: [], defaultTriageChannel: 'C0WATRIAGE', threadReplies: 'replies' },
  });
  ws = slack.addWorkspace({
    teamId: 'T0WACARD', botUserId: 'UBOTWA',
    users: [{ id: 'UAGENT', name: 'aino', realName: 'Aino Agent', email: acct.users.agent.email }],
    channels: [{ id: 'C0WATRIAGE', name: 'support-triage', isMember: true }],
  });
  await withAccount(t.hub.db, acct.accountId, (tx) => updateChannel(tx, t.hub.box, acct.channelId, { secrets: { signingSecret: SIGNING, botToken: ws.botToken } }));
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/channels', headers: { authorization: `Bearer ${acct.users.admin.token}` }, payload: { kind: 'whatsapp', name: 'WhatsApp', externalKey: NUMBER, secrets: { accessToken: 'wa-card-token' } } });
  expect(res.statusCode, res.body).toBe(201);
  const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
  graph.webhookTarget = { url: `${address}/webhooks/whatsapp`, appSecret: META_SECRET, statuses: ['sent', 'delivered'] };
});
afterAll(async () => {
  if (graph) graph.webhookTarget = undefined;
  await slackOf(t.hub)?.settled();
  await t?.close();
  await graph?.close();
  await slack?.close();
});

describe('WhatsApp conversation on a Slack card', () => {
  it('the card shows the window; a thread reply reaches the customer on WhatsApp and its statuses come back', async () => {
    graph.customerWrote(NUMBER, '358408000001');
    const signed = signedWebhook(META_SECRET, wa.text(NUMBER, { waId: '358408000001', name: 'Veera' }, { id: 'wamid.CARD-1', body: 'Onko tilaukseni lähtenyt?' }));
    expect((await t.app.inject({ method: 'POST', url: '/webhooks/whatsapp', payload: signed.payload, headers: signed.headers })).statusCode).toBe(200);
    const conversationId = (await t.hub.db.query<{ conversation_id: string }>(`SELECT conversation_id FROM messages WHERE external_id = 'wamid.CARD-1'`)).rows[0]!.conversation_id;
    const card = await eventually(async () => {
      const row = (await t.hub.db.query<{ key: string }>(`SELECT surface_key AS key FROM surface_threads WHERE conversation_id = $1 AND active`, [conversationId])).rows[0];
      if (!row) return undefined;
      const [channel, ts] = row.key.split(':');
      return slack.messages.find((m: EmulatedMessage) => m.channel === channel && m.ts === ts);
    }, WAIT);
    expect(JSON.stringify(card.blocks)).toContain("Replies allowed until <!date^");

    const m = slack.postAsUser('T0WACARD', 'C0WATRIAGE', 'UAGENT', 'Lähti tänään!', card.ts);
    const res = await t.app.inject({ method: 'POST', url: '/webhooks/slack', ...(({ body, headers }) => ({ payload: body, headers }))(driver.event(envelope('T0WACARD', { type: 'message', channel: 'C0WATRIAGE', user: 'UAGENT', text: 'Lähti tänään!', ts: m.ts, thread_ts: card.ts }))) });
    expect(res.json().results).toEqual(['reply']);
    const sent = await eventually(async () => graph.inbox.find((x) => x.text === 'Lähti tänään!'), WAIT);
    expect(sent).toMatchObject({ to: '358408000001', type: 'text' });
    await eventually(async () => (await t.hub.db.query<{ s: string }>(`SELECT delivery_status s FROM messages WHERE id = $1`, [sent.bizOpaqueCallbackData])).rows[0]?.s === 'delivered', WAIT);
  });

  it('a reply sent from the card shows its WhatsApp statuses on the card: sent, then delivered, then read', { timeout: 120_000 }, async () => {
    graph.webhookTarget = { ...graph.webhookTarget!, statuses: [] };
    graph.customerWrote(NUMBER, '358408000002');
    const signed = signedWebhook(META_SECRET, wa.text(NUMBER, { waId: '358408000002', name: 'Onni' }, { id: 'wamid.CARD-2', body: 'Missä paketti on?' }));
    expect((await t.app.inject({ method: 'POST', url: '/webhooks/whatsapp', payload: signed.payload, headers: signed.headers })).statusCode).toBe(200);
    const conversationId = (await t.hub.db.query<{ conversation_id: string }>(`SELECT conversation_id FROM messages WHERE external_id = 'wamid.CARD-2'`)).rows[0]!.conversation_id;
    const card = await eventually(async () => {
      const row = (await t.hub.db.query<{ key: string }>(`SELECT surface_key AS key FROM surface_threads WHERE conversation_id = $1 AND active`, [conversationId])).rows[0];
      if (!row) return undefined;
      const [channel, ts] = row.key.split(':');
      return slack.messages.find((m: EmulatedMessage) => m.channel === channel && m.ts === ts);
    }, WAIT);
    const m = slack.postAsUser('T0WACARD', 'C0WATRIAGE', 'UAGENT', 'Se on matkalla.', card.ts);
    const res = await t.app.inject({ method: 'POST', url: '/webhooks/slack', ...(({ body, headers }) => ({ payload: body, headers }))(driver.event(envelope('T0WACARD', { type: 'message', channel: 'C0WATRIAGE', user: 'UAGENT', text: 'Se on matkalla.', ts: m.ts, thread_ts: card.ts }))) });
    expect(res.json().results).toEqual(['reply']);
    const sent = await eventually(async () => graph.inbox.find((x) => x.text === 'Se on matkalla.'), WAIT);
    // The delivery line the hub posts in the card's thread for that reply (the agent's own Slack message is theirs).
    const statusPost = () => slack.messages.find((x) => x.channel === 'C0WATRIAGE' && x.threadTs === card.ts && x.botId && /Sent on WhatsApp/.test(x.text));
    const shown = await eventually(async () => statusPost(), WAIT);
    expect(shown.text).not.toMatch(/· (delivered|read)/);
    for (const status of ['delivered', 'read'] as const) {
      const webhook = signedWebhook(META_SECRET, wa.status(NUMBER, { id: sent.id, status, recipient: '358408000002', callbackData: sent.bizOpaqueCallbackData! }));
      expect((await t.app.inject({ method: 'POST', url: '/webhooks/whatsapp', payload: webhook.payload, headers: webhook.headers })).statusCode).toBe(200);
      // Updated in place: the same post, never a second one.
      await eventually(async () => statusPost()?.text.includes(`· ${status}`), WAIT);
      expect(slack.messages.filter((x) => x.threadTs === card.ts && /Sent on WhatsApp/.test(x.text))).toHaveLength(1);
    }
  });
});
