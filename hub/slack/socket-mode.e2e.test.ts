import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { slackOf } from '../install-slack.js';
import { startListeners, type Listeners } from '../listeners.js';
import { withAccount } from '../../storage/session.js';
import { insertChannel, updateChannel } from '../../storage/repositories/channels.js';
import { envelope } from '../../connectors/slack/testing/driver.js';
import { SlackEmulator, type EmulatedWorkspace } from '../../connectors/slack/testing/emulator.js';
import { slackThreadKey } from '../../connectors/slack/connector.js';

/** Socket Mode: the same handlers as the Request URL, fed over the emulator's WebSocket. */

let emulator: SlackEmulator;
let ws: EmulatedWorkspace;
let t: TestHub;
let acct: TestAccount;
let listeners: Listeners;

beforeAll(async () => {
  emulator = await SlackEmulator.start();
  t = await startTestHub({ slack: { slackApiUrl: emulator.apiUrl, socketReconnectDelayMs: 1000 } });
  acct = await createTestAccount(t, {
    channelKind: 'slack',
    channelKey: 'T0SOCK',
    secrets: {},
    config: { botUserId: 'UBOTSOCK', socketMode: true, customerChannels: ['C0CUST'], defaultTriageChannel: 'C0TRIAGE' },
  });
  ws = emulator.addWorkspace({
    teamId: 'T0SOCK',
    botUserId: 'UBOTSOCK',
    users: [{ id: 'UAGENT', name: 'aino', email: acct.users.agent.email }, { id: 'UCUST', name: 'cara' }],
    channels: [{ id: 'C0CUST', name: 'customer', isMember: true, isExtShared: true }, { id: 'C0TRIAGE', name: 'triage', isMember: true }],
  });
  // No signing secret: a hub behind a firewall never receives a signed HTTP request.
  await withAccount(t.hub.db, acct.accountId, (tx) => updateChannel(tx, t.hub.box, acct.channelId, { secrets: { botToken: ws.botToken, appToken: ws.appToken } }));
  listeners = startListeners(t.hub, { rescanMs: 3_600_000 });
  await eventually(async () => emulator.socketCount('T0SOCK') === 1);
});
afterAll(async () => {
  await listeners?.stop();
  await slackOf(t.hub)?.settled();
  await t?.close();
  await emulator?.close();
});

const query = <R>(sql: string, params: unknown[] = []) => withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<R>(sql, params)).rows);

function customerEvent(text: string) {
  const m = emulator.postAsUser('T0SOCK', 'C0CUST', 'UCUST', text);
  return { m, payload: envelope('T0SOCK', { type: 'message', channel: 'C0CUST', user: 'UCUST', user_profile: { real_name: 'Cara' }, text, ts: m.ts }, { is_ext_shared_channel: true }) };
}

describe('slack socket mode', () => {
  it('acknowledges a customer message after it is stored, once even when redelivered, and posts its card', async () => {
    const { m, payload } = customerEvent('Hello over the socket');
    const ack = await emulator.socketDeliver('T0SOCK', 'events_api', payload);
    expect(ack.payload).toBeUndefined();
    // Acknowledged means committed.
    const stored = await query<{ id: string }>(`SELECT id FROM messages WHERE external_id = $1`, [`C0CUST:${m.ts}`]);
    expect(stored).toHaveLength(1);
    await emulator.socketDeliver('T0SOCK', 'events_api', payload, { retryAttempt: 1 });
    expect(await query(`SELECT id FROM messages WHERE external_id = $1`, [`C0CUST:${m.ts}`])).toHaveLength(1);
    await eventually(async () => emulator.roots('C0TRIAGE').find((r) => JSON.stringify(r.blocks).includes('Hello over the socket')));
  });

  it('answers a slash command in the ack and runs a button as the linked agent', async () => {
    const help = await emulator.socketDeliver('T0SOCK', 'slash_commands', { command: '/hummdesk', text: 'help', team_id: 'T0SOCK', channel_id: 'C0TRIAGE', user_id: 'UAGENT' });
    expect(help.payload).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('Usage') });

    const { m, payload } = customerEvent('Assign me over the socket');
    await emulator.socketDeliver('T0SOCK', 'events_api', payload);
    const conversationId = (await query<{ id: string }>(`SELECT id FROM conversations WHERE thread_key = $1`, [slackThreadKey(acct.channelId, 'C0CUST', m.ts)]))[0]!.id;
    // The card as the hub knows it (its surface_threads row), not merely as Slack shows it: the button is checked against that row.
    const card = await eventually(async () => {
      const row = (await query<{ key: string }>(`SELECT surface_key AS key FROM surface_threads WHERE conversation_id = $1 AND active`, [conversationId]))[0];
      return row ? emulator.roots('C0TRIAGE').find((r) => `C0TRIAGE:${r.ts}` === row.key) : undefined;
    });
    await emulator.socketDeliver('T0SOCK', 'interactive', {
      type: 'block_actions', team: { id: 'T0SOCK' }, user: { id: 'UAGENT', team_id: 'T0SOCK' }, container: { type: 'message', channel_id: 'C0TRIAGE', message_ts: card.ts },
      actions: [{ type: 'button', action_id: 'hd_assign_me', block_id: `hd:${conversationId}`, value: JSON.stringify({ c: conversationId }) }],
    });
    await slackOf(t.hub)!.settled();
    expect((await query<{ a: string }>(`SELECT assignee_id a FROM conversations WHERE id = $1`, [conversationId]))[0]!.a).toBe(acct.users.agent.id);
  });

  it('reconnects with a fresh URL when Slack asks, and keeps delivering', async () => {
    const opened = emulator.callsOf('apps.connections.open').length;
    emulator.socketDisconnect('T0SOCK');
    await eventually(async () => emulator.callsOf('apps.connections.open').length === opened + 1 && emulator.socketCount('T0SOCK') === 1);
    const { m, payload } = customerEvent('After the reconnect');
    await emulator.socketDeliver('T0SOCK', 'events_api', payload);
    expect(await query(`SELECT id FROM messages WHERE external_id = $1`, [`C0CUST:${m.ts}`])).toHaveLength(1);
    // The bot token cannot open a socket: only the app-level token can.
    expect(emulator.callsOf('apps.connections.open').every((c) => c.error === undefined)).toBe(true);
  });

  it('survives a reconnect refused for good (revoked app token) and connects again once the token is valid', async () => {
    const unhandled: unknown[] = [];
    const record = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', record);
    try {
      emulator.revokeToken(ws.appToken);
      const refusedBefore = emulator.callsOf('apps.connections.open').filter((c) => c.error === 'invalid_auth').length;
      emulator.socketDisconnect('T0SOCK');
      // The library's own reconnect fails with invalid_auth, then ours keeps trying.
      await eventually(async () => emulator.callsOf('apps.connections.open').filter((c) => c.error === 'invalid_auth').length >= refusedBefore + 2, 15_000);
      expect(emulator.socketCount('T0SOCK')).toBe(0);
      emulator.restoreToken(ws.appToken);
      await eventually(async () => emulator.socketCount('T0SOCK') === 1, 15_000);
      const { m, payload } = customerEvent('After the token came back');
      await emulator.socketDeliver('T0SOCK', 'events_api', payload);
      expect(await query(`SELECT id FROM messages WHERE external_id = $1`, [`C0CUST:${m.ts}`])).toHaveLength(1);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  }, 40_000);

  it('opens one connection per app-level token for every workspace of the app, and routes each envelope by its authorizations', async () => {
    // The app installed in a second workspace: the same app-level token (it is the app's, not a workspace's).
    const second = emulator.addWorkspace({
      teamId: 'T0SOCK2', botUserId: 'UBOTSOCK2', appToken: ws.appToken,
      users: [{ id: 'UCUST2', name: 'cecil' }], channels: [{ id: 'C0CUST2', name: 'customer-2', isMember: true, isExtShared: true }],
    });
    const secondId = await withAccount(t.hub.db, acct.accountId, async (tx) =>
      (await insertChannel(tx, t.hub.box, { accountId: acct.accountId, kind: 'slack', name: 'Slack: second', externalKey: 'T0SOCK2', secrets: { botToken: second.botToken, appToken: ws.appToken }, config: { botUserId: 'UBOTSOCK2', socketMode: true, customerChannels: ['C0CUST2'] } })).id);
    await listeners.refresh();
    await eventually(async () => listeners.running().includes(secondId));
    const opened = emulator.callsOf('apps.connections.open').length;
    // Slack hands any envelope of the app to one random connection; a second one would only split them.
    expect(slackOf(t.hub)!.connector.socketConnections).toBe(1);
    expect(emulator.socketCount('T0SOCK2')).toBe(1);

    // A Slack Connect channel the customer's organisation created: the outer team_id is theirs, the installation is in authorizations.
    const m = emulator.postAsUser('T0SOCK2', 'C0CUST2', 'UCUST2', 'Hello from a channel the customer owns');
    const payload = envelope('T0SOCK2', { type: 'message', channel: 'C0CUST2', user: 'UCUST2', user_profile: { real_name: 'Cecil' }, text: m.text, ts: m.ts }, { team_id: 'T0CUSTORG', is_ext_shared_channel: true });
    await emulator.socketDeliver('T0SOCK2', 'events_api', payload);
    expect(await query<{ channelId: string }>(`SELECT channel_id AS "channelId" FROM messages WHERE external_id = $1`, [`C0CUST2:${m.ts}`])).toEqual([{ channelId: secondId }]);

    // The first workspace's envelopes come over the same connection.
    const { m: first, payload: firstPayload } = customerEvent('Still the first workspace');
    await emulator.socketDeliver('T0SOCK', 'events_api', firstPayload);
    expect(await query<{ channelId: string }>(`SELECT channel_id AS "channelId" FROM messages WHERE external_id = $1`, [`C0CUST:${first.ts}`])).toEqual([{ channelId: acct.channelId }]);
    expect(emulator.callsOf('apps.connections.open').length).toBe(opened);
    expect(emulator.socketCount('T0SOCK')).toBe(1);
  });
});
