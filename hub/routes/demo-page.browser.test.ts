import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertUser } from '../../storage/repositories/users.js';
import { withAccount } from '../../storage/session.js';
import { hashPassword } from '../services/auth.js';
import type { DemoCredentials } from '../services/demo.js';
import { createTestAccount, type TestHub } from '../testing/harness.js';
import { startDeskTest } from '../testing/desk.js';
import { submitLogin } from '../../embeds/testing.js';

/** The demo page's login when one email and password open two accounts, in real Chromium. */
describe('demo page login', { timeout: 90_000 }, () => {
  let t: TestHub;
  let browser: Browser;
  let base: string;
  let demo: DemoCredentials;
  let close: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ t, base, demo, browser, close } = await startDeskTest({ jobs: false }));
    // The same person, with the same password, is an agent of a second account too.
    const second = await createTestAccount(t, { slug: 'second-shop' });
    await withAccount(t.hub.db, second.accountId, async (tx) =>
      insertUser(tx, { accountId: second.accountId, email: demo.email, name: 'Agent of the second shop', role: 'agent', passwordHash: await hashPassword(demo.password) }));
  }, 120_000);
  afterAll(async () => {
    await close?.();
  });

  it('asks which account, then signs in to the one chosen', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${base}/`);
    await submitLogin(page, demo);
    const choice = page.locator('#login-account');
    await choice.waitFor();
    expect(await choice.locator('option').evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value))).toEqual(['demo', 'second-shop']);
    await choice.selectOption('second-shop');
    await page.locator('#login-form button[type=submit]').click();
    await page.locator('hummdesk-inbox ul[role=listbox]').waitFor();
    expect(await page.locator('#agent-status').textContent()).toBe('Signed in as Agent of the second shop');
  });

  it('keeps the agent signed in across a reload, shows availability, and logs out for good', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await submitLogin(page, demo);
    const choice = page.locator('#login-account');
    await choice.waitFor();
    await choice.selectOption('demo');
    await page.locator('#login-form button[type=submit]').click();
    await page.locator('hummdesk-inbox ul[role=listbox]').waitFor();
    // The refresh token is in an httpOnly cookie: no script on the page can read it.
    expect(await page.evaluate(() => document.cookie)).not.toContain('hd_session');
    expect((await context.cookies()).find((c) => c.name === 'hd_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/api/v1/auth' });

    await page.reload();
    await page.locator('hummdesk-inbox ul[role=listbox]').waitFor();
    expect(await page.locator('#agent-status').textContent()).toMatch(/^Signed in as /);
    expect(await page.locator('#login-form').isHidden()).toBe(true);

    await page.locator('#availability').selectOption('away');
    await expect.poll(async () => (await t.hub.db.query<{ available: boolean }>(`SELECT available FROM users WHERE email = $1 AND account_id = (SELECT id FROM accounts WHERE slug = 'demo')`, [demo.email])).rows[0]?.available).toBe(false);

    await page.locator('#logout').click();
    await page.locator('#login-form').waitFor();
    expect((await context.cookies()).find((c) => c.name === 'hd_session')).toBeUndefined();
    await page.reload();
    await page.locator('#login-form').waitFor();
    expect(await page.locator('#desk').isHidden()).toBe(true);
    await context.close();
  });
});
