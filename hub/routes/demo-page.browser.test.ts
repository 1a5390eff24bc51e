import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../embeds/testing.js';
import { insertUser } from '../../storage/repositories/users.js';
import { withAccount } from '../../storage/session.js';
import { hashPassword } from '../services/auth.js';
import { seedDemo, type DemoCredentials } from '../services/demo.js';
import { createTestAccount, startTestHub, type TestHub } from '../testing/harness.js';

/** The demo page's login when one email and password open two accounts, in real Chromium. */
describe('demo page login', { timeout: 90_000 }, () => {
  let t: TestHub;
  let browser: Browser;
  let base: string;
  let demo: DemoCredentials;

  beforeAll(async () => {
    t = await startTestHub({ jobs: false });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    demo = (await seedDemo(t.hub.db, t.hub.box, t.config.dataDir, base)).credentials!;
    // The same person, with the same password, is an agent of a second account too.
    const second = await createTestAccount(t, { slug: 'second-shop' });
    await withAccount(t.hub.db, second.accountId, async (tx) =>
      insertUser(tx, { accountId: second.accountId, email: demo.email, name: 'Agent of the second shop', role: 'agent', passwordHash: await hashPassword(demo.password) }));
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('asks which account, then signs in to the one chosen', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${base}/`);
    await page.locator('#login-password').fill(demo.password);
    await page.locator('#login-form button[type=submit]').click();
    const choice = page.locator('#login-account');
    await choice.waitFor();
    expect(await choice.locator('option').evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value))).toEqual(['demo', 'second-shop']);
    await choice.selectOption('second-shop');
    await page.locator('#login-form button[type=submit]').click();
    await page.locator('hummdesk-inbox ul[role=listbox]').waitFor();
    expect(await page.locator('#agent-status').textContent()).toBe('Signed in as Agent of the second shop');
  });
});
