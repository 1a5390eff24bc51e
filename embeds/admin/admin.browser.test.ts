import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertChannel } from '../../storage/repositories/channels.js';
import { insertUser } from '../../storage/repositories/users.js';
import { withAccount } from '../../storage/session.js';
import { hashPassword } from '../../hub/services/auth.js';
import type { DemoCredentials } from '../../hub/services/demo.js';
import type { TestHub } from '../../hub/testing/harness.js';
import { startDeskTest } from '../../hub/testing/desk.js';
import { artifactPath, axeViolations, focusMatches, tabTo } from '../testing.js';

const imapUrl = process.env.IMAP_URL;
if (!imapUrl) console.warn('SKIPPED (email channel): IMAP_URL is not set (run through scripts/test.sh, which starts Dovecot)');
const imap = imapUrl ? new URL(imapUrl) : undefined;
const imapPassword = process.env.IMAP_PASSWORD ?? 'hummdesk';
const SLACK_AUTHORIZE = 'https://slack.test/oauth/v2/authorize';

/** The admin console in the page at /, in real Chromium: an owner sets up channels and people without curl. */
describe('admin console', { timeout: 240_000 }, () => {
  let t: TestHub;
  let browser: Browser;
  let base: string;
  let demo: DemoCredentials;
  let close: (() => Promise<void>) | undefined;
  let accountId: string;
  let smtp: SMTPServer;
  let smtpPort = 0;
  const agent = { email: 'plain.agent@hummdesk.local', password: 'plain agent password' };
  const contexts: BrowserContext[] = [];

  const signIn = async (email = demo.email, password = demo.password): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    context.setDefaultTimeout(45_000);
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
    await page.goto(`${base}/`);
    await page.locator('#login-email').fill(email);
    await page.locator('#login-password').fill(password);
    await page.locator('#login-form button[type=submit]').click();
    await page.locator('hummdesk-inbox ul[role=listbox]').waitFor();
    return page;
  };
  const openSettings = async (page: Page) => {
    await page.locator('#settings').click();
    await page.locator('hummdesk-admin-channels table[part=list]').waitFor();
  };
  const channelRows = () =>
    withAccount(t.hub.db, accountId, async (tx) =>
      (await tx.query<{ id: string; kind: string; name: string; external_key: string; config: Record<string, unknown> }>(`SELECT id, kind, name, external_key, config FROM channels ORDER BY created_at`)).rows);

  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
      onAuth: (auth, _s, cb) => (auth.password === 'smtp secret' ? cb(null, { user: auth.username }) : cb(new Error('bad login'))),
      onData: (stream, _s, cb) => (stream.resume(), stream.on('end', () => cb())),
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    smtpPort = (smtp.server.address() as AddressInfo).port;
    ({ t, base, demo, accountId, browser, close } = await startDeskTest({ jobs: false, slack: { clientId: '111.222', clientSecret: 'client secret', authorizeUrl: SLACK_AUTHORIZE } }));
    await withAccount(t.hub.db, accountId, async (tx) => {
      await insertUser(tx, { accountId, email: agent.email, name: 'Plain Agent', role: 'agent', passwordHash: await hashPassword(agent.password) });
      // A workspace bound earlier (OAuth is Slack's side; its callback is tested in hub/slack/).
      await insertChannel(tx, t.hub.box, { accountId, kind: 'slack', name: 'Acme Slack', externalKey: 'T0ACME', config: { teamName: 'Acme' } });
    });
  }, 120_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await close?.();
    if (smtp) await new Promise<void>((r) => smtp.close(() => r()));
  }, 120_000);

  it('is offered to admins and owners only, from its own bundle', async () => {
    const plain = await signIn(agent.email, agent.password);
    expect(await plain.locator('#settings').isHidden()).toBe(true);
    const owner = await signIn();
    const scripts: string[] = [];
    owner.on('request', (r) => scripts.push(new URL(r.url()).pathname));
    expect(await owner.evaluate(() => Boolean(customElements.get('hummdesk-admin')))).toBe(false);
    await openSettings(owner);
    expect(scripts).toContain('/embed/hummdesk-admin.js');
    expect(await owner.locator('#desk').isHidden()).toBe(true);
    await owner.locator('#settings').click();
    await owner.locator('hummdesk-inbox ul[role=listbox]').waitFor();
  });

  it('creates a web chat channel: validates first, keeps the form on failure, shows the secret and snippet once', async () => {
    const page = await signIn();
    await openSettings(page);
    const admin = page.locator('hummdesk-admin-channels');
    expect(await admin.locator('tr[data-kind=webchat] [data-state]').first().innerText()).toBe('Active');
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: artifactPath('admin-channels-1440.png') });

    await admin.locator('[data-add=webchat]').click();
    const form = admin.locator('form[part=webchat-form]');
    const before = (await channelRows()).length;
    await form.locator('button[type=submit]').click();
    expect(await form.locator('#webchat-name-error').innerText()).toBe('Give the channel a name.');
    expect(await focusMatches(page, '#webchat-name')).toBe(true);
    await form.locator('#webchat-name').fill('Website chat');
    await form.locator('#webchat-origins').fill('https://www.example.com\nwww.example.org/contact');
    await form.locator('button[type=submit]').click();
    expect(await form.locator('#webchat-origins-error').innerText()).toContain('"www.example.org/contact" is not an origin');
    expect((await channelRows()).length).toBe(before);
    await form.locator('#webchat-origins').fill('https://www.example.com\nhttps://shop.example.com/');
    await form.locator('button[type=submit]').click();

    const created = admin.locator('[part=created]');
    await created.waitFor();
    const widgetId = await created.getAttribute('data-widget-id');
    expect(widgetId).toMatch(/^wc_/);
    expect(await created.locator('#snippet').innerText()).toBe(`<script type="module" src="${base}/embed/hummdesk-chat.js"></script>\n<hummdesk-chat widget-id="${widgetId}"></hummdesk-chat>`);
    const secret = await created.locator('#identity-secret').innerText();
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    const row = (await channelRows()).find((c) => c.external_key === widgetId)!;
    expect(row).toMatchObject({ kind: 'webchat', name: 'Website chat', config: { allowedOrigins: ['https://www.example.com', 'https://shop.example.com'] } });
    // The secret is stored sealed, and is the one shown.
    const installation = await withAccount(t.hub.db, accountId, (tx) => import('../../storage/repositories/channels.js').then((m) => m.getInstallation(tx, t.hub.box, row.id)));
    expect(installation!.secrets.identitySecret).toBe(secret);
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: artifactPath('admin-webchat-created-1440.png') });
    await created.locator('[data-action=dismiss-created]').click();
    expect(await admin.locator('#identity-secret').count()).toBe(0);
  });

  it.skipIf(!imap)('creates an email channel after "Test connection" says what failed, losing nothing on a failed save', async () => {
    const page = await signIn();
    await openSettings(page);
    const admin = page.locator('hummdesk-admin-channels');
    await admin.locator('[data-add=email]').click();
    const form = admin.locator('form[part=email-form]');
    await form.locator('[data-action=test-connection]').click();
    expect(await form.locator('#email-address-error').innerText()).toContain('support address');
    expect(await form.locator('#email-imapHost-error').innerText()).toContain('IMAP server');

    const address = 'help@example.test';
    await form.locator('#email-name').fill('Help mailbox');
    await form.locator('#email-address').fill(address);
    await form.locator('#email-imapHost').fill(imap!.hostname);
    await form.locator('#email-imapPort').fill(imap!.port);
    await form.locator('#email-imapSecure').uncheck();
    await form.locator('#email-imapPassword').fill('not the password');
    await form.locator('#email-smtpHost').fill('127.0.0.1');
    await form.locator('#email-smtpPort').fill(String(smtpPort));
    await form.locator('#email-smtpPassword').fill('smtp secret');
    await form.locator('[data-action=test-connection]').click();
    const result = form.locator('[data-check]');
    await result.waitFor();
    expect(await result.getAttribute('data-check')).toBe('channel_auth_failed');
    expect(await result.innerText()).toContain('IMAP');
    await page.screenshot({ path: artifactPath('admin-email-test-failed-1440.png') });

    await form.locator('#email-imapPassword').fill(imapPassword);
    await form.locator('[data-action=test-connection]').click();
    await form.locator('[data-check=ok]').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: artifactPath('admin-email-1440.png') });

    await form.locator('button[type=submit]').click();
    const row = admin.locator('tr[data-kind=email]');
    await row.waitFor();
    expect(await row.locator('[data-state]').innerText()).toBe('Active');
    expect((await channelRows()).filter((c) => c.kind === 'email').map((c) => c.external_key)).toEqual([address]);
    await row.locator('[data-action=test]').click();
    await row.locator('.notice.ok').waitFor();

    // The same mailbox again: the hub refuses it, and the form keeps everything typed.
    await admin.locator('[data-add=email]').click();
    await form.locator('#email-name').fill('Help again');
    await form.locator('#email-address').fill(address);
    await form.locator('#email-imapHost').fill(imap!.hostname);
    await form.locator('#email-imapPort').fill(imap!.port);
    await form.locator('#email-imapPassword').fill(imapPassword);
    await form.locator('#email-smtpHost').fill('127.0.0.1');
    await form.locator('#email-smtpPort').fill(String(smtpPort));
    await form.locator('button[type=submit]').click();
    const refused = form.locator('.notice.error[data-code]');
    await refused.waitFor();
    expect(await refused.getAttribute('data-code')).toBe('channel_exists');
    expect(await refused.innerText()).toContain('channel_exists');
    expect(await form.locator('#email-name').inputValue()).toBe('Help again');
    expect(await form.locator('#email-imapPassword').inputValue()).toBe(imapPassword);
  });

  it('"Add to Slack" starts the install in this browser; triage channels are set per team; every other platform has its Add button', async () => {
    const page = await signIn();
    const team = await withAccount(t.hub.db, accountId, async (tx) => (await tx.query<{ id: string }>(`INSERT INTO teams (account_id, name) VALUES ($1, 'Billing') RETURNING id`, [accountId])).rows[0]!.id);
    await openSettings(page);
    const admin = page.locator('hummdesk-admin-channels');
    // Every other platform has its card with an "Add" button (platform-channels.browser.test.ts drives them).
    for (const kind of ['whatsapp', 'whatsapp-web', 'messenger', 'teams']) await admin.locator(`[data-add="${kind}"]`).waitFor();

    const triage = admin.locator(`#triage-${(await channelRows()).find((c) => c.kind === 'slack')!.id}-${team}`);
    await triage.fill('general');
    await admin.locator('[part=slack] button[type=submit]').click();
    expect(await admin.locator('[part=slack] .field-error').first().innerText()).toContain('starts with C or G');
    await triage.fill('C0BILLING');
    await admin.locator('[part=slack] button[type=submit]').click();
    await admin.locator('[part=slack] .notice.ok').waitFor();
    const stored = (await channelRows()).find((c) => c.kind === 'slack')!.config as { triageChannels?: Record<string, string> };
    expect(stored.triageChannels).toEqual({ [team]: 'C0BILLING' });

    let authorize: URL | undefined;
    await page.route(`${SLACK_AUTHORIZE}**`, (route) => {
      authorize = new URL(route.request().url());
      return route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>Slack</title><p>Allow HummDesk?</p>' });
    });
    await admin.locator('[data-action=add-to-slack]').click();
    // Either Slack's page opens, or the console says why not (then the test fails with its words).
    await Promise.race([
      page.waitForURL(`${SLACK_AUTHORIZE}**`),
      admin.locator('[role=alert][data-code]').waitFor().then(async () => {
        throw new Error(await admin.locator('[role=alert][data-code]').innerText());
      }),
    ]);
    expect(authorize!.searchParams.get('client_id')).toBe('111.222');
    expect(authorize!.searchParams.get('redirect_uri')).toBe(`${t.config.publicUrl}/slack/oauth/callback`);
    // The callback only accepts the browser that started: the cookie is set for it.
    const cookies = await page.context().cookies(`${base}/slack/oauth/callback`);
    expect(cookies.map((c) => c.name)).toContain('hd_slack_oauth');
  });

  it('people: adds an agent, changes a role, builds a team with members and a routing strategy, removes, by keyboard only', async () => {
    const page = await signIn();
    await openSettings(page);
    // Keyboard only from here: arrow keys move between the console's tabs.
    await tabTo(page, '[role=tab][data-screen=channels]');
    await page.keyboard.press('ArrowRight');
    expect(await focusMatches(page, '[role=tab][data-screen=people]')).toBe(true);
    const people = page.locator('hummdesk-admin-people');
    await people.locator('table[part=users]').waitFor();

    await tabTo(page, '#user-name');
    await page.keyboard.press('Enter');
    expect(await people.locator('#user-name-error').innerText()).toBe('Enter their name.');
    await page.keyboard.type('Sam Support');
    await page.keyboard.press('Tab');
    await page.keyboard.type('sam@example.test');
    await page.keyboard.press('Enter');
    const link = people.locator('#invite-link');
    await link.waitFor();
    const url = await link.innerText();
    expect(url).toMatch(new RegExp(`^${t.config.publicUrl.replace(/[.]/g, '\\.')}/\\?invite=`));
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: artifactPath('admin-people-invite-1440.png') });

    // The invitee opens the link (on this test hub's address), chooses a password and signs in with it.
    const invitee = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    contexts.push(invitee.context());
    await invitee.goto(`${base}/${new URL(url).search}`);
    await invitee.locator('#invite-password').fill('short');
    await invitee.locator('#invite-form button[type=submit]').click();
    // The browser's own minlength check keeps a short password from being sent at all.
    expect(await invitee.locator('#invite-form').isVisible()).toBe(true);
    await invitee.locator('#invite-password').fill('sam chose this password');
    await invitee.locator('#invite-form button[type=submit]').click();
    await invitee.locator('#login-form').waitFor();
    expect(await invitee.locator('#login-email').inputValue()).toBe('sam@example.test');
    expect(new URL(invitee.url()).search).toBe('');
    await invitee.locator('#login-password').fill('sam chose this password');
    await invitee.locator('#login-form button[type=submit]').click();
    await invitee.locator('hummdesk-inbox ul[role=listbox]').waitFor();
    expect(await invitee.locator('#settings').isHidden()).toBe(true);

    // An email already taken: the API's message and code, and the form keeps what was typed.
    await people.locator('#user-name').fill('Sam Twice');
    await people.locator('#user-email').fill('sam@example.test');
    await people.locator('#user-email').press('Enter');
    await people.locator('[part=add-user] .notice.error[data-code=user_exists]').waitFor();
    expect(await people.locator('#user-name').inputValue()).toBe('Sam Twice');

    const sam = people.locator('tr', { hasText: 'sam@example.test' });
    const samId = (await sam.getAttribute('data-id'))!;
    await sam.locator('[data-action=role]').selectOption('admin');
    await sam.locator('.notice.ok').waitFor();
    const role = async () => (await withAccount(t.hub.db, accountId, (tx) => tx.query<{ role: string }>(`SELECT role FROM users WHERE id = $1`, [samId]))).rows[0]?.role;
    expect(await role()).toBe('admin');

    await tabTo(page, '#team-name');
    await page.keyboard.type('Front line');
    await page.keyboard.press('Enter');
    const team = people.locator('fieldset', { hasText: 'Front line' });
    await team.waitFor();
    const teamId = (await team.getAttribute('data-team'))!;
    await team.locator(`[data-member="${samId}"]`).focus();
    await page.keyboard.press('Space');
    await team.locator('.notice.ok').waitFor();
    await team.locator('[data-action=strategy]').selectOption('least_loaded');
    await expect.poll(async () => (await withAccount(t.hub.db, accountId, (tx) => tx.query<{ settings: { routing?: { strategy?: string } } }>(`SELECT settings FROM teams WHERE id = $1`, [teamId]))).rows[0]!.settings.routing?.strategy).toBe('least_loaded');
    const members = await withAccount(t.hub.db, accountId, (tx) => tx.query<{ user_id: string }>(`SELECT user_id FROM team_members WHERE team_id = $1`, [teamId]));
    expect(members.rows.map((r) => r.user_id)).toEqual([samId]);

    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: artifactPath('admin-people-1440.png') });

    await sam.locator('[data-action=remove]').focus();
    await page.keyboard.press('Enter');
    await sam.locator('[data-action=confirm-remove]').focus();
    await page.keyboard.press('Enter');
    await expect.poll(role).toBeUndefined();
  });
});
