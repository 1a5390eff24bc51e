import { afterEach, describe, expect, it } from 'vitest';
import { withAccount } from '../../storage/session.js';
import { createAccount } from '../services/accounts.js';
import { seedDemo } from '../services/demo.js';
import { setupToken, slugFor } from '../services/setup.js';
import { startTestHub, type TestHub } from '../testing/harness.js';

const owner = { workspace: 'Acme Support', name: 'Lea Lead', email: 'lea@acme.test', password: 'a long owner password' };

let t: TestHub | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const state = async (hub: TestHub) => (await hub.app.inject({ url: '/api/v1/setup' })).json<{ needed: boolean; demo: boolean }>();
/** A setup with the token the hub's `hummdesk start` prints (derived from its secret key), unless `body` says otherwise. */
const setup = (hub: TestHub, body: Record<string, unknown>, address = '10.7.0.1') =>
  hub.app.inject({ method: 'POST', url: '/api/v1/setup', payload: { setupToken: setupToken(hub.config.secretKey), ...body }, remoteAddress: address });
const accounts = async (hub: TestHub) => (await hub.hub.db.query<{ name: string; slug: string }>(`SELECT name, slug FROM accounts ORDER BY created_at`)).rows;

describe('first-run setup', () => {
  it('a hub with no account creates its first workspace and owner once, signed in at once; then only sign-in is left', async () => {
    t = await startTestHub({ jobs: false });
    expect(await state(t)).toEqual({ needed: true, demo: false });

    // The same rules as everywhere: a short password is refused and leaves setup open.
    const short = await setup(t, { ...owner, password: 'short' });
    expect(short.statusCode).toBe(400);
    expect(short.json().error.code).toBe('password_too_short');
    const blank = await setup(t, { ...owner, workspace: '   ' });
    expect(blank.statusCode).toBe(400);
    expect(blank.json().error.code).toBe('name_blank');
    const badEmail = await setup(t, { ...owner, email: 'not an email' });
    expect(badEmail.statusCode).toBe(400);
    expect(badEmail.json().error.code).toBe('validation_failed');
    expect(await accounts(t)).toEqual([]);

    const created = await setup(t, { ...owner, workspace: ` ${owner.workspace} ` });
    expect(created.statusCode, created.body).toBe(201);
    const body = created.json();
    expect(body.account).toMatchObject({ name: 'Acme Support', slug: 'acme-support' });
    expect(body.user).toMatchObject({ email: owner.email, name: owner.name, role: 'owner' });
    expect(typeof body.refreshToken).toBe('string');
    const me = await t.app.inject({ url: '/api/v1/me', headers: { authorization: `Bearer ${body.accessToken}` } });
    expect(me.json()).toMatchObject({ accountId: body.account.id, role: 'owner' });
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: owner.email, password: owner.password }, remoteAddress: '10.7.0.2' });
    expect(login.statusCode).toBe(200);
    const audited = await withAccount(t.hub.db, body.account.id, (tx) => tx.query<{ action: string; actor_id: string }>(`SELECT action, actor_id FROM audit_log`));
    expect(audited.rows).toEqual([{ action: 'account.created', actor_id: body.user.id }]);

    expect(await state(t)).toEqual({ needed: false, demo: false });
    const again = await setup(t, { ...owner, workspace: 'Someone Else', email: 'mallory@evil.test' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('setup_done');
    expect(await accounts(t)).toEqual([{ name: 'Acme Support', slug: 'acme-support' }]);
  });

  it('takes the setup token the hub printed: without it, or with another, nothing is made and setup stays open', async () => {
    t = await startTestHub({ jobs: false });
    const token = setupToken(t.config.secretKey);
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    const missing = await t.app.inject({ method: 'POST', url: '/api/v1/setup', payload: owner, remoteAddress: '10.7.2.1' });
    expect(missing.statusCode).toBe(401);
    expect(missing.json().error.code).toBe('setup_token_required');
    for (const wrong of ['   ', 'not-the-token', token.slice(0, -1), `${token.slice(0, -1)}${token.endsWith('0') ? '1' : '0'}`, setupToken(Buffer.alloc(32, 7))]) {
      const refused = await setup(t, { ...owner, setupToken: wrong }, '10.7.2.2');
      expect(refused.statusCode, wrong).toBe(wrong.trim() ? 403 : 401);
      expect(refused.json().error.code).toBe(wrong.trim() ? 'setup_token_invalid' : 'setup_token_required');
    }
    expect(await accounts(t)).toEqual([]);
    expect(await state(t)).toEqual({ needed: true, demo: false });

    // Typed from the terminal: spaces around it and capitals are forgiven.
    const created = await setup(t, { ...owner, setupToken: ` ${token.toUpperCase()} ` }, '10.7.2.3');
    expect(created.statusCode, created.body).toBe(201);
    // Once set up, the token is worth nothing: the answer is `setup_done`, with it or without.
    expect((await setup(t, { ...owner, workspace: 'Again' }, '10.7.2.4')).json().error.code).toBe('setup_done');
    const late = await t.app.inject({ method: 'POST', url: '/api/v1/setup', payload: { ...owner, workspace: 'Again' }, remoteAddress: '10.7.2.4' });
    expect([late.statusCode, late.json().error.code]).toEqual([409, 'setup_done']);
  });

  it('headless, `hummdesk account create` needs no token, and setup is closed after it', async () => {
    t = await startTestHub({ jobs: false });
    const created = await createAccount(t.hub.db, { name: 'Headless Support', slug: 'headless', ownerEmail: 'ops@headless.test' });
    expect(created.ownerPassword.length).toBeGreaterThanOrEqual(8);
    expect(await state(t)).toEqual({ needed: false, demo: false });
    expect((await setup(t, owner)).json().error.code).toBe('setup_done');
  });

  it('the setup token is one per hub: every process with the same secret key accepts the same one, another key\'s is refused', () => {
    const key = Buffer.alloc(32, 1);
    expect(setupToken(key)).toBe(setupToken(Buffer.from(key)));
    expect(setupToken(key)).not.toBe(setupToken(Buffer.alloc(32, 2)));
  });

  it('makes one account when several setups arrive at once', async () => {
    t = await startTestHub({ jobs: false });
    const hub = t;
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => setup(hub, { ...owner, workspace: `Race ${i}`, email: `owner${i}@race.test` }, `10.7.1.${i}`)),
    );
    expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    for (const refused of answers.filter((a) => a.statusCode === 409)) expect(refused.json().error.code).toBe('setup_done');
    expect(await accounts(hub)).toHaveLength(1);
    expect(Number((await hub.hub.db.query<{ n: string }>(`SELECT count(*) AS n FROM users`)).rows[0]!.n)).toBe(1);
  });

  it("keeps the page's session in the httpOnly cookie, as sign-in does", async () => {
    t = await startTestHub({ jobs: false });
    const created = await setup(t, { ...owner, session: 'cookie' });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().refreshToken).toBeUndefined();
    const cookie = created.cookies.find((c) => c.name === 'hd_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/api/v1/auth' });
    const refreshed = await t.app.inject({
      method: 'POST', url: '/api/v1/auth/refresh', payload: {}, remoteAddress: '10.7.0.3',
      headers: { 'x-hummdesk-session': 'cookie' }, cookies: { hd_session: cookie.value },
    });
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    expect(refreshed.json().user.email).toBe(owner.email);
  });

  it('runs on the embedded store too, where the demo account of `npm start` closes it and its login is said to be in the terminal', async () => {
    t = await startTestHub({ jobs: false, embedded: true });
    expect(await state(t)).toEqual({ needed: true, demo: false });
    const created = await setup(t, owner);
    expect(created.statusCode, created.body).toBe(201);
    expect((await setup(t, { ...owner, workspace: 'Second' })).json().error.code).toBe('setup_done');
    await seedDemo(t.hub.db, t.hub.box, t.config.dataDir, 'http://127.0.0.1');
    expect(await state(t)).toEqual({ needed: false, demo: true });
    expect(await accounts(t)).toEqual([{ name: 'Acme Support', slug: 'acme-support' }, { name: 'Demo Support', slug: 'demo' }]);
    // Opening and migrating PGlite takes long on a loaded machine.
  }, 180_000);
});

describe('the slug of a workspace name', () => {
  it('is lower case letters, digits and dashes, never empty', () => {
    expect(slugFor('Acme Support, Oy')).toBe('acme-support-oy');
    expect(slugFor('Kärkkäinen & Co')).toBe('karkkainen-co');
    expect(slugFor('  --Support--  ')).toBe('support');
    expect(slugFor('日本')).toBe('workspace');
    expect(slugFor('x'.repeat(100))).toHaveLength(63);
    for (const name of ['Acme Support, Oy', '日本', `${'a'.repeat(62)}-b`]) expect(slugFor(name)).toMatch(/^[a-z0-9][a-z0-9-]{1,62}$/);
  });
});
