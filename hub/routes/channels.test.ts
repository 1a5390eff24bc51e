import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findInstallation, getInstallation } from '../../storage/repositories/channels.js';
import { withAccount } from '../../storage/session.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { call } from '../testing/seed.js';

let t: TestHub;
let acct: TestAccount;

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  acct = await createTestAccount(t);
});
afterAll(() => t?.close());

const SECRET = 'xoxb-very-secret-value';

describe('channels', () => {
  it('seals secrets at rest and only ever returns their names', async () => {
    const admin = acct.users.admin.token;
    const created = await call(t, admin, 'POST', '/api/v1/channels', { kind: 'teams', name: 'Acme Teams', externalKey: `pn-sealed-${acct.slug}`, config: { triageChannel: 'C1' }, secrets: { botToken: SECRET, signingSecret: 'shh-signing' } });
    expect(created.statusCode, created.body).toBe(201);
    const channel = created.json();
    expect(channel).toMatchObject({ kind: 'teams', enabled: true, config: { triageChannel: 'C1' }, secretKeys: ['botToken', 'signingSecret'] });
    const id = channel.id as string;

    const stored = await withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<{ s: string }>(`SELECT secrets_enc s FROM channels WHERE id = $1`, [id])).rows[0]!.s);
    expect(stored).toMatch(/^v1\./);
    expect(stored).not.toContain(SECRET);

    for (const res of [created, await call(t, admin, 'GET', `/api/v1/channels/${id}`), await call(t, admin, 'GET', '/api/v1/channels'), await call(t, admin, 'GET', '/api/v1/audit')]) {
      expect(res.body).not.toContain(SECRET);
      expect(res.body).not.toContain('shh-signing');
      expect(res.body).not.toContain('secrets_enc');
    }

    const patched = await call(t, admin, 'PATCH', `/api/v1/channels/${id}`, { secrets: { signingSecret: null, appToken: 'xapp-1' }, name: 'Renamed' });
    expect(patched.json()).toMatchObject({ name: 'Renamed', secretKeys: ['appToken', 'botToken'] });
    expect(patched.body).not.toContain('xapp-1');
    const inst = await withAccount(t.hub.db, acct.accountId, (tx) => getInstallation(tx, t.hub.box, id));
    expect(inst!.secrets).toEqual({ botToken: SECRET, appToken: 'xapp-1' });
  });

  it('refuses a second channel with the same kind and external key, in any account', async () => {
    const other = await createTestAccount(t);
    const body = { kind: 'teams', name: 'Team', externalKey: `pn-${acct.slug}` };
    expect((await call(t, acct.users.admin.token, 'POST', '/api/v1/channels', body)).statusCode).toBe(201);
    const dup = await call(t, other.users.admin.token, 'POST', '/api/v1/channels', body);
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe('channel_exists');
  });

  it('connects a Slack workspace only on a hub with the Slack app (its bot token is checked with Slack)', async () => {
    const res = await call(t, acct.users.admin.token, 'POST', '/api/v1/channels', { kind: 'slack', name: 'Slack', externalKey: 'T0TYPED', secrets: { botToken: SECRET } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('connector_not_installed');
  });

  it('deleting disables the channel and keeps it listed', async () => {
    const admin = acct.users.admin.token;
    const id = (await call(t, admin, 'POST', '/api/v1/channels', { kind: 'webchat', name: 'w' })).json().id;
    expect((await call(t, admin, 'DELETE', `/api/v1/channels/${id}`)).statusCode).toBe(204);
    expect((await call(t, admin, 'GET', `/api/v1/channels/${id}`)).json()).toMatchObject({ enabled: false });
    expect(await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id })).toBeUndefined();
  });

  it('routes a channel to a team of the account', async () => {
    const admin = acct.users.admin.token;
    const teamId = (await call(t, admin, 'POST', '/api/v1/teams', { name: 'Tier 1' })).json().id;
    const res = await call(t, admin, 'PATCH', `/api/v1/channels/${acct.channelId}`, { teamId });
    expect(res.json()).toMatchObject({ teamId });
    expect((await call(t, admin, 'PATCH', `/api/v1/channels/${acct.channelId}`, { teamId: null })).json()).toMatchObject({ teamId: null });
  });

  it('checks an email channel when it is created or changed: address, host, port, TLS, with a stable code', async () => {
    const admin = acct.users.admin.token;
    const post = (config: Record<string, unknown>, externalKey = `mail-${Math.random().toString(36).slice(2)}@example.com`) =>
      call(t, admin, 'POST', '/api/v1/channels', { kind: 'email', name: 'Support mail', externalKey, config: { address: externalKey, ...config } });
    const refused = async (config: Record<string, unknown>, code: string, externalKey?: string) => {
      const res = await post(config, externalKey);
      expect([JSON.stringify(config), res.statusCode, res.json().error?.code]).toEqual([JSON.stringify(config), 400, code]);
      return res.json().error.message as string;
    };
    await refused({}, 'email_address_invalid', 'not-an-address');
    // No default host any more: it used to be 127.0.0.1.
    await refused({ imap: { port: 993 } }, 'email_host_required');
    await refused({ smtp: { host: '  ', port: 587 } }, 'email_host_required');
    await refused({ imap: { host: 'imap.example.com', port: '993' } }, 'email_port_invalid');
    await refused({ imap: { host: 'http://imap.example.com/' } }, 'egress_host_invalid');
    // Private, link-local, metadata and IPv4-mapped addresses are refused unless the operator allows them (this
    // hub allows only 127.0.0.1, for the test mail servers; the next test covers loopback on a stricter hub).
    for (const host of ['127.0.0.2', '10.0.0.8', '169.254.169.254', '::ffff:169.254.169.254', '0.0.0.0', '100.64.1.1', 'fd00::1', 'fe80::1'])
      await refused({ smtp: { host, port: 587 } }, 'egress_forbidden');
    await refused({ imap: { host: '93.184.215.14', port: 6379 } }, 'egress_port_forbidden');
    await refused({ smtp: { host: '93.184.215.14', port: 587, rejectUnauthorized: false } }, 'insecure_tls_forbidden');
    await refused({ imap: { host: '93.184.215.14', port: 993, processed: { flag: '\\Seen', moveTo: 'Done' } } }, 'channel_misconfigured');

    const ok = await post({ imap: { host: '93.184.215.14', port: 993 }, smtp: { host: '93.184.215.14', port: 587 } });
    expect(ok.statusCode, ok.body).toBe(201);
    const id = ok.json().id as string;
    const patch = (config: Record<string, unknown>) => call(t, admin, 'PATCH', `/api/v1/channels/${id}`, { config });
    const bad = await patch({ address: ok.json().externalKey, smtp: { host: '192.168.1.1', port: 25 } });
    expect([bad.statusCode, bad.json().error.code]).toEqual([400, 'egress_forbidden']);
    expect((await call(t, admin, 'GET', `/api/v1/channels/${id}`)).json().config.smtp.host).toBe('93.184.215.14');
    expect((await patch({ address: ok.json().externalKey, smtp: { host: '93.184.215.15', port: 465 } })).statusCode).toBe(200);
  });

  it("what the operator allows in HUMMDESK_ALLOW_PRIVATE_HOSTS is accepted, and nothing beside it", async () => {
    const strict = await startTestHub({ jobs: false, env: { HUMMDESK_ALLOW_PRIVATE_HOSTS: '127.0.0.1:1143' } });
    try {
      const a = await createTestAccount(strict);
      const post = (host: string, port: number) => call(strict, a.users.admin.token, 'POST', '/api/v1/channels', { kind: 'email', name: 'bridge', externalKey: `b-${Math.random().toString(36).slice(2)}@example.com`, config: { imap: { host, port } } });
      expect((await post('127.0.0.1', 1143)).statusCode).toBe(201);
      for (const [host, port] of [['127.0.0.1', 143], ['localhost', 143], ['[::1]', 1143], ['::ffff:7f00:2', 993]] as const) {
        const other = await post(host, port);
        expect([host, other.statusCode, other.json().error.code]).toEqual([host, 400, 'egress_forbidden']);
      }
    } finally {
      await strict.close();
    }
  });
});
