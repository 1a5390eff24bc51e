import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotConnectorEmulator, type EmulatedTeam } from './testing/emulator.js';
import { teamsConfigFromEnv } from './config.js';
import { TeamsConnectorClient, TeamsRetryableError, TeamsRosterRefusedError, tokenSourceFor, type OutboundActivity } from './client.js';
import { AuthError, ConnectorError, PermanentError } from '../core/errors.js';

let emulator: BotConnectorEmulator;
let client: TeamsConnectorClient;
let team: EmulatedTeam;
let now = 1_767_000_000_000;

const card = (text: string): OutboundActivity => ({
  attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text, wrap: true }] } }],
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof ConnectorError) return err.code;
    throw err;
  }
}

beforeAll(async () => {
  emulator = await BotConnectorEmulator.start({ latencyMs: [0, 0], tenantId: '5a1e0000-0000-4000-8000-000000000001', now: () => now });
  const config = teamsConfigFromEnv(emulator.hubEnv());
  client = new TeamsConnectorClient(tokenSourceFor(config, { now: () => now }), { testServiceOrigins: config.testServiceOrigins });
  team = emulator.addTeam({ name: 'Support', tenantId: '5a1e0000-0000-4000-8000-000000000001' });
});
afterAll(() => emulator.close());

describe('the Bot Connector client against the emulator', () => {
  it('creates a thread in a channel, replies in it, updates and deletes its own posts, reads members and channels', async () => {
    const aino = emulator.addMember(team.id, { name: 'Aino Agent', email: 'aino@example.com' });
    const root = await client.createChannelThread(emulator.serviceUrl, { channelId: team.id, tenantId: team.tenantId, activity: card('New conversation') });
    expect(root.conversationId).toBe(`${team.id};messageid=${root.activityId}`);
    const reply = await client.replyInThread(emulator.serviceUrl, team.id, root.activityId, { text: 'Customer: hello', textFormat: 'plain' });
    await client.update(emulator.serviceUrl, root.conversationId, root.activityId, card('Assigned to Aino'));
    expect(emulator.thread(team.id, root.activityId).map((a) => a.text ?? (a.attachments?.[0]?.content as { body: { text: string }[] }).body[0]!.text)).toEqual(['Assigned to Aino', 'Customer: hello']);
    await client.delete(emulator.serviceUrl, root.conversationId, reply.id);
    expect(emulator.thread(team.id, root.activityId)).toHaveLength(1);
    expect((await client.members(emulator.serviceUrl, team.id)).map((m) => [m.aadObjectId, m.email])).toEqual([[aino.aadObjectId, 'aino@example.com']]);
    const escalations = emulator.addChannel(team.id, { name: 'Escalations' });
    expect(await client.teamChannels(emulator.serviceUrl, team.id)).toEqual([{ id: team.id, type: 'standard' }, { id: escalations.id, name: 'Escalations', type: 'standard' }]);
    // One client-credentials token served every call.
    expect(emulator.tokensIssued).toBe(1);
  });

  it('refuses what Teams refuses, each with its own code', async () => {
    const root = await client.createChannelThread(emulator.serviceUrl, { channelId: team.id, tenantId: team.tenantId, activity: { text: 'root' } });
    const priv = emulator.addChannel(team.id, { name: 'Managers', membershipType: 'private' });
    const userPost = emulator.postAsUser(team.id, 'a person wrote this');
    expect(await codeOf(client.send(emulator.serviceUrl, `${team.id};messageid=999`, { text: 'x' }))).toBe('teams_not_found');
    expect(await codeOf(client.send(emulator.serviceUrl, 'a:personal;messageid=1', { text: 'x' }))).toBe('teams_not_found');
    expect(await codeOf(client.createChannelThread(emulator.serviceUrl, { channelId: priv.id, tenantId: team.tenantId, activity: { text: 'x' } }))).toBe('teams_roster_refused');
    expect(await codeOf(client.update(emulator.serviceUrl, team.id, userPost.id, { text: 'edited' }))).toBe('teams_forbidden');
    expect(await codeOf(client.replyInThread(emulator.serviceUrl, team.id, root.activityId, { text: 'x'.repeat(41 * 1024) }))).toBe('teams_message_too_large');
    expect(await codeOf(client.replyInThread(emulator.serviceUrl, team.id, root.activityId, { attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'Card' } }] }))).toBe('teams_bad_request');
    expect(await codeOf(client.replyInThread(emulator.serviceUrl, team.id, root.activityId, {}))).toBe('teams_bad_request');
    const calls = emulator.calls.length;
    expect(await codeOf(client.send('https://attacker.example/amer/', team.id, { text: 'x' }))).toBe('teams_service_url_untrusted');
    expect(emulator.calls.length).toBe(calls);
  });

  it('refuses ;messageid= on a personal chat with 400', async () => {
    const member = emulator.addMember(team.id, { name: 'Pekka' });
    const res = await fetch(`${emulator.serviceUrl}v3/conversations`, {
      method: 'POST', headers: { authorization: `Bearer ${await tokenSourceFor(teamsConfigFromEnv(emulator.hubEnv()), { now: () => now }).token()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ members: [{ id: member.id }], channelData: { tenant: { id: team.tenantId } } }),
    });
    const { id } = (await res.json()) as { id: string };
    const sent = await client.send(emulator.serviceUrl, id, { text: 'hi' });
    expect(sent.id).toBeTruthy();
    const created = emulator.activities.find((a) => a.id === sent.id)!;
    expect(await codeOf(client.send(emulator.serviceUrl, `${id};messageid=${created.id}`, { text: 'x' }))).toBe('teams_bad_request');
  });

  it('maps a removed bot to teams_roster_refused on writes, members and channels', async () => {
    const other = emulator.addTeam({ name: 'Gone', tenantId: team.tenantId });
    emulator.removeBot(other.id);
    for (const p of [client.createChannelThread(emulator.serviceUrl, { channelId: other.id, tenantId: other.tenantId, activity: { text: 'x' } }), client.members(emulator.serviceUrl, other.id), client.teamChannels(emulator.serviceUrl, other.id)]) {
      const err = await p.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TeamsRosterRefusedError);
    }
  });

  it('maps 429, 412, 502 and 504 to a retryable error carrying Retry-After', async () => {
    const root = await client.createChannelThread(emulator.serviceUrl, { channelId: team.id, tenantId: team.tenantId, activity: { text: 'root' } });
    for (const [status, code] of [[429, 'channel_rate_limited'], [412, 'teams_service_busy'], [502, 'teams_service_busy'], [504, 'teams_service_busy']] as const) {
      emulator.failNext(status, { retryAfter: 3 });
      const err = (await client.replyInThread(emulator.serviceUrl, team.id, root.activityId, { text: 'x' }).catch((e: unknown) => e)) as TeamsRetryableError;
      expect([err instanceof TeamsRetryableError, err.status, err.code, err.retryAfterMs]).toEqual([true, status, code, 3000]);
    }
  });

  it('enforces the per-thread limits: 7 per second, 8 per 2 s, 60 per 30 s, 1,800 per hour; other threads are not affected', async () => {
    const root = await client.createChannelThread(emulator.serviceUrl, { channelId: team.id, tenantId: team.tenantId, activity: { text: 'root' } });
    const other = await client.createChannelThread(emulator.serviceUrl, { channelId: team.id, tenantId: team.tenantId, activity: { text: 'other' } });
    now += 3600_000;
    const send = () => client.replyInThread(emulator.serviceUrl, team.id, root.activityId, { text: 'x' });
    for (let i = 0; i < 7; i++) await send();
    const first = (await send().catch((e: unknown) => e)) as TeamsRetryableError;
    expect([first.status, first.retryAfterMs]).toEqual([429, 1000]);
    await client.replyInThread(emulator.serviceUrl, team.id, other.activityId, { text: 'elsewhere' });
    now += 1000;
    await send(); // the 8th within 2 s
    expect(await codeOf(send())).toBe('channel_rate_limited');
    // 60 per 30 s: 4 per 2 s stays under the short windows.
    now += 2000;
    let sent = 8;
    for (let i = 0; sent < 60; i++) {
      await send();
      sent++;
      if (sent % 4 === 0) now += 2000;
    }
    expect(await codeOf(send())).toBe('channel_rate_limited');
    // 1,800 per hour: 1,799 earlier writes one every 1.9 s (every shorter window open), then one more passes and the next waits.
    now += 3600_000;
    emulator.primeThread(`${team.id};messageid=${root.activityId}`, Array.from({ length: 1799 }, (_, i) => now - 1900 * (1799 - i)));
    await send();
    now += 1900;
    const hourly = (await send().catch((e: unknown) => e)) as TeamsRetryableError;
    expect([hourly.status, hourly.retryAfterMs > 30_000]).toEqual([429, true]);
  });

  it('a wrong client secret is an AuthError from the token endpoint; a token the emulator did not issue is refused', async () => {
    const config = teamsConfigFromEnv({ ...emulator.hubEnv(), HUMMDESK_TEAMS_APP_PASSWORD: 'wrong' });
    const bad = new TeamsConnectorClient(tokenSourceFor(config), { testServiceOrigins: config.testServiceOrigins });
    expect(await bad.teamChannels(emulator.serviceUrl, team.id).catch((e: unknown) => e)).toBeInstanceOf(AuthError);
    const forged = new TeamsConnectorClient({ token: async () => 'e30.e30.c2ln' }, { testServiceOrigins: config.testServiceOrigins });
    expect(await codeOf(forged.teamChannels(emulator.serviceUrl, team.id))).toBe('channel_auth_failed');
    // A single-tenant app asks its own tenant: another tenant's authority does not know it.
    const elsewhere = teamsConfigFromEnv({ ...emulator.hubEnv(), HUMMDESK_TEAMS_APP_TENANT_ID: 'another-tenant' });
    expect(await new TeamsConnectorClient(tokenSourceFor(elsewhere)).members(emulator.serviceUrl, team.id).catch((e: unknown) => e)).toBeInstanceOf(PermanentError);
  });
});
