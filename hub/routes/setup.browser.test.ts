import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactPath, axeViolations, launchChromium } from '../../embeds/testing.js';
import { startTestHub, type TestHub } from '../testing/harness.js';

/**
 * A production hub's first run (PostgreSQL, nothing seeded), in real Chromium: its page offers to create the
 * workspace, whose owner lands in the console to add a channel; after that the page only signs in.
 */
describe('first-run setup from the page at /', { timeout: 240_000 }, () => {
  let t: TestHub;
  let browser: Browser;
  let base: string;
  const contexts: BrowserContext[] = [];
  const lead = { workspace: 'Kauppa Support', name: 'Lea Lead', email: 'lea@kauppa.test', password: 'lea picked a long password' };

  const open = async (viewport: { width: number; height: number }, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> => {
    const context = await browser.newContext({ viewport, colorScheme });
    context.setDefaultTimeout(45_000);
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
    await page.goto(`${base}/`);
    return page;
  };
  const fill = async (page: Page, who: typeof lead) => {
    await page.locator('#setup-workspace').fill(who.workspace);
    await page.locator('#setup-name').fill(who.name);
    await page.locator('#setup-email').fill(who.email);
    await page.locator('#setup-password').fill(who.password);
  };
  const stored = async () => ({
    accounts: (await t.hub.db.query<{ name: string }>(`SELECT name FROM accounts`)).rows,
    owners: (await t.hub.db.query<{ email: string; name: string; role: string }>(`SELECT email, name, role FROM users`)).rows,
  });

  beforeAll(async () => {
    t = await startTestHub({ jobs: false });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await t?.close();
  });

  it('creates the workspace once: checked before sending, the owner signed in and in the console, then the page only signs in', async () => {
    // Two people open the new hub's page; each is offered to create the workspace, on a phone in dark and on a laptop.
    const phone = await open({ width: 390, height: 844 }, 'dark');
    await phone.locator('#setup-form').waitFor();
    expect(await phone.locator('#login-form').isHidden()).toBe(true);
    expect(await axeViolations(phone)).toEqual([]);
    await phone.screenshot({ path: artifactPath('setup-390x844-dark.png') });
    const laptop = await open({ width: 1440, height: 900 });
    await laptop.locator('#setup-form').waitFor();
    expect(await laptop.locator('#setup-workspace').evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await axeViolations(laptop)).toEqual([]);
    await laptop.screenshot({ path: artifactPath('setup-1440x900-light.png') });

    // The browser checks the form before anything is sent: a missing field, a short password.
    const posts: string[] = [];
    laptop.on('request', (r) => r.method() === 'POST' && r.url().endsWith('/api/v1/setup') && posts.push(r.url()));
    await laptop.locator('#setup-form button[type=submit]').click();
    await fill(laptop, { ...lead, password: 'short' });
    await laptop.locator('#setup-form button[type=submit]').click();
    expect(await laptop.locator('#setup-password').evaluate((el) => (el as HTMLInputElement).validity.tooShort)).toBe(true);
    expect(posts).toEqual([]);

    await laptop.locator('#setup-password').fill(lead.password);
    await laptop.locator('#setup-form button[type=submit]').click();
    // The owner is signed in and lands in the console, on its channels, to add the first one.
    await laptop.locator('hummdesk-admin-channels').waitFor();
    expect(await laptop.locator('#settings').getAttribute('aria-pressed')).toBe('true');
    expect(await laptop.locator('#agent-status').innerText()).toContain('Kauppa Support');
    expect(await laptop.locator('#setup-form').isHidden()).toBe(true);
    expect(posts).toHaveLength(1);
    expect(await stored()).toEqual({ accounts: [{ name: 'Kauppa Support' }], owners: [{ email: lead.email, name: lead.name, role: 'owner' }] });
    expect(await axeViolations(laptop)).toEqual([]);
    await laptop.screenshot({ path: artifactPath('setup-done-console-1440x900.png') });

    // A reload keeps the owner signed in, as any sign-in does.
    await laptop.reload();
    await laptop.locator('hummdesk-inbox ul[role=listbox]').waitFor();
    expect(await laptop.locator('#agent-status').innerText()).toBe('Signed in as Lea Lead');

    // The second person, whose form was still open, is too late: the hub says so and the page signs in.
    await fill(phone, { ...lead, workspace: 'Another Workspace', email: 'mallory@kauppa.test' });
    await phone.locator('#setup-form button[type=submit]').click();
    await phone.locator('#login-form').waitFor();
    expect(await phone.locator('#login-error').innerText()).toContain('(setup_done)');
    expect(await phone.locator('#login-email').inputValue()).toBe('mallory@kauppa.test');
    expect(await phone.locator('#setup-form').isHidden()).toBe(true);
    expect((await stored()).accounts).toEqual([{ name: 'Kauppa Support' }]);

    // Anyone opening the page from now on gets the sign-in form, without a hint of a demo login.
    const later = await open({ width: 1440, height: 900 });
    await later.locator('#login-form').waitFor();
    expect(await later.locator('#setup-form').isHidden()).toBe(true);
    expect(await later.locator('#login-hint').isHidden()).toBe(true);
    expect(await later.locator('#login-email').inputValue()).toBe('');
  });
});
