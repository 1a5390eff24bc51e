import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { slackOf } from '../install-slack.js';
import { withAccount } from '../../storage/session.js';
import { updateChannel } from '../../storage/repositories/channels.js';
import { SlackDriver, envelope } from '../../connectors/slack/testing/driver.js';
import { SlackEmulator, type EmulatedWorkspace } from '../../connectors/slack/testing/emulator.js';
import { Gate } from '../testing/http-gate.js';

/**
 * On the embedded store (PGlite: one connection for the whole process) a transaction held over a
 * Slack call stops every request until Slack answers. The surface holds none.
 */

const SIGNING = 'embedded-signing-secret';
let emulator: SlackEmulator;
let gate: Gate;
let ws: EmulatedWorkspace;
let t: TestHub;
let acct: TestAccount;
const driver = new SlackDriver(SIGNING);

beforeAll(async () => {
  emulator = await SlackEmulator.start();
  gate = await Gate.start(emulator.url);
  t = await startTestHub({ embedded: true, slack: { slackApiUrl: `${gate.url}/api/`, signingSecret: SIGNING } });
  acct = await createTestAccount(t, {
    channelKind: 'slack',
    channelKey: 'T0ACME',
    secrets: { signingSecret: SIGNING },
    config: { botUserId: 'UBOTACME', customerChannels: ['C0CUST'], defaultTriageChannel: 'C0TRIAGE', threadReplies: 'notes' },
  });
  ws = emulator.addWorkspace({
    teamId: 'T0ACME',
    botUserId: 'UBOTACME',
    users: [{ id: 'UCUST', name: 'cara', realName: 'Cara Customer' }],
    channels: [
      { id: 'C0CUST', name: 'shared-customer', isMember: true, isExtShared: true },
      { id: 'C0TRIAGE', name: 'triage', isMember: true },
    ],
  });
  await withAccount(t.hub.db, acct.accountId, (tx) => updateChannel(tx, t.hub.box, acct.channelId, { secrets: { signingSecret: SIGNING, botToken: ws.botToken } }));
});
afterAll(async () => {
  await gate?.close();
  await slackOf(t.hub)?.settled();
  await t?.close();
  await emulator?.close();
});

describe('embedded store', () => {
  it('answers requests (and takes in customer messages) while Slack has not answered a post yet', async () => {
    expect(t.hub.db.kind).toBe('pglite');
    gate.hold('/api/chat.postMessage');
    const write = (text: string) => {
      const m = emulator.postAsUser('T0ACME', 'C0CUST', 'UCUST', text);
      return t.app.inject({ method: 'POST', url: '/webhooks/slack', ...(({ body, headers }) => ({ headers, payload: body }))(driver.event(envelope('T0ACME', { type: 'message', channel: 'C0CUST', user: 'UCUST', user_profile: { real_name: 'Cara Customer' }, text, ts: m.ts }, { is_ext_shared_channel: true }))) });
    };
    expect((await write('Slack keeps us waiting')).json().results).toEqual(['created']);
    await gate.arrived('/api/chat.postMessage');
    // Slack is still holding the post: the hub answers anyway, from the same single-connection store.
    const list = await t.app.inject({ url: '/api/v1/conversations', headers: { authorization: `Bearer ${acct.users.agent.token}` } });
    const next = await write('Another customer meanwhile');
    // …while the post is still held (not after the Slack client gave up on it).
    const stillHeld = gate.waiting;
    gate.release('/api/chat.postMessage');
    expect(stillHeld).toBe(1);
    expect(list.statusCode).toBe(200);
    expect(next.json().results).toEqual(['created']);
    await eventually(async () => emulator.roots('C0TRIAGE').length === 2 && true);
  });
});
