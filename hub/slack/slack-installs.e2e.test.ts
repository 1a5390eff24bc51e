import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { slackOf } from '../install-slack.js';
import { withAccount } from '../../storage/session.js';
import { getInstallation, updateChannel } from '../../storage/repositories/channels.js';
import { SlackDriver, envelope } from '../../connectors/slack/testing/driver.js';
import { SlackEmulator } from '../../connectors/slack/testing/emulator.js';
import { SlackClients } from '../../connectors/slack/client.js';
import { SlackConnector } from '../../connectors/slack/connector.js';
import type { ChannelInstallation } from '../../connectors/core/types.js';
import { refreshSlackTokens } from './token-rotation.js';

/** Installing and keeping a Slack workspace connected: OAuth state, reinstalls, the app's signing secret, token rotation. */

const APP_SECRET = 'the-apps-current-signing-secret';
let clock = Date.parse('2026-03-02T09:00:00Z');
const now = () => new Date(clock);
let emulator: SlackEmulator;
let t: TestHub;
let acct: TestAccount;

beforeAll(async () => {
  emulator = await SlackEmulator.start({ now: () => clock });
  t = await startTestHub({ slack: { slackApiUrl: emulator.apiUrl, clientId: '1111.2222', clientSecret: 'emulated-client-secret', signingSecret: APP_SECRET, now } });
  acct = await createTestAccount(t, { channelKind: 'webchat' });
});
afterAll(async () => {
  await slackOf(t.hub)?.settled();
  await t?.close();
  await emulator?.close();
});

const query = <R>(sql: string, params: unknown[] = []) => withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<R>(sql, params)).rows);
const installationOf = async (teamId: string): Promise<ChannelInstallation> => {
  const id = (await query<{ id: string }>(`SELECT id FROM channels WHERE kind = 'slack' AND external_key = $1`, [teamId]))[0]!.id;
  return (await withAccount(t.hub.db, acct.accountId, (tx) => getInstallation(tx, t.hub.box, id)))!;
};

/** An admin starts the install in their browser: the install URL, and the cookie the answer set. */
async function startInstall(as: TestAccount = acct): Promise<{ state: string; redirect: string; cookie: string; setCookie: string }> {
  const res = await t.app.inject({ method: 'POST', url: '/slack/oauth/start', headers: { authorization: `Bearer ${as.users.admin.token}` } });
  expect(res.statusCode).toBe(200);
  const url = new URL(res.json<{ url: string }>().url);
  const setCookie = String(res.headers['set-cookie']);
  return { state: url.searchParams.get('state')!, redirect: url.searchParams.get('redirect_uri')!, cookie: setCookie.split(';')[0]!, setCookie };
}

/** Slack sends the browser back to the callback after the workspace admin approved. */
function callback(team: string, s: { state: string; redirect: string }, cookie?: string) {
  const code = emulator.issueOAuthCode(team, s.redirect);
  return t.app.inject({ method: 'GET', url: `/slack/oauth/callback?${new URLSearchParams({ code, state: s.state })}`, headers: cookie ? { cookie } : {} });
}

describe('OAuth state', () => {
  it('is bound to the browser that started the install by an httpOnly, SameSite=Lax cookie', async () => {
    emulator.addWorkspace({ teamId: 'T0BOUND', teamName: 'Bound' });
    const s = await startInstall();
    expect(s.setCookie).toMatch(/HttpOnly/);
    expect(s.setCookie).toMatch(/SameSite=Lax/);
    expect(s.setCookie).toMatch(/Path=\/slack\/oauth/);
    // The link opened in another browser (a victim's, lured into approving their workspace): no cookie, or another install's.
    const noCookie = await callback('T0BOUND', s);
    expect(noCookie.statusCode).toBe(400);
    expect(noCookie.headers['content-type']).toMatch(/text\/html/);
    expect(noCookie.body).toContain('slack_oauth_cookie_missing');
    const other = await startInstall();
    const mismatch = await callback('T0BOUND', s, other.cookie);
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.body).toContain('slack_oauth_state_mismatch');
    expect(await query(`SELECT id FROM channels WHERE external_key = 'T0BOUND'`)).toHaveLength(0);
    // The browser that started it installs.
    const ok = await callback('T0BOUND', s, s.cookie);
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('Bound');
    expect(String(ok.headers['set-cookie'])).toMatch(/Max-Age=0/);
  });

  it('is single-use: the same link and cookie again are refused with a stable code', async () => {
    emulator.addWorkspace({ teamId: 'T0ONCE', teamName: 'Once' });
    const s = await startInstall();
    expect((await callback('T0ONCE', s, s.cookie)).statusCode).toBe(200);
    const again = await callback('T0ONCE', s, s.cookie);
    expect(again.statusCode).toBe(400);
    expect(again.body).toContain('slack_oauth_state_used');
    expect((await query<{ n: string }>(`SELECT count(*) n FROM audit_log WHERE action = 'slack.reinstalled'`))[0]!.n).toBe('0');
  });

  it('an org-wide Enterprise Grid install is refused with a stable code, and nothing is stored', async () => {
    emulator.addWorkspace({ teamId: 'T0GRID', teamName: 'Grid', enterpriseId: 'E0GRID' });
    const s = await startInstall();
    const code = emulator.issueOAuthCode('T0GRID', s.redirect, { orgWide: true });
    const res = await t.app.inject({ method: 'GET', url: `/slack/oauth/callback?${new URLSearchParams({ code, state: s.state })}`, headers: { cookie: s.cookie } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('slack_enterprise_install_unsupported');
    expect(await query(`SELECT id FROM channels WHERE external_key IN ('T0GRID', 'E0GRID')`)).toHaveLength(0);
  });

  it('refuses a forged or expired state', async () => {
    emulator.addWorkspace({ teamId: 'T0LATE', teamName: 'Late' });
    const s = await startInstall();
    expect((await callback('T0LATE', { ...s, state: s.state.slice(0, -2) + 'xx' }, s.cookie)).body).toContain('slack_oauth_state_invalid');
    clock += 11 * 60_000;
    try {
      const late = await callback('T0LATE', s, s.cookie);
      expect(late.statusCode).toBe(400);
      expect(late.body).toContain('slack_oauth_state_expired');
    } finally {
      clock -= 11 * 60_000;
    }
  });
});

describe('reinstalling', () => {
  it('merges the new grant into the installation’s secrets: a Socket Mode app-level token survives', async () => {
    const ws = emulator.addWorkspace({ teamId: 'T0MERGE', teamName: 'Merge' });
    const first = await startInstall();
    expect((await callback('T0MERGE', first, first.cookie)).statusCode).toBe(200);
    const installed = await installationOf('T0MERGE');
    // Neither a copy of the app's signing secret nor anything else but the bot token.
    expect(installed.secrets).toEqual({ botToken: ws.botToken });
    await withAccount(t.hub.db, acct.accountId, (tx) =>
      updateChannel(tx, t.hub.box, installed.id, { secrets: { ...installed.secrets, appToken: ws.appToken }, config: { ...installed.config, socketMode: true } }));
    const again = await startInstall();
    const res = await callback('T0MERGE', again, again.cookie);
    expect(res.body).toContain('reconnected');
    const after = await installationOf('T0MERGE');
    expect(after.id).toBe(installed.id);
    expect(after.secrets).toEqual({ botToken: ws.botToken, appToken: ws.appToken });
    expect(after.config).toMatchObject({ socketMode: true, teamName: 'Merge' });
  });
});

describe('the app’s signing secret', () => {
  it('verifies every workspace from configuration, so an installation holding an old copy keeps working after the secret is regenerated', async () => {
    const ws = emulator.addWorkspace({ teamId: 'T0REGEN', teamName: 'Regen', channels: [{ id: 'C0CUSTR', name: 'cust', isMember: true }] });
    const s = await startInstall();
    await callback('T0REGEN', s, s.cookie);
    const install = await installationOf('T0REGEN');
    // As an install before this change left it: a copy of the secret the app had then.
    await withAccount(t.hub.db, acct.accountId, (tx) =>
      updateChannel(tx, t.hub.box, install.id, { secrets: { ...install.secrets, signingSecret: 'the-apps-old-signing-secret' }, config: { ...install.config, customerChannels: ['C0CUSTR'] } }));
    const m = emulator.postAsUser('T0REGEN', 'C0CUSTR', 'UCUSTR', 'Hello after the regeneration');
    const event = envelope('T0REGEN', { type: 'message', channel: 'C0CUSTR', user: 'UCUSTR', user_profile: { real_name: 'Ria' }, text: m.text, ts: m.ts });
    const deliver = (secret: string) => {
      const signed = new SlackDriver(secret, now).event(event);
      return t.app.inject({ method: 'POST', url: '/webhooks/slack', headers: signed.headers, payload: signed.body });
    };
    const current = await deliver(APP_SECRET);
    expect(current.statusCode).toBe(200);
    expect(current.json().results).toEqual(['created']);
    // The regenerated (perhaps leaked) secret no longer opens anything.
    expect((await deliver('the-apps-old-signing-secret')).statusCode).toBe(401);
    expect(ws.teamId).toBe('T0REGEN');
  });

  it('check() needs no signing secret for a Socket Mode installation, but an app-level token', async () => {
    const ws = emulator.addWorkspace({ teamId: 'T0CHECK' });
    const bare = new SlackConnector(new SlackClients({ slackApiUrl: emulator.apiUrl }));
    const install = (secrets: Record<string, string>, config: Record<string, unknown>): ChannelInstallation =>
      ({ id: '00000000-0000-4000-8000-000000000001', accountId: acct.accountId, kind: 'slack', externalKey: 'T0CHECK', teamId: null, config, secrets });
    expect(await bare.check(install({ botToken: ws.botToken, appToken: ws.appToken }, { socketMode: true }))).toEqual({ ok: true });
    expect(await bare.check(install({ botToken: ws.botToken }, { socketMode: true }))).toMatchObject({ ok: false, code: 'slack_app_token_missing' });
    expect(await bare.check(install({ botToken: ws.botToken }, {}))).toMatchObject({ ok: false, code: 'slack_signing_secret_missing' });
    // The hub's connector has the app's secret: an HTTP installation needs none of its own.
    expect(await slackOf(t.hub)!.connector.check(install({ botToken: ws.botToken }, {}))).toEqual({ ok: true });
    // Nor a Socket Mode one its own app-level token, when the app's is configured.
    const withAppToken = new SlackConnector(new SlackClients({ slackApiUrl: emulator.apiUrl }), undefined, { appToken: ws.appToken });
    expect(await withAppToken.check(install({ botToken: ws.botToken }, { socketMode: true }))).toEqual({ ok: true });
  });
});

describe('token rotation', () => {
  it('stores the refresh token sealed, renews the bot token two hours before it expires, once across two processes, keeping other secrets', async () => {
    const ws = emulator.addWorkspace({ teamId: 'T0ROTATE', teamName: 'Rotate', tokenRotation: true });
    const s = await startInstall();
    expect((await callback('T0ROTATE', s, s.cookie)).statusCode).toBe(200);
    const installed = await installationOf('T0ROTATE');
    const firstToken = installed.secrets.botToken!;
    const firstRefresh = installed.secrets.refreshToken!;
    expect(firstToken).toMatch(/^xoxe\.xoxb-/);
    expect(firstRefresh).toMatch(/^xoxe-1-/);
    expect(installed.config.botTokenExpiresAt).toBe(new Date(clock + 12 * 3600_000).toISOString());
    const sealed = (await query<{ s: string }>(`SELECT secrets_enc s FROM channels WHERE id = $1`, [installed.id]))[0]!.s;
    expect(sealed).not.toContain(firstRefresh);
    await withAccount(t.hub.db, acct.accountId, (tx) => updateChannel(tx, t.hub.box, installed.id, { secrets: { ...installed.secrets, appToken: ws.appToken } }));

    // Not due yet: nothing is asked of Slack.
    const refreshCalls = () => emulator.callsOf('oauth.v2.access').filter((c) => c.args.grant_type === 'refresh_token');
    expect((await refreshSlackTokens(t.hub, { now: now() })).refreshed).toEqual([]);
    expect(refreshCalls()).toHaveLength(0);

    clock += 10 * 3600_000 + 60_000;
    // Two processes at once: one refreshes (a refresh token works once), the other finds it done or leased.
    const [a, b] = await Promise.all([refreshSlackTokens(t.hub, { now: now(), owner: 'hub-a' }), refreshSlackTokens(t.hub, { now: now(), owner: 'hub-b' })]);
    expect([...a.refreshed, ...b.refreshed]).toEqual([installed.id]);
    expect([...a.failed, ...b.failed]).toEqual([]);
    expect(refreshCalls()).toHaveLength(1);
    const renewed = await installationOf('T0ROTATE');
    expect(renewed.secrets.botToken).not.toBe(firstToken);
    expect(renewed.secrets.refreshToken).not.toBe(firstRefresh);
    expect(renewed.secrets.appToken).toBe(ws.appToken);
    expect(renewed.config.botTokenExpiresAt).toBe(new Date(clock + 12 * 3600_000).toISOString());
    expect(emulator.refreshTokenLive(firstRefresh)).toBe(false);

    // Past the first token's expiry the renewed one works, the old one does not.
    clock += 3 * 3600_000;
    const clients = new SlackClients({ slackApiUrl: emulator.apiUrl });
    await expect(clients.for(firstToken).auth.test()).rejects.toMatchObject({ data: { error: 'token_expired' } });
    expect((await clients.for(renewed.secrets.botToken!).auth.test()).team_id).toBe('T0ROTATE');
  });

  it('a rotating installation whose token lapsed is still its workspace’s: another account cannot take the team over', async () => {
    emulator.addWorkspace({ teamId: 'T0LAPSE', teamName: 'Lapse', tokenRotation: true });
    const s = await startInstall();
    expect((await callback('T0LAPSE', s, s.cookie)).statusCode).toBe(200);
    const held = await installationOf('T0LAPSE');
    const before = clock;
    clock += 13 * 3600_000;
    try {
      const intruder = await createTestAccount(t, { channelKind: 'webchat' });
      const theirs = await startInstall(intruder);
      const res = await callback('T0LAPSE', theirs, theirs.cookie);
      expect(res.statusCode).toBe(409);
      expect(res.body).toContain('slack_workspace_taken');
      expect((await installationOf('T0LAPSE')).id).toBe(held.id);
    } finally {
      clock = before;
    }
  });
});
