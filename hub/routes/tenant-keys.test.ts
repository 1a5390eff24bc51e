import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackEmulator } from '../../connectors/slack/testing/emulator.js';
import { findInstallation, insertChannel } from '../../storage/repositories/channels.js';
import { insertUser } from '../../storage/repositories/users.js';
import { withAccount } from '../../storage/session.js';
import { isUniqueViolation } from '../../storage/unique-violation.js';
import { hashPassword } from '../services/auth.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { call } from '../testing/seed.js';

/*
 * Keys that used to be unique across tenants (user emails, widget ids, mailbox addresses, Slack team
 * ids) can no longer be learnt or squatted by another tenant.
 */

const SIGNING = 'tenant-keys-signing-secret';
let emulator: SlackEmulator;
let t: TestHub;
let a: TestAccount;
let b: TestAccount;
let address = 0;

beforeAll(async () => {
  emulator = await SlackEmulator.start();
  t = await startTestHub({ jobs: false, slack: { slackApiUrl: emulator.apiUrl, clientId: '1111.2222', clientSecret: 'emulated-client-secret', signingSecret: SIGNING } });
  a = await createTestAccount(t);
  b = await createTestAccount(t);
});
afterAll(async () => {
  await t?.close();
  await emulator?.close();
});

// Login is rate limited per address; each call comes from its own.
const login = (body: Record<string, unknown>) =>
  t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: body, remoteAddress: `10.9.${Math.floor(++address / 250)}.${address % 250}` });
const addUser = async (acct: TestAccount, email: string, password: string) =>
  withAccount(t.hub.db, acct.accountId, async (tx) => (await insertUser(tx, { accountId: acct.accountId, email, name: email, role: 'agent', passwordHash: await hashPassword(password) })).id);

describe('user emails are unique per account', () => {
  it("lets another account add a user with an email already in use elsewhere, without a hint that it is", async () => {
    const res = await call(t, b.users.admin.token, 'POST', '/api/v1/users', { email: a.users.agent.email, name: 'Same email', role: 'agent', password: 'another long password' });
    expect(res.statusCode, res.body).toBe(201);
    const again = await call(t, b.users.admin.token, 'POST', '/api/v1/users', { email: a.users.agent.email.toUpperCase(), name: 'Twice', role: 'agent', password: 'another long password' });
    expect(again.json().error.code).toBe('user_exists');
  });

  it('logs in to the account whose password matches', async () => {
    const email = 'two-accounts@example.test';
    const inA = await addUser(a, email, 'password of account a');
    const inB = await addUser(b, email, 'password of account b');
    expect((await login({ email, password: 'password of account a' })).json().user.id).toBe(inA);
    expect((await login({ email, password: 'password of account b' })).json().user.id).toBe(inB);
  });

  it('asks for the account when the password matches several, and only then', async () => {
    const email = 'same-password@example.test';
    const password = 'one password for both';
    await addUser(a, email, password);
    const inB = await addUser(b, email, password);
    const ambiguous = await login({ email, password });
    expect(ambiguous.statusCode).toBe(409);
    expect(ambiguous.json().error.code).toBe('account_required');
    expect(ambiguous.json().error.details.accounts).toEqual(
      [{ slug: a.slug, name: a.slug }, { slug: b.slug, name: b.slug }].sort((x, y) => x.slug.localeCompare(y.slug)),
    );
    const chosen = await login({ email, password, account: b.slug });
    expect(chosen.statusCode).toBe(200);
    expect(chosen.json().user.id).toBe(inB);
    // A wrong password, or an account the password does not open, says nothing about which accounts exist.
    const wrong = await login({ email, password: 'not the password' });
    const unknown = await login({ email: 'nobody@example.test', password });
    const otherAccount = await login({ email, password, account: 'no-such-account' });
    for (const res of [wrong, unknown, otherAccount]) {
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual(unknown.json());
    }
    expect(wrong.body).not.toContain(a.slug);
  });
});

describe('web chat widget ids are generated', () => {
  it('gives a new widget an opaque id that works, and refuses a chosen one', async () => {
    const created = await call(t, a.users.admin.token, 'POST', '/api/v1/channels', { kind: 'webchat', name: 'Site chat', secrets: { sessionSecret: 'session-secret-of-the-site', identitySecret: 'identity-secret-of-the-site' } });
    expect(created.statusCode, created.body).toBe(201);
    const widgetId = created.json().externalKey as string;
    expect(widgetId).toMatch(/^wc_[A-Za-z0-9_-]{24}$/);
    const second = (await call(t, b.users.admin.token, 'POST', '/api/v1/channels', { kind: 'webchat', name: 'Site chat' })).json().externalKey;
    expect(second).not.toBe(widgetId);
    expect((await t.app.inject({ method: 'POST', url: `/webchat/${widgetId}/sessions`, payload: {} })).statusCode).toBeLessThan(300);

    const chosen = await call(t, b.users.admin.token, 'POST', '/api/v1/channels', { kind: 'webchat', name: 'Squat', externalKey: `key-${a.slug}` });
    expect(chosen.statusCode).toBe(400);
    expect(chosen.json().error.code).toBe('widget_id_generated');
    // The same answer whether or not another account has that id.
    const free = await call(t, b.users.admin.token, 'POST', '/api/v1/channels', { kind: 'webchat', name: 'Squat', externalKey: 'nobody-has-this-one' });
    expect(free.json()).toEqual(chosen.json());
  });

  it('keeps existing widget ids working', async () => {
    // The test account's widget was stored with a chosen id, as demo-widget is.
    expect((await t.app.inject({ method: 'POST', url: `/webchat/key-${a.slug}/sessions`, payload: {} })).statusCode).toBeLessThan(300);
  });
});

describe('mailbox addresses are unique per account', () => {
  it('lets two accounts have the same address, once each', async () => {
    const mailbox = (acct: TestAccount) =>
      withAccount(t.hub.db, acct.accountId, (tx) => insertChannel(tx, t.hub.box, { accountId: acct.accountId, kind: 'email', name: 'Support', externalKey: 'support@shared.example' }));
    await mailbox(a);
    await mailbox(b);
    expect(await mailbox(a).then(() => 'stored', (err: unknown) => (isUniqueViolation(err) ? 'duplicate' : String(err)))).toBe('duplicate');
    // Nothing finds email by address: each mailbox is read by its own channel's listener.
    expect(await findInstallation(t.hub.db, t.hub.box, { kind: 'email', externalKey: 'support@shared.example' })).toBeUndefined();
  });
});

describe('a Slack team id is bound only by a bot token of that team, or OAuth', () => {
  const connect = (acct: TestAccount, body: Record<string, unknown>) => call(t, acct.users.admin.token, 'POST', '/api/v1/channels', { kind: 'slack', name: 'Slack', ...body });

  it('takes the team id from auth.test, never from what is typed', async () => {
    const acme = emulator.addWorkspace({ teamId: 'T0ACME', teamName: 'Acme' });
    const other = emulator.addWorkspace({ teamId: 'T0ELSE', teamName: 'Else' });
    const typed = await connect(b, { externalKey: 'T0ACME' });
    expect(typed.json().error.code).toBe('slack_bot_token_required');
    const mismatch = await connect(b, { externalKey: 'T0ACME', secrets: { botToken: other.botToken } });
    expect(mismatch.json().error.code).toBe('slack_team_mismatch');
    const refused = await connect(b, { externalKey: 'T0ACME', secrets: { botToken: 'xoxb-made-up' } });
    expect(refused.json().error.code).toBe('slack_token_invalid');
    const ok = await connect(a, { secrets: { botToken: acme.botToken, signingSecret: SIGNING } });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json()).toMatchObject({ externalKey: 'T0ACME', config: { teamName: 'Acme', botUserId: acme.botUserId } });
    // Someone else with a real token of the team finds it connected; its binding stays.
    const second = await connect(b, { secrets: { botToken: acme.botToken } });
    expect(second.statusCode).toBe(409);
    expect((await findInstallation(t.hub.db, t.hub.box, { kind: 'slack', externalKey: 'T0ACME' }))?.accountId).toBe(a.accountId);
  });

  it("frees a team id typed in by another account for the workspace's real install", async () => {
    const real = emulator.addWorkspace({ teamId: 'T0SQUAT', teamName: 'Squatted', users: [{ id: 'UADMIN', name: 'admin' }] });
    // Stored as POST /channels used to allow: a typed team id, no token of that team.
    const squat = await withAccount(t.hub.db, b.accountId, async (tx) => (await insertChannel(tx, t.hub.box, { accountId: b.accountId, kind: 'slack', name: 'Squat', externalKey: 'T0SQUAT', secrets: { botToken: 'xoxb-not-of-this-team' } })).id);
    const start = await t.app.inject({ method: 'POST', url: '/slack/oauth/start', headers: { authorization: `Bearer ${a.users.admin.token}` } });
    const url = new URL(start.json<{ url: string }>().url);
    const code = emulator.issueOAuthCode('T0SQUAT', url.searchParams.get('redirect_uri')!);
    // The install is bound to the browser that started it: the callback carries the cookie the start set.
    const cookie = String(start.headers['set-cookie']).split(';')[0]!;
    const installed = await t.app.inject({ method: 'GET', url: `/slack/oauth/callback?${new URLSearchParams({ code, state: url.searchParams.get('state')! })}`, headers: { cookie } });
    expect(installed.statusCode, installed.body).toBe(200);
    const bound = await findInstallation(t.hub.db, t.hub.box, { kind: 'slack', externalKey: 'T0SQUAT' });
    expect(bound).toMatchObject({ accountId: a.accountId, secrets: { botToken: real.botToken } });
    const released = await withAccount(t.hub.db, b.accountId, async (tx) => (await tx.query<{ enabled: boolean; action: string }>(
      `SELECT c.enabled, l.action FROM channels c JOIN audit_log l ON l.target_id = c.id::text WHERE c.id = $1 AND l.action = 'slack.team_released'`, [squat])).rows);
    expect(released).toEqual([{ enabled: false, action: 'slack.team_released' }]);
  });
});
