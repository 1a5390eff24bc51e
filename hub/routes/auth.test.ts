import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { withAccount } from '../../storage/session.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { call } from '../testing/seed.js';
import { sha256 } from '../services/auth.js';

let t: TestHub;
let acct: TestAccount;
let address = 0;

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  acct = await createTestAccount(t);
});
afterAll(() => t?.close());

// Login and refresh are rate limited per address; each call comes from its own address.
const post = (url: string, payload: unknown) =>
  t.app.inject({ method: 'POST', url: `/api/v1${url}`, payload: payload as object, remoteAddress: `10.1.${Math.floor(++address / 250)}.${address % 250}` });
const login = (email: string, password: string) => post('/auth/login', { email, password });
// The grace window passes without waiting: the user's rotations are dated back past it.
const pastGrace = (userId: string) => t.hub.db.query(`UPDATE refresh_tokens SET rotated_at = rotated_at - interval '1 hour' WHERE user_id = $1`, [userId]);
const PASSWORD = 'correct horse battery';

/** A well-formed JWT signed with a key the hub does not know. */
function signHs256(payload: object, key: string): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}`;
  return `${unsigned}.${createHmac('sha256', key).update(unsigned).digest('base64url')}`;
}

describe('login', () => {
  it('gives an access token, a refresh token and the user for the right password', async () => {
    const res = await login(acct.users.agent.email, PASSWORD);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.user).toMatchObject({ id: acct.users.agent.id, role: 'agent' });
    expect(body.user).not.toHaveProperty('passwordHash');
    expect(body.refreshToken).toMatch(/^hdr_/);
    const me = await call(t, body.accessToken, 'GET', '/api/v1/me');
    expect(me.json()).toMatchObject({ accountId: acct.accountId, role: 'agent' });
  });

  it('gives the same error for a wrong password and an unknown email', async () => {
    const wrong = await login(acct.users.agent.email, 'not the password');
    const unknown = await login('nobody@nowhere.test', PASSWORD);
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
    expect(wrong.json().error.code).toBe('invalid_credentials');
  });

  it('stores passwords as bcrypt hashes', async () => {
    const hash = await withAccount(t.hub.db, acct.accountId, async (tx) =>
      (await tx.query<{ h: string }>(`SELECT password_hash h FROM users WHERE id = $1`, [acct.users.agent.id])).rows[0]!.h,
    );
    expect(hash).toMatch(/^\$2[aby]\$10\$/);
    expect(hash).not.toContain(PASSWORD);
  });
});

describe('refresh tokens', () => {
  it('rotate: a refresh gives a new pair and spends the old token', async () => {
    const first = (await login(acct.users.admin.email, PASSWORD)).json();
    const second = await post('/auth/refresh', { refreshToken: first.refreshToken });
    expect(second.statusCode).toBe(200);
    expect(second.json().refreshToken).not.toBe(first.refreshToken);
    expect((await call(t, second.json().accessToken, 'GET', '/api/v1/me')).statusCode).toBe(200);
  });

  it('revoke every session of the user when a spent token is presented again', async () => {
    const email = acct.users.viewer.email;
    const laptop = (await login(email, PASSWORD)).json();
    const phone = (await login(email, PASSWORD)).json();
    const rotated = (await post('/auth/refresh', { refreshToken: laptop.refreshToken })).json();
    await pastGrace(acct.users.viewer.id);
    const replay = await post('/auth/refresh', { refreshToken: laptop.refreshToken });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error.code).toBe('refresh_token_reused');
    // Both the thief's rotated token and the other device's token are dead now.
    expect((await post('/auth/refresh', { refreshToken: rotated.refreshToken })).statusCode).toBe(401);
    expect((await post('/auth/refresh', { refreshToken: phone.refreshToken })).statusCode).toBe(401);
    const live = await withAccount(t.hub.db, acct.accountId, async (tx) =>
      Number((await tx.query<{ n: string }>(`SELECT count(*) n FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL`, [acct.users.viewer.id])).rows[0]!.n),
    );
    expect(live).toBe(0);
  });

  it('answer parallel refreshes of one token with the same new pair, and the session lives on', async () => {
    const session = (await login(acct.users.agent.email, PASSWORD)).json();
    const answers = await Promise.all(Array.from({ length: 6 }, () => post('/auth/refresh', { refreshToken: session.refreshToken })));
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 200]);
    const successors = new Set(answers.map((r) => r.json().refreshToken as string));
    expect(successors.size).toBe(1);
    const [successor] = [...successors];
    expect(successor).not.toBe(session.refreshToken);
    for (const r of answers) expect((await call(t, r.json().accessToken, 'GET', '/api/v1/me')).statusCode).toBe(200);
    // One live token, and it still rotates.
    const next = await post('/auth/refresh', { refreshToken: successor });
    expect(next.statusCode).toBe(200);
    expect(next.json().refreshToken).not.toBe(successor);
  });

  it('after a password change, a rotation presented again in its grace answers nothing', async () => {
    const { users } = await createTestAccount(t);
    const session = (await login(users.admin.email, PASSWORD)).json();
    const rotated = (await post('/auth/refresh', { refreshToken: session.refreshToken })).json();
    expect(rotated.refreshToken).toMatch(/^hdr_/);
    const changed = await call(t, rotated.accessToken, 'PATCH', `/api/v1/users/${users.admin.id}`, { password: 'a brand new password', currentPassword: PASSWORD });
    expect(changed.statusCode).toBe(200);
    const again = await post('/auth/refresh', { refreshToken: session.refreshToken });
    expect(again.statusCode).toBe(401);
    expect((await post('/auth/refresh', { refreshToken: rotated.refreshToken })).statusCode).toBe(401);
  });

  it('refuses an unknown refresh token', async () => {
    const res = await post('/auth/refresh', { refreshToken: 'hdr_made-up' });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('invalid_refresh_token');
  });

  it('logout spends the refresh token', async () => {
    const session = (await login(acct.users.owner.email, PASSWORD)).json();
    const out = await post('/auth/logout', { refreshToken: session.refreshToken });
    expect(out.statusCode).toBe(204);
    expect((await post('/auth/refresh', { refreshToken: session.refreshToken })).statusCode).toBe(401);
  });
});

describe('cookie sessions (the hub\'s own page)', () => {
  const cookieOf = (res: { headers: Record<string, unknown> }) => {
    const raw = res.headers['set-cookie'];
    const line = (Array.isArray(raw) ? raw : [raw]).find((c) => String(c).startsWith('hd_session='));
    return line ? String(line) : undefined;
  };
  const withCookie = (url: string, cookie: string, headers: Record<string, string> = { 'x-hummdesk-session': 'cookie' }) =>
    t.app.inject({ method: 'POST', url: `/api/v1${url}`, payload: {}, headers: { cookie: cookie.split(';')[0]!, ...headers }, remoteAddress: `10.2.${Math.floor(++address / 250)}.${address % 250}` });

  it('keep the refresh token in an httpOnly, SameSite=Strict cookie scoped to /auth, never in the body', async () => {
    const res = await post('/auth/login', { email: acct.users.agent.email, password: PASSWORD, session: 'cookie' });
    expect(res.statusCode).toBe(200);
    expect(res.json().refreshToken).toBeUndefined();
    expect(res.json().accessToken).toBeTruthy();
    const cookie = cookieOf(res)!;
    expect(cookie).toMatch(/^hd_session=hdr_/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\/api\/v1\/auth/);
  });

  it('survive a reload: the cookie alone (with the session header) gives a new access token and rotates', async () => {
    const first = cookieOf(await post('/auth/login', { email: acct.users.agent.email, password: PASSWORD, session: 'cookie' }))!;
    const reload = await withCookie('/auth/refresh', first);
    expect(reload.statusCode).toBe(200);
    expect(reload.json().user.id).toBe(acct.users.agent.id);
    expect(reload.json().refreshToken).toBeUndefined();
    const next = cookieOf(reload)!;
    expect(next.split(';')[0]).not.toBe(first.split(';')[0]);
    expect((await call(t, reload.json().accessToken, 'GET', '/api/v1/me')).statusCode).toBe(200);
    expect((await withCookie('/auth/refresh', next)).statusCode).toBe(200);
  });

  it('are not used without the session header, so another site cannot refresh or end them', async () => {
    const cookie = cookieOf(await post('/auth/login', { email: acct.users.agent.email, password: PASSWORD, session: 'cookie' }))!;
    const refresh = await withCookie('/auth/refresh', cookie, {});
    expect(refresh.statusCode).toBe(400);
    expect(refresh.json().error.code).toBe('refresh_token_required');
    expect((await withCookie('/auth/logout', cookie, {})).statusCode).toBe(400);
    expect((await withCookie('/auth/refresh', cookie)).statusCode).toBe(200);
  });

  it('end on logout: the token is revoked and the cookie cleared', async () => {
    const cookie = cookieOf(await post('/auth/login', { email: acct.users.agent.email, password: PASSWORD, session: 'cookie' }))!;
    const out = await withCookie('/auth/logout', cookie);
    expect(out.statusCode).toBe(204);
    expect(cookieOf(out)).toMatch(/^hd_session=;/);
    const after = await withCookie('/auth/refresh', cookie);
    expect(after.statusCode).toBe(401);
    expect(cookieOf(after)).toMatch(/^hd_session=;/);
  });

  it('answer session_missing when there is no cookie at all', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: {}, headers: { 'x-hummdesk-session': 'cookie' }, remoteAddress: '10.3.0.1' });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('session_missing');
  });
});

describe('access tokens', () => {
  const claims = () => ({ sub: acct.users.admin.id, acc: acct.accountId, role: 'admin', typ: 'access' });

  it('refuses an expired token', async () => {
    const expired = t.app.jwt.sign({ ...claims(), iat: 1_000_000_000, exp: 1_000_000_900 } as never);
    const res = await call(t, expired, 'GET', '/api/v1/me');
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('invalid_token');
  });

  it('refuses garbage, a token signed with another key, and a missing token', async () => {
    const forged = signHs256(claims(), 'some other secret');
    for (const token of ['garbage', 'a.b.c', forged]) {
      const res = await call(t, token, 'GET', '/api/v1/conversations');
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('invalid_token');
    }
    const none = await call(t, undefined, 'GET', '/api/v1/conversations');
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('unauthorized');
  });
});

describe('API keys', () => {
  it('are shown once, stored hashed, work, and stop working when revoked', async () => {
    const created = await call(t, acct.users.admin.token, 'POST', '/api/v1/api-keys', { name: 'zapier', role: 'agent' });
    expect(created.statusCode).toBe(201);
    const { key, apiKey } = created.json();
    expect(key).toMatch(/^hd_[0-9a-f]{8}_/);

    const listed = await call(t, acct.users.admin.token, 'GET', '/api/v1/api-keys');
    expect(listed.body).not.toContain(key);
    expect(listed.json().items.find((k: { id: string }) => k.id === apiKey.id)).toMatchObject({ name: 'zapier', role: 'agent', revokedAt: null });

    const row = await withAccount(t.hub.db, acct.accountId, async (tx) =>
      (await tx.query<Record<string, unknown>>(`SELECT * FROM api_keys WHERE id = $1`, [apiKey.id])).rows[0]!,
    );
    expect(row.key_hash).toBe(sha256(key));
    expect(JSON.stringify(row)).not.toContain(key);

    const me = await call(t, key, 'GET', '/api/v1/me');
    expect(me.json()).toMatchObject({ accountId: acct.accountId, role: 'agent', apiKeyId: apiKey.id, user: null });
    const viaHeader = await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { 'x-api-key': key } });
    expect(viaHeader.statusCode).toBe(200);

    expect((await call(t, acct.users.admin.token, 'DELETE', `/api/v1/api-keys/${apiKey.id}`)).statusCode).toBe(204);
    const after = await call(t, key, 'GET', '/api/v1/me');
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe('invalid_api_key');
  });

  it('cannot be made with the owner role', async () => {
    const res = await call(t, acct.users.owner.token, 'POST', '/api/v1/api-keys', { name: 'root', role: 'owner' });
    expect(res.statusCode).toBe(400);
  });

  it('refuses a malformed key', async () => {
    const res = await call(t, 'hd_nothex_short', 'GET', '/api/v1/me');
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('invalid_api_key');
  });
});

describe('parallel refreshes on the embedded store', () => {
  let e: TestHub;
  // Opening and migrating PGlite takes long on a loaded machine.
  beforeAll(async () => {
    e = await startTestHub({ embedded: true, jobs: false });
  }, 120_000);
  afterAll(() => e?.close());

  it('answer one new pair; after the grace window the same token is theft', async () => {
    const { users } = await createTestAccount(e);
    const inject = (url: string, payload: unknown) => e.app.inject({ method: 'POST', url: `/api/v1${url}`, payload: payload as object, remoteAddress: `10.2.0.${++address % 250}` });
    const session = (await inject('/auth/login', { email: users.agent.email, password: PASSWORD })).json();
    const answers = await Promise.all(Array.from({ length: 6 }, () => inject('/auth/refresh', { refreshToken: session.refreshToken })));
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(new Set(answers.map((r) => r.json().refreshToken)).size).toBe(1);
    await e.hub.db.query(`UPDATE refresh_tokens SET rotated_at = rotated_at - interval '1 hour' WHERE user_id = $1`, [users.agent.id]);
    const replay = await inject('/auth/refresh', { refreshToken: session.refreshToken });
    expect(replay.json().error.code).toBe('refresh_token_reused');
    expect((await inject('/auth/refresh', { refreshToken: answers[0]!.json().refreshToken })).statusCode).toBe(401);
  });
});
