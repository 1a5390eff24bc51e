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
    const created = await call(t, admin, 'POST', '/api/v1/channels', { kind: 'whatsapp', name: 'Acme WhatsApp', externalKey: `pn-sealed-${acct.slug}`, config: { triageChannel: 'C1' }, secrets: { botToken: SECRET, signingSecret: 'shh-signing' } });
    expect(created.statusCode, created.body).toBe(201);
    const channel = created.json();
    expect(channel).toMatchObject({ kind: 'whatsapp', enabled: true, config: { triageChannel: 'C1' }, secretKeys: ['botToken', 'signingSecret'] });
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
    const body = { kind: 'whatsapp', name: 'WA', externalKey: `pn-${acct.slug}` };
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
});
