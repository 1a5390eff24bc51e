import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../testing/harness.js';
import { startSlackWhatsAppFixture, type SlackWhatsAppFixture } from '../testing/slack-whatsapp-fixture.js';
import type { EmulatedMessage } from '../../connectors/slack/testing/emulator.js';
import { messengerWebhooks as ms, whatsappWebhooks as wa } from '../../connectors/meta/testing/emulator.js';

/*
 * An agent answers a WhatsApp or Messenger customer from the Slack triage thread after the platform's
 * reply window closed: nothing reaches Meta, the agent is told why in the thread (with the approved
 * templates WhatsApp would still take), and Slack gets its 200, so it does not retry the event.
 */

const NUMBER = '100000000000093';
const WABA = '200000000000093';
const PAGE = '300000000000093';
const WAIT = 60_000;
let f: SlackWhatsAppFixture;

beforeAll(async () => {
  f = await startSlackWhatsAppFixture({
    signing: 'refusal-signing-secret',
    metaSecret: 'refusal-meta-secret',
    number: { id: NUMBER, token: 'refusal-wa-token', wabaId: WABA },
    graph: { latencyMs: [0, 0] },
    slack: { clientId: '1111.3334', clientSecret: 'emulated-client-secret' },
    workspace: {
      teamId: 'T0REFUSAL', botUserId: 'UBOTREF',
      users: (acct) => [{ id: 'UAGENT', name: 'aino', realName: 'Aino Agent', email: acct.users.agent.email }],
      channels: [{ id: 'C0REFTRIAGE', name: 'support-triage', isMember: true }],
    },
    config: { botUserId: 'UBOTREF', customerChannels: [], defaultTriageChannel: 'C0REFTRIAGE', threadReplies: 'replies' },
  });
  f.graph.addTemplate(WABA, { name: 'order_update', language: 'fi', body: 'Hei {{1}}, tilauksesi {{2}} on matkalla.' });
  f.graph.addTemplate(WABA, { name: 'not_yet', language: 'fi', body: 'Odota', status: 'PENDING' });
  f.graph.addPage({ id: PAGE, token: 'refusal-page-token' });
  const admin = { authorization: `Bearer ${f.acct.users.admin.token}` };
  const sync = await f.t.app.inject({ method: 'POST', url: `/api/v1/channels/${f.whatsappChannelId}/templates/sync`, headers: admin, payload: { businessAccountId: WABA } });
  expect(sync.statusCode, sync.body).toBe(200);
  const messenger = await f.t.app.inject({ method: 'POST', url: '/api/v1/channels', headers: admin, payload: { kind: 'messenger', name: 'Messenger', externalKey: PAGE, secrets: { accessToken: 'refusal-page-token' } } });
  expect(messenger.statusCode, messenger.body).toBe(201);
});
afterAll(async () => {
  await f?.close();
});

/** The conversation of a stored customer message, its Slack card, and its inbound messages moved `hours` into the past. */
async function cardOf(externalId: string, hours: number): Promise<{ conversationId: string; card: EmulatedMessage }> {
  const conversationId = (await f.t.hub.db.query<{ conversation_id: string }>(`SELECT conversation_id FROM messages WHERE external_id = $1`, [externalId])).rows[0]!.conversation_id;
  const card = await f.cardOf(conversationId);
  await f.t.hub.db.query(`UPDATE messages SET sent_at = now() - make_interval(hours => $2) WHERE conversation_id = $1 AND direction = 'inbound'`, [conversationId, hours]);
  return { conversationId, card };
}

/** The agent's thread reply as Slack delivers it (HTTP status, results) and the ephemerals they got for it. */
async function threadReply(card: EmulatedMessage, text: string) {
  const before = f.emulator.ephemerals.length;
  const res = await f.threadReply(card, 'UAGENT', text);
  return { status: res.statusCode, results: res.statusCode === 200 ? res.json().results : res.body, told: f.emulator.ephemerals.slice(before) };
}

const outboundCount = async (conversationId: string) =>
  Number((await f.t.hub.db.query<{ n: string }>(`SELECT count(*) AS n FROM messages WHERE conversation_id = $1 AND direction = 'outbound'`, [conversationId])).rows[0]!.n);

describe('a Slack thread reply after the reply window closed', () => {
  it('WhatsApp: answered 200, nothing sent, the agent told why in the thread with the approved templates', async () => {
    f.graph.customerWrote(NUMBER, '358408000093');
    expect((await f.metaWebhook('whatsapp', wa.text(NUMBER, { waId: '358408000093', name: 'Veera' }, { id: 'wamid.REFUSE-1', body: 'Missä paketti?' }))).statusCode).toBe(200);
    const { conversationId, card } = await cardOf('wamid.REFUSE-1', 25);
    const sentBefore = f.graph.inbox.length;

    const reply = await threadReply(card, 'Se lähti eilen!');
    expect([reply.status, reply.results]).toEqual([200, ['refused']]);
    expect(reply.told).toHaveLength(1);
    expect(reply.told[0]).toMatchObject({ user: 'UAGENT', channel: 'C0REFTRIAGE', threadTs: card.ts });
    expect(reply.told[0]!.text).toMatch(/^:warning: Nothing was sent: WhatsApp allows free text only within 24 hours/);
    // Only what Meta approved is offered: the pending template is not.
    expect(reply.told[0]!.text).toContain('`order_update` (fi)');
    expect(reply.told[0]!.text).not.toContain('not_yet');
    expect(f.graph.inbox.length).toBe(sentBefore);
    expect(await outboundCount(conversationId)).toBe(0);

    // The refusal is not claimed as done: the same text, once the customer wrote again, goes out.
    f.graph.customerWrote(NUMBER, '358408000093');
    expect((await f.metaWebhook('whatsapp', wa.text(NUMBER, { waId: '358408000093', name: 'Veera' }, { id: 'wamid.REFUSE-2', body: 'Haloo?' }))).statusCode).toBe(200);
    const ok = await threadReply(card, 'Se lähti eilen!');
    expect([ok.status, ok.results]).toEqual([200, ['reply']]);
    await eventually(async () => f.graph.inbox.find((x) => x.text === 'Se lähti eilen!'), WAIT);
  });

  it('Messenger: after 8 days answered 200, nothing sent, the agent told why in the thread', async () => {
    f.graph.customerWrote(PAGE, 'PSID-REFUSE');
    expect((await f.metaWebhook('messenger', ms.text(PAGE, 'PSID-REFUSE', { mid: 'm_REFUSE-1', text: 'Hello?' }))).statusCode).toBe(200);
    const { conversationId, card } = await cardOf('m_REFUSE-1', 8 * 24);
    const sentBefore = f.graph.messengerInbox.length;

    const reply = await threadReply(card, 'Sorry for the wait!');
    expect([reply.status, reply.results]).toEqual([200, ['refused']]);
    expect(reply.told).toHaveLength(1);
    expect(reply.told[0]).toMatchObject({ user: 'UAGENT', threadTs: card.ts });
    expect(reply.told[0]!.text).toMatch(/^:warning: Nothing was sent: Messenger allows replies within 24 hours of the customer's last message, or 7 days by a human agent \(this window closed /);
    expect(reply.told[0]!.text).not.toContain('template');
    expect(f.graph.messengerInbox.length).toBe(sentBefore);
    expect(await outboundCount(conversationId)).toBe(0);
  });
});
