import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { snapshotAccount } from '../testing/seed.js';
import { BotConnectorEmulator, type EmulatedTeam } from '../../connectors/teams/testing/emulator.js';
import { TeamsDriver, type SignedActivity, type TokenVariant } from '../../connectors/teams/testing/driver.js';
import { setTeamsActivityHandler, type TeamsActivityHandler } from './teams-webhook.js';
import type { Activity } from '../../connectors/teams/activity.js';

let emulator: BotConnectorEmulator;
let driver: TeamsDriver;
let team: EmulatedTeam;

beforeAll(async () => {
  emulator = await BotConnectorEmulator.start({ latencyMs: [0, 0] });
  driver = new TeamsDriver(emulator);
  team = emulator.addTeam({ name: 'Support' });
});
afterAll(() => emulator.close());

function post(t: TestHub, signed: { body: Buffer; headers: Record<string, string> }) {
  return t.app.inject({ method: 'POST', url: '/webhooks/teams', headers: signed.headers, payload: signed.body });
}

function unsigned(a: Activity): { body: Buffer; headers: Record<string, string> } {
  return { body: Buffer.from(JSON.stringify(a)), headers: { 'content-type': 'application/json' } };
}

describe('POST /webhooks/teams on a fresh hub with no Teams app', () => {
  let t: TestHub;
  let account: TestAccount;
  beforeAll(async () => {
    t = await startTestHub({ jobs: false });
    account = await createTestAccount(t, { channelKind: 'teams', channelKey: team.tenantId, secrets: {}, config: {} });
  });
  afterAll(() => t.close());

  it('exists and answers 401 with a code, storing nothing: no token, an unknown key, a valid-looking token', async () => {
    const before = await snapshotAccount(t, account.accountId);
    const message = driver.message(team, team.id, 'hello');
    const missing = await post(t, unsigned(message));
    expect([missing.statusCode, missing.json().error.code]).toEqual([401, 'teams_auth_missing']);
    const stranger = await post(t, driver.sign(message, { unknownKey: true }));
    expect([stranger.statusCode, stranger.json().error.code]).toEqual([401, 'teams_not_configured']);
    const good = await post(t, driver.sign(message));
    expect([good.statusCode, good.json().error.code]).toEqual([401, 'teams_not_configured']);
    expect(await snapshotAccount(t, account.accountId)).toEqual(before);
    expect(emulator.metadataReads).toBe(0);
  });

  it('answers 401 whatever the body: none, form-encoded, not JSON', async () => {
    for (const headers of [{}, { 'content-type': 'application/x-www-form-urlencoded' }, { 'content-type': 'text/plain' }]) {
      const res = await t.app.inject({ method: 'POST', url: '/webhooks/teams', headers, payload: headers['content-type' as never] ? 'a=1' : undefined });
      expect([res.statusCode, res.json().error.code]).toEqual([401, 'teams_auth_missing']);
    }
  });
});

describe('POST /webhooks/teams with the app configured', () => {
  let t: TestHub;
  let account: TestAccount;
  beforeAll(async () => {
    t = await startTestHub({ jobs: false, env: emulator.hubEnv() });
    account = await createTestAccount(t, { channelKind: 'teams', channelKey: team.tenantId, secrets: {}, config: {} });
  });
  afterAll(() => t.close());

  const refused: [string, TokenVariant | 'none', string][] = [
    ['no token', 'none', 'teams_auth_missing'],
    ['an unknown key', { unknownKey: true }, 'teams_auth_unknown_key'],
    ['a stale token', { expiredSecondsAgo: 600 }, 'teams_auth_expired'],
    ['another audience', { audience: 'another-app' }, 'teams_auth_audience'],
    ['an unendorsed key', { unendorsed: true }, 'teams_auth_unendorsed'],
    ['a bad signature', { badSignature: true }, 'teams_auth_signature'],
  ];
  for (const [what, variant, code] of refused) {
    it(`answers 401 ${code} for ${what} and stores nothing`, async () => {
      const before = await snapshotAccount(t, account.accountId);
      const message = driver.message(team, team.id, 'hello', { mentionBot: true });
      const res = await post(t, variant === 'none' ? unsigned(message) : driver.sign(message, variant));
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe(code);
      expect(await snapshotAccount(t, account.accountId)).toEqual(before);
    });
  }

  it('answers 401 teams_service_url_untrusted for a serviceUrl off the allowlist', async () => {
    const a = { ...driver.message(team, team.id, 'hi'), serviceUrl: 'https://attacker.example/' };
    const res = await post(t, driver.sign(a));
    expect([res.statusCode, res.json().error.code]).toEqual([401, 'teams_service_url_untrusted']);
  });

  it('answers 200 to an authenticated message, install and unknown activity type; 501 in the invoke shape to an unknown invoke', async () => {
    for (const a of [driver.message(team, team.id, 'hi', { mentionBot: true }), driver.installed(team), { ...driver.message(team, team.id, 'x'), type: 'messageReaction', text: undefined }]) {
      const res = await post(t, driver.sign(a));
      expect([a.type, res.statusCode]).toEqual([a.type, 200]);
    }
    const res = await post(t, driver.sign(driver.otherInvoke(team, 'composeExtension/query', { commandId: 'search' })));
    expect(res.statusCode).toBe(501);
    expect(res.json()).toMatchObject({ statusCode: 501, type: 'application/vnd.microsoft.error', value: { code: 'NotImplemented' } });
    const action = await post(t, driver.sign(driver.invoke(team, team.id, '1', '1', 'assign_to_me', { conversationId: 'c1' })));
    expect(action.statusCode).toBe(501);
  });

  it('hands authenticated events to the Teams surface and answers with its invoke response', async () => {
    const seen: string[] = [];
    const handler: TeamsActivityHandler = {
      async handle(event) {
        seen.push(event.kind === 'action' ? `action:${event.verb}:${String(event.data.conversationId)}` : event.kind);
        if (event.kind === 'action') return { status: 200, body: { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: 'done' } };
        return undefined;
      },
    };
    setTeamsActivityHandler(t.hub, handler);
    const member = emulator.addMember(team.id, { name: 'Aino Agent', email: 'aino@example.com' });
    const clicked = await post(t, driver.sign(driver.invoke(team, team.id, '1', '1', 'assign_to_me', { conversationId: 'c1' }, member)));
    expect(clicked.statusCode).toBe(200);
    expect(clicked.json()).toEqual({ statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: 'done' });
    const submitted: SignedActivity = driver.sign(driver.submit(team, team.id, '1', '1', { verb: 'assign_to_me' }, member));
    expect((await post(t, submitted)).statusCode).toBe(200);
    expect(seen).toEqual(['action:assign_to_me:c1', 'submit']);
  });

  it('weighs a card click (an invoke) as waited on while it is handled, so no job starts beside it; a plain activity is not', async () => {
    const waitedOn: number[] = [];
    setTeamsActivityHandler(t.hub, {
      async handle(event) {
        waitedOn.push(t.hub.foreground.waitedOn());
        return event.kind === 'action' ? { status: 200, body: { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: 'done' } } : undefined;
      },
    });
    const member = emulator.addMember(team.id, { name: 'Eino Agent', email: 'eino@example.com' });
    expect((await post(t, driver.sign(driver.invoke(team, team.id, '1', '1', 'assign_to_me', { conversationId: 'c1' }, member)))).statusCode).toBe(200);
    expect((await post(t, driver.sign(driver.submit(team, team.id, '1', '1', { verb: 'assign_to_me' }, member)))).statusCode).toBe(200);
    expect(waitedOn).toEqual([1, 0]);
    // Answered: nothing holds the jobs back any more.
    expect(t.hub.foreground.waitedOn()).toBe(0);
  });
});
