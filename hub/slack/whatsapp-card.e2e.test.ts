import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../testing/harness.js';
import { startSlackWhatsAppFixture, type SlackWhatsAppFixture } from '../testing/slack-whatsapp-fixture.js';
import { whatsappWebhooks as wa } from '../../connectors/meta/testing/emulator.js';

/*
 * A WhatsApp customer answered from the Slack triage card: the card shows the 24-hour window, an
 * agent's thread reply goes to the Graph emulator's inbox, and Meta's statuses come back to the message.
 */

const META_SECRET = 'wa-card-meta-secret';
const NUMBER = '100000000000091';
const WAIT = 60_000;
let f: SlackWhatsAppFixture;

beforeAll(async () => {
  f = await startSlackWhatsAppFixture({
    signing: 'wa-card-signing-secret',
    metaSecret: META_SECRET,
    number: { id: NUMBER, token: 'wa-card-token' },
    slack: { clientId: '1111.3333', clientSecret: 'emulated-client-secret' },
    workspace: {
      teamId: 'T0WACARD', botUserId: 'UBOTWA',
      users: (acct) => [{ id: 'UAGENT', name: 'aino', realName: 'Aino Agent', email: acct.users.agent.email }],
      channels: [{ id: 'C0WATRIAGE', name: 'support-triage', isMember: true }],
    },
    config: { botUserId: 'UBOTWA', customerChannels: [], defaultTriageChannel: 'C0WATRIAGE', threadReplies: 'replies' },
  });
  const address = await f.t.app.listen({ port: 0, host: '127.0.0.1' });
  f.graph.webhookTarget = { url: `${address}/webhooks/whatsapp`, appSecret: META_SECRET, statuses: ['sent', 'delivered'] };
});
afterAll(async () => {
  await f?.close();
});

/** A customer's text on WhatsApp, as Meta delivers it (their 24-hour window opened first); its conversation. */
async function customerWrites(waId: string, name: string, message: { id: string; body: string }): Promise<string> {
  f.graph.customerWrote(NUMBER, waId);
  expect((await f.metaWebhook('whatsapp', wa.text(NUMBER, { waId, name }, message))).statusCode).toBe(200);
  return (await f.t.hub.db.query<{ conversation_id: string }>(`SELECT conversation_id FROM messages WHERE external_id = $1`, [message.id])).rows[0]!.conversation_id;
}

describe('WhatsApp conversation on a Slack card', () => {
  it('the card shows the window; a thread reply reaches the customer on WhatsApp and its statuses come back', async () => {
    const conversationId = await customerWrites('358408000001', 'Veera', { id: 'wamid.CARD-1', body: 'Onko tilaukseni lähtenyt?' });
    const card = await f.cardOf(conversationId);
    expect(JSON.stringify(card.blocks)).toContain("Replies allowed until <!date^");

    const res = await f.threadReply(card, 'UAGENT', 'Lähti tänään!');
    expect(res.json().results).toEqual(['reply']);
    const sent = await eventually(async () => f.graph.inbox.find((x) => x.text === 'Lähti tänään!'), WAIT);
    expect(sent).toMatchObject({ to: '358408000001', type: 'text' });
    await eventually(async () => (await f.t.hub.db.query<{ s: string }>(`SELECT delivery_status s FROM messages WHERE id = $1`, [sent.bizOpaqueCallbackData])).rows[0]?.s === 'delivered', WAIT);
  });

  it('a reply sent from the card shows its WhatsApp statuses on the card: sent, then delivered, then read', { timeout: 120_000 }, async () => {
    f.graph.webhookTarget = { ...f.graph.webhookTarget!, statuses: [] };
    const conversationId = await customerWrites('358408000002', 'Onni', { id: 'wamid.CARD-2', body: 'Missä paketti on?' });
    const card = await f.cardOf(conversationId);
    const res = await f.threadReply(card, 'UAGENT', 'Se on matkalla.');
    expect(res.json().results).toEqual(['reply']);
    const sent = await eventually(async () => f.graph.inbox.find((x) => x.text === 'Se on matkalla.'), WAIT);
    // The delivery line the hub posts in the card's thread for that reply (the agent's own Slack message is theirs).
    const statusPost = () => f.emulator.messages.find((x) => x.channel === 'C0WATRIAGE' && x.threadTs === card.ts && x.botId && /Sent on WhatsApp/.test(x.text));
    const shown = await eventually(async () => statusPost(), WAIT);
    expect(shown.text).not.toMatch(/· (delivered|read)/);
    for (const status of ['delivered', 'read'] as const) {
      expect((await f.metaWebhook('whatsapp', wa.status(NUMBER, { id: sent.id, status, recipient: '358408000002', callbackData: sent.bizOpaqueCallbackData! }))).statusCode).toBe(200);
      // Updated in place: the same post, never a second one.
      await eventually(async () => statusPost()?.text.includes(`· ${status}`), WAIT);
      expect(f.emulator.messages.filter((x) => x.threadTs === card.ts && /Sent on WhatsApp/.test(x.text))).toHaveLength(1);
    }
  });
});
