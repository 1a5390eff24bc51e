import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type TestAccount, type TestHub } from '../testing/harness.js';
import { startSlackFixture, type SlackFixture } from '../testing/slack-fixture.js';
import { slackOf } from '../install-slack.js';
import { SlackDriver, envelope } from '../../connectors/slack/testing/driver.js';
import type { SlackEmulator, EmulatedMessage } from '../../connectors/slack/testing/emulator.js';
import { slackThreadKey } from '../../connectors/slack/connector.js';
import { blockKitProblems } from '../../connectors/slack/testing/block-kit.js';

/** Text that cannot be abused, through the hub and an emulator that checks Block Kit as Slack does. */

const SIGNING = 'text-signing-secret';
let f: SlackFixture;
let emulator: SlackEmulator;
let t: TestHub;
let acct: TestAccount;
const driver = new SlackDriver(SIGNING);

beforeAll(async () => {
  f = await startSlackFixture({
    signing: SIGNING,
    config: { botUserId: 'UBOTTEXT', customerChannels: ['C0CUST'], defaultTriageChannel: 'C0TRIAGE', threadReplies: 'replies' },
    workspace: {
      teamId: 'T0TEXT',
      botUserId: 'UBOTTEXT',
      users: (a) => [
        { id: 'UAGENT', name: 'aino', realName: 'Aino Agent', email: a.users.agent.email },
        { id: 'UBEA', name: 'bea', realName: 'Bea Colleague' },
        { id: 'UCUST', name: 'mallory', realName: 'Mallory' },
      ],
      channels: [
        { id: 'C0CUST', name: 'shared-customer', isMember: true, isExtShared: true },
        { id: 'C0TRIAGE', name: 'triage', isMember: true },
      ],
    },
  });
  ({ emulator, t, acct } = f);
});
afterAll(async () => {
  await f?.close();
});

const deliver = (signed: { body: Buffer; headers: Record<string, string> }) => f.deliver(signed);
const query = <R>(sql: string, params: unknown[] = []) => f.query<R>(sql, params);
const hostileName = 'Mallory https://evil.example/login \u202Egnp.exe';

async function customerWrites(text: string) {
  const m = emulator.postAsUser('T0TEXT', 'C0CUST', 'UCUST', text);
  await deliver(driver.event(envelope('T0TEXT', { type: 'message', channel: 'C0CUST', channel_type: 'channel', user: 'UCUST', user_profile: { real_name: hostileName, display_name: hostileName }, text, ts: m.ts }, { is_ext_shared_channel: true })));
  const conversationId = (await query<{ id: string }>(`SELECT id FROM conversations WHERE thread_key = $1`, [slackThreadKey(acct.channelId, 'C0CUST', m.ts)]))[0]!.id;
  await slackOf(t.hub)!.surface.sync(acct.accountId, conversationId);
  const card = await f.cardOf(conversationId);
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
