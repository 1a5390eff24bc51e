import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const accept = (token: string, password: string) => t.app.inject({ method: 'POST', url: '/api/v1/auth/invite', payload: { token, password }, remoteAddress: `10.8.${Math.floor(Math.random() * 250)}.1` });
const login = (email: string, password: string) => t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password }, remoteAddress: '10.8.255.1' });
const invited = async () => {
  const email = `${randomUUID()}@invite.test`;
  const created = await call(t, acct.users.admin.token, 'POST', '/api/v1/users', { email, name: 'Invited Agent', role: 'agent' });
  expect(created.statusCode, created.body).toBe(201);
  const id = created.json().id as string;
  const res = await call(t, acct.users.admin.token, 'POST', `/api/v1/users/${id}/invite`);
  expect(res.statusCode, res.body).toBe(201);
  const url = new URL(res.json().url);
  return { id, email, url, token: url.searchParams.get('invite')! };
};

describe('invites', () => {
  it('a user added without a password sets their own through a one-time link, then signs in', async () => {
    const i = await invited();
    expect(`${i.url.origin}${i.url.pathname}`).toBe(`${t.config.publicUrl}/`);
    const short = await accept(i.token, 'short');
    expect(short.json().error.code).toBe('password_too_short');
    // A refused password leaves the link usable.
    const ok = await accept(i.token, 'my own long password');
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toEqual({ email: i.email });
    expect((await login(i.email, 'my own long password')).statusCode).toBe(200);
    const again = await accept(i.token, 'another long password');
    expect(again.statusCode).toBe(400);
    expect(again.json().error.code).toBe('invite_invalid');
    expect((await login(i.email, 'another long password')).statusCode).toBe(401);
    // Only the token's hash is stored.
    const stored = await withAccount(t.hub.db, acct.accountId, (tx) => tx.query<{ token_hash: string }>(`SELECT token_hash FROM user_invites WHERE user_id = $1`, [i.id]));
    expect(JSON.stringify(stored.rows)).not.toContain(i.token);
  });

  it('a new link replaces the last unused one; an expired or made-up one is refused with its own code', async () => {
    const i = await invited();
    const second = new URL((await call(t, acct.users.admin.token, 'POST', `/api/v1/users/${i.id}/invite`)).json().url).searchParams.get('invite')!;
    expect((await accept(i.token, 'long enough password')).json().error.code).toBe('invite_invalid');
    await withAccount(t.hub.db, acct.accountId, (tx) => tx.query(`UPDATE user_invites SET expires_at = now() - interval '1 minute' WHERE user_id = $1`, [i.id]));
    expect((await accept(second, 'long enough password')).json().error.code).toBe('invite_expired');
    expect((await accept('made-up', 'long enough password')).json().error.code).toBe('invite_invalid');
  });

  it('an admin invites only users ranked below them; another account\'s user is not found', async () => {
    const other = await createTestAccount(t);
    expect((await call(t, acct.users.admin.token, 'POST', `/api/v1/users/${acct.users.owner.id}/invite`)).statusCode).toBe(403);
    expect((await call(t, acct.users.owner.token, 'POST', `/api/v1/users/${acct.users.admin.id}/invite`)).statusCode).toBe(201);
    const foreign = await call(t, acct.users.owner.token, 'POST', `/api/v1/users/${other.users.agent.id}/invite`);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe('user_not_found');
  });
});
