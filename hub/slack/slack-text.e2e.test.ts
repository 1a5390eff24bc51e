import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { slackOf } from '../install-slack.js';
import { withAccount } from '../../storage/session.js';
import { updateChannel } from '../../storage/repositories/channels.js';
import { SlackDriver, envelope } from '../../connectors/slack/testing/driver.js';
import { SlackEmulator, type EmulatedMessage, type EmulatedWorkspace } from '../../connectors/slack/testing/emulator.js';
import { slackThreadKey } from '../../connectors/slack/connector.js';
import { blockKitProblems } from '../../connectors/slack/testing/block-kit.js';

/** Text that cannot be abused, through the hub and an emulator that checks Block Kit as Slack does. */

const SIGNING = 'text-signing-secret';
let emulator: SlackEmulator;
let ws: EmulatedWorkspace;
let t: TestHub;
let acct: TestAccount;
const driver = new SlackDriver(SIGNING);

beforeAll(async () => {
  emulator = await SlackEmulator.start();
  t = await startTestHub({ slack: { slackApiUrl: emulator.apiUrl, signingSecret: SIGNING } });
  acct = await createTestAccount(t, {
    channelKind: 'slack',
    channelKey: 'T0TEXT',
    secrets: { signingSecret: SIGNING },
    config: { botUserId: 'UBOTTEXT', customerChannels: ['C0CUST'], defaultTriageChannel: 'C0TRIAGE', threadReplies: 'replies' },
  });
  ws = emulator.addWorkspace({
    teamId: 'T0TEXT',
    botUserId: 'UBOTTEXT',
    users: [
      { id: 'UAGENT', name: 'aino', realName: 'Aino Agent', email: acct.users.agent.email },
      { id: 'UBEA', name: 'bea', realName: 'Bea Colleague' },
      { id: 'UCUST', name: 'mallory', realName: 'Mallory' },
    ],
    channels: [
      { id: 'C0CUST', name: 'shared-customer', isMember: true, isExtShared: true },
      { id: 'C0TRIAGE', name: 'triage', isMember: true },
    ],
  });
  await withAccount(t.hub.db, acct.accountId, (tx) => updateChannel(tx, t.hub.box, acct.channelId, { secrets: { signingSecret: SIGNING, botToken: ws.botToken } }));
});
afterAll(async () => {
  await slackOf(t.hub)?.settled();
  await t?.close();
  await emulator?.close();
});

const deliver = (signed: { body: Buffer; headers: Record<string, string> }) => t.app.inject({ method: 'POST', url: '/webhooks/slack', headers: signed.headers, payload: signed.body });
const query = <R>(sql: string, params: unknown[] = []) => withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<R>(sql, params)).rows);
const hostileName = 'Mallory https://evil.example/login \u202Egnp.exe';

async function customerWrites(text: string) {
  const m = emulator.postAsUser('T0TEXT', 'C0CUST', 'UCUST', text);
  await deliver(driver.event(envelope('T0TEXT', { type: 'message', channel: 'C0CUST', channel_type: 'channel', user: 'UCUST', user_profile: { real_name: hostileName, display_name: hostileName }, text, ts: m.ts }, { is_ext_shared_channel: true })));
  const conversationId = (await query<{ id: string }>(`SELECT id FROM conversations WHERE thread_key = $1`, [slackThreadKey(acct.channelId, 'C0CUST', m.ts)]))[0]!.id;
  await slackOf(t.hub)!.surface.sync(acct.accountId, conversationId);
  const card = await eventually(async () => {
    const row = (await query<{ key: string }>(`SELECT surface_key AS key FROM surface_threads WHERE conversation_id = $1 AND active`, [conversationId]))[0];
    const [channel, ts] = row?.key.split(':') ?? [];
    return emulator.messages.find((x) => x.channel === channel && x.ts === ts);
  });
  return { m, conversationId, card };
}
const mrkdwnOf = (m: EmulatedMessage) => JSON.stringify(m.blocks).match(/"type":"mrkdwn","text":"(?:[^"\\]|\\.)*"(,"verbatim":true)?/g) ?? [];

describe('slack text safety end to end', () => {
  it('a customer named with a URL is shown as text: the card Slack accepted carries the name only as plain text, without bidi controls', async () => {
    const { card } = await customerWrites('Please reset my password');
    expect(emulator.calls.filter((c) => c.error === 'invalid_blocks')).toEqual([]);
    expect(JSON.stringify(card.blocks)).toContain('Mallory https://evil.example/login');
    expect(JSON.stringify(card.blocks)).not.toContain('\u202E');
    for (const f of mrkdwnOf(card)) {
      expect(f).not.toContain('evil.example');
      expect(f).toMatch(/"verbatim":true$/);
    }
  });

  it("an agent's mention of a colleague reaches the customer as the colleague's name", async () => {
    const { m, card } = await customerWrites('Who can help me?');
    const text = '<@UBEA> will call you tomorrow';
    const reply = emulator.postAsUser('T0TEXT', 'C0TRIAGE', 'UAGENT', text, card.ts);
    const res = await deliver(driver.event(envelope('T0TEXT', { type: 'message', channel: 'C0TRIAGE', user: 'UAGENT', text, ts: reply.ts, thread_ts: card.ts })));
    expect(res.json().results).toEqual(['reply']);
    const stored = await query<{ text: string }>(`SELECT text FROM messages WHERE direction = 'outbound' AND conversation_id = (SELECT conversation_id FROM messages WHERE external_id = $1)`, [`C0CUST:${m.ts}`]);
    expect(stored.map((s) => s.text)).toEqual(['@Bea Colleague will call you tomorrow']);
    await eventually(async () => emulator.replies('C0CUST', m.ts).find((r) => r.text === '@Bea Colleague will call you tomorrow'));
  });

  it('/hummdesk answers show subjects and names as text in a verbatim section', async () => {
    const { conversationId } = await customerWrites('Invoice https://evil.example/pay please');
    const res = await deliver(driver.command({ command: '/hummdesk', text: `status #${conversationId.slice(0, 8)}`, team_id: 'T0TEXT', channel_id: 'C0TRIAGE', user_id: 'UAGENT', response_url: emulator.issueResponseUrl(), trigger_id: 'x' }));
    const body = res.json<{ text: string; blocks: { type: string; text: { type: string; verbatim?: boolean; text: string } }[] }>();
    expect(body.blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: body.text, verbatim: true } }]);
    expect(blockKitProblems(body.blocks, 'message')).toEqual([]);
  });
});
