import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotConnectorEmulator } from './testing/emulator.js';
import { TeamsDriver, type TokenVariant } from './testing/driver.js';
import { teamsConfigFromEnv } from './config.js';
import { authenticateActivity, createTeamsInbound, type TeamsInbound } from './inbound.js';
import { TeamsAuthError, type TeamsAuthCode } from './errors.js';
import { trustedServiceUrl } from './service-url.js';
import { BotFrameworkKeySet } from './openid.js';

let emulator: BotConnectorEmulator;
let driver: TeamsDriver;
let inbound: TeamsInbound;

beforeAll(async () => {
  emulator = await BotConnectorEmulator.start({ latencyMs: [0, 0] });
  driver = new TeamsDriver(emulator);
  inbound = createTeamsInbound(teamsConfigFromEnv(emulator.hubEnv()));
});
afterAll(() => emulator.close());

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'accepted';
  } catch (err) {
    if (err instanceof TeamsAuthError) return err.code;
    throw err;
  }
}

function signedMessage(v: TokenVariant = {}, patch: Record<string, unknown> = {}) {
  const team = emulator.addTeam();
  return driver.sign({ ...driver.message(team, team.id, 'hello'), ...patch }, v);
}

/** A body and the token a spoiled variant gives it. */
function pair(v: TokenVariant): { authorization?: string; body: Buffer } {
  const s = signedMessage(v);
  return { authorization: s.headers.authorization, body: s.body };
}

describe('authenticating a Teams activity', () => {
  it('accepts an activity Bot Framework signed for this app, endorsed for msteams, with its serviceUrl', async () => {
    const s = signedMessage();
    const r = await authenticateActivity(s.headers.authorization, s.body, inbound);
    expect(r.event.kind).toBe('message');
    expect(r.token.claims.serviceurl).toBe(emulator.serviceUrl);
  });

  const cases: [string, TeamsAuthCode, () => { authorization?: string; body: Buffer }][] = [
    ['no Authorization header', 'teams_auth_missing', () => ({ body: signedMessage().body })],
    ['a Basic header', 'teams_auth_missing', () => ({ authorization: 'Basic dXNlcjpwYXNz', body: signedMessage().body })],
    ['a token that is not a JWT', 'teams_auth_invalid', () => ({ authorization: 'Bearer not-a-jwt', body: signedMessage().body })],
    ['a header that is not JSON', 'teams_auth_invalid', () => ({ authorization: 'Bearer aGVsbG8.e30.c2ln', body: signedMessage().body })],
    ['alg none', 'teams_auth_invalid', () => {
      const s = signedMessage();
      const [, p] = s.headers.authorization!.slice(7).split('.');
      return { authorization: `Bearer ${Buffer.from('{"alg":"none","kid":"x"}').toString('base64url')}.${p}.c2ln`, body: s.body };
    }],
    ['HS256 (the key confusion attack)', 'teams_auth_invalid', () => {
      const s = signedMessage();
      const [, p, sig] = s.headers.authorization!.slice(7).split('.');
      return { authorization: `Bearer ${Buffer.from(JSON.stringify({ alg: 'HS256', kid: emulator.keys[0]!.kid })).toString('base64url')}.${p}.${sig}`, body: s.body };
    }],
    ['a key the metadata does not publish', 'teams_auth_unknown_key', () => pair({ unknownKey: true })],
    ['a spoiled signature', 'teams_auth_signature', () => pair({ badSignature: true })],
    ['an expired token (beyond the 5-minute skew)', 'teams_auth_expired', () => pair({ expiredSecondsAgo: 301 })],
    ['a token valid only in 6 minutes', 'teams_auth_not_yet_valid', () => pair({ notBeforeInSeconds: 360 })],
    ['another app as audience', 'teams_auth_audience', () => pair({ audience: '11111111-2222-3333-4444-555555555555' })],
    ['another issuer', 'teams_auth_issuer', () => pair({ issuer: 'https://sts.windows.net/evil/' })],
    ['a key endorsed for webchat only', 'teams_auth_unendorsed', () => pair({ unendorsed: true })],
    ['a serviceurl claim for another serviceUrl', 'teams_auth_service_url', () => pair({ serviceUrl: 'https://smba.trafficmanager.net/emea/' })],
  ];

  for (const [what, code, make] of cases) {
    it(`refuses ${what}: ${code}`, async () => {
      const { authorization, body } = make();
      expect(await codeOf(authenticateActivity(authorization, body, inbound))).toBe(code);
    });
  }

  it('refuses an activity whose serviceUrl is not a Microsoft host, even when the token names it: teams_service_url_untrusted', async () => {
    const team = emulator.addTeam();
    const a = { ...driver.message(team, team.id, 'hi'), serviceUrl: 'https://attacker.example/amer/' };
    const s = driver.sign(a);
    expect(await codeOf(authenticateActivity(s.headers.authorization, s.body, inbound))).toBe('teams_service_url_untrusted');
  });

  it('refuses an activity whose channelId is not msteams though the key is only endorsed for msteams: teams_auth_unendorsed', async () => {
    const team = emulator.addTeam();
    const s = driver.sign({ ...driver.message(team, team.id, 'hi'), channelId: 'webchat' });
    expect(await codeOf(authenticateActivity(s.headers.authorization, s.body, inbound))).toBe('teams_auth_unendorsed');
  });

  it('refuses everything with teams_not_configured when the hub has no app id, without fetching keys', async () => {
    const reads = emulator.metadataReads;
    const bare = createTeamsInbound(teamsConfigFromEnv({ HUMMDESK_TEAMS_OPENID_METADATA_URL: emulator.openIdMetadataUrl }));
    const s = signedMessage();
    expect(await codeOf(authenticateActivity(s.headers.authorization, s.body, bare))).toBe('teams_not_configured');
    expect(await codeOf(authenticateActivity(undefined, s.body, bare))).toBe('teams_auth_missing');
    expect(emulator.metadataReads).toBe(reads);
  });

  it('answers 503 teams_auth_keys_unavailable when the metadata cannot be read, and 400 for a body that is no activity', async () => {
    const down = createTeamsInbound({ ...inbound.config, openIdMetadataUrl: `${emulator.url}/missing` });
    const s = signedMessage();
    const err = (await authenticateActivity(s.headers.authorization, s.body, down).catch((e: unknown) => e)) as TeamsAuthError;
    expect([err.code, err.statusCode]).toEqual(['teams_auth_keys_unavailable', 503]);
    const bad = (await authenticateActivity(s.headers.authorization, Buffer.from('not json'), inbound).catch((e: unknown) => e)) as TeamsAuthError;
    expect([bad.code, bad.statusCode]).toEqual(['teams_activity_invalid', 400]);
  });
});

describe('Bot Framework keys', () => {
  it('are fetched once, re-read on an unknown kid at most once per interval, and pick up a rotated key', async () => {
    let now = 1_700_000_000_000;
    const keys = new BotFrameworkKeySet({ metadataUrl: emulator.openIdMetadataUrl, now: () => now, unknownKidRefreshMs: 60_000 });
    expect(await keys.find(emulator.keys[0]!.kid)).toBeDefined();
    expect(await keys.find(emulator.keys[0]!.kid)).toBeDefined();
    expect(keys.fetches).toBe(1);
    // Made-up kids do not make us hammer the metadata.
    for (let i = 0; i < 5; i++) expect(await keys.find(`made-up-${i}`)).toBeUndefined();
    expect(keys.fetches).toBe(1);
    const rotated = emulator.rotateKey();
    expect(await keys.find(rotated.kid)).toBeUndefined();
    now += 61_000;
    expect((await keys.find(rotated.kid))?.endorsements).toEqual(['msteams']);
    expect(keys.fetches).toBe(2);
  });

  it('shares one fetch among requests that arrive together on a cold cache', async () => {
    const keys = new BotFrameworkKeySet({ metadataUrl: emulator.openIdMetadataUrl });
    const found = await Promise.all(Array.from({ length: 10 }, (_, i) => keys.find(i % 2 ? emulator.keys[0]!.kid : `made-up-${i}`)));
    expect(found.filter(Boolean)).toHaveLength(5);
    expect(keys.fetches).toBe(1);
  });

  it('keeps the keys it has when a refresh fails', async () => {
    let now = 0;
    let fail = false;
    const keys = new BotFrameworkKeySet({
      metadataUrl: emulator.openIdMetadataUrl, now: () => now, maxAgeMs: 1000,
      fetch: (url, init) => (fail ? Promise.reject(new Error('offline')) : fetch(url, init)),
    });
    const kid = emulator.keys[0]!.kid;
    expect(await keys.find(kid)).toBeDefined();
    fail = true;
    now += 5000;
    expect(await keys.find(kid)).toBeDefined();
  });
});

describe('serviceUrl allowlist', () => {
  it.each([
    ['https://smba.trafficmanager.net/amer/a1b2c3d4/', true],
    ['https://smba.trafficmanager.net/emea/', true],
    ['https://smba.infra.gcc.teams.microsoft.com/gcc/', true],
    ['https://smba.infra.gov.teams.microsoft.us/', true],
    ['https://smba.infra.dod.teams.microsoft.us/', true],
    ['https://webchat.botframework.com/', true],
    ['https://europe.directline.botframework.com/', true],
    ['https://webchat.botframework.azure.us/', true],
    ['http://smba.trafficmanager.net/amer/', false],
    ['https://smba.trafficmanager.net:8443/amer/', false],
    ['https://user:pw@smba.trafficmanager.net/amer/', false],
    ['https://smba.trafficmanager.net.evil.example/', false],
    ['https://evilbotframework.com/', false],
    ['https://botframework.com.evil.example/', false],
    ['https://attacker.example/', false],
    ['https://127.0.0.1/', false],
    ['not a url', false],
  ])('%s → %s', (url, ok) => {
    expect(trustedServiceUrl(url)).toBe(ok);
  });

  it('trusts a configured test origin exactly, and nothing else on that host', () => {
    expect(trustedServiceUrl('http://127.0.0.1:4000/amer/', ['http://127.0.0.1:4000'])).toBe(true);
    expect(trustedServiceUrl('http://127.0.0.1:4001/amer/', ['http://127.0.0.1:4000'])).toBe(false);
  });
});

describe('Teams configuration', () => {
  it('reads test origins as origins and refuses anything else with a code', () => {
    expect(teamsConfigFromEnv({ HUMMDESK_TEAMS_TEST_SERVICE_ORIGINS: 'http://127.0.0.1:4000/, https://emulator.test' }).testServiceOrigins).toEqual(['http://127.0.0.1:4000', 'https://emulator.test']);
    for (const bad of ['127.0.0.1:4000/amer', 'http://127.0.0.1:4000/amer/', 'not a url'])
      expect(() => teamsConfigFromEnv({ HUMMDESK_TEAMS_TEST_SERVICE_ORIGINS: bad })).toThrow(expect.objectContaining({ name: 'ConfigError', code: 'invalid_teams_test_origin' }));
  });

  it('recognises secret, certificate and managed identity credentials', () => {
    expect(teamsConfigFromEnv({ HUMMDESK_TEAMS_APP_PASSWORD: 's' }).credential).toEqual({ kind: 'secret', secret: 's' });
    expect(teamsConfigFromEnv({ HUMMDESK_TEAMS_CERTIFICATE_PATH: '/etc/bot.pem' }).credential).toEqual({ kind: 'certificate', certificatePath: '/etc/bot.pem', thumbprint: undefined });
    expect(teamsConfigFromEnv({ HUMMDESK_TEAMS_MANAGED_IDENTITY: 'true', HUMMDESK_TEAMS_MANAGED_IDENTITY_CLIENT_ID: 'mi' }).credential).toEqual({ kind: 'managed-identity', clientId: 'mi' });
  });
});
