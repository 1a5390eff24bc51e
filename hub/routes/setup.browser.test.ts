import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { artifactPath, axeViolations, launchChromium } from '../../embeds/testing.js';
import { loadConfig } from '../config.js';
import { startServer, type RunningHub } from '../server.js';
import { freshDatabase } from '../testing/harness.js';

/**
 * A production hub's first run (`hummdesk start` on PostgreSQL, nothing seeded), in real Chromium: the person
 * who started it opens the setup link it printed and creates the workspace, landing in the console to add a
 * channel; someone else who reaches the page needs that token; after that the page only signs in.
 */
describe('first-run setup from the page at /', { timeout: 240_000 }, () => {
  let running: RunningHub;
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let dataDir: string;
  let browser: Browser;
  let base: string;
  /** The link and token `hummdesk start` printed in its terminal. */
  let setupLink: string;
  let token: string;
  const contexts: BrowserContext[] = [];
  const lead = { workspace: 'Kauppa Support', name: 'Lea Lead', email: 'lea@kauppa.test', password: 'lea picked a long password' };

  const open = async (viewport: { width: number; height: number }, colorScheme: 'light' | 'dark' = 'light', url = `${base}/`): Promise<Page> => {
    const context = await browser.newContext({ viewport, colorScheme });
    context.setDefaultTimeout(45_000);
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
    await page.goto(url);
    return page;
  };
  const fill = async (page: Page, who: typeof lead) => {
    await page.locator('#setup-workspace').fill(who.workspace);
    await page.locator('#setup-name').fill(who.name);
    await page.locator('#setup-email').fill(who.email);
    await page.locator('#setup-password').fill(who.password);
  };
  const stored = async () => ({
    accounts: (await running.hub.db.query<{ name: string }>(`SELECT name FROM accounts`)).rows,
    owners: (await running.hub.db.query<{ email: string; name: string; role: string }>(`SELECT email, name, role FROM users`)).rows,
  });

  beforeAll(async () => {
    database = await freshDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'hummdesk-setup-'));
    const write = vi.spyOn(process.stdout, 'write');
    let printed = '';
    try {
      running = await startServer(
        loadConfig({ PORT: '0', DATABASE_URL: database.url, HUMMDESK_DATA_DIR: dataDir, HUMMDESK_SECRET_KEY: randomBytes(32).toString('hex'), HUMMDESK_AI_THREADS: '1', LOG_LEVEL: 'silent' }),
        { jobs: false, listeners: false },
      );
      printed = write.mock.calls.map(([chunk]) => String(chunk)).join('');
    } finally {
      write.mockRestore();
    }
    base = running.url;
    setupLink = /No workspace yet: open (\S+) to create yours/.exec(printed)?.[1] ?? '';
    token = /Setup token: +(\S+)/.exec(printed)?.[1] ?? '';
    expect(setupLink, printed).toBe(`${base}/#setup=${token}`);
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await running?.stop();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates the workspace once, with the printed token: checked before sending, the owner signed in and in the console, then the page only signs in', async () => {
    // Someone who reached the page without the setup link: the form asks for the token the hub printed.
    const phone = await open({ width: 390, height: 844 }, 'dark');
    await phone.locator('#setup-form').waitFor();
    expect(await phone.locator('#login-form').isHidden()).toBe(true);
    expect(await phone.locator('#setup-token').inputValue()).toBe('');
    expect(await phone.locator('#setup-token').evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await axeViolations(phone)).toEqual([]);
    await phone.screenshot({ path: artifactPath('setup-390x844-dark.png') });
    // A guess is refused by the hub and nothing is made.
    await phone.locator('#setup-token').fill('0123456789abcdef0123456789abcdef');
    await fill(phone, { ...lead, workspace: 'Guessed Workspace', email: 'mallory@kauppa.test' });
    await phone.locator('#setup-form button[type=submit]').click();
    await phone.locator('#setup-error', { hasText: '(setup_token_invalid)' }).waitFor();
    expect(await phone.locator('#setup-token').evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await phone.locator('#setup-form').isVisible()).toBe(true);
    expect(await stored()).toEqual({ accounts: [], owners: [] });

    // The person who started the hub opens the link it printed: the token is filled in and gone from the address bar.
    const laptop = await open({ width: 1440, height: 900 }, 'light', setupLink);
    await laptop.locator('#setup-form').waitFor();
    expect(await laptop.locator('#setup-token').inputValue()).toBe(token);
    expect(laptop.url()).toBe(`${base}/`);
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

    // The second person, whose form was still open, now types the printed token too, and is too late: the hub says so and the page signs in.
    await phone.locator('#setup-token').fill(token);
    await phone.locator('#setup-form button[type=submit]').click();
    await phone.locator('#login-form').waitFor();
    expect(await phone.locator('#login-error').innerText()).toContain('(setup_done)');
    expect(await phone.locator('#login-email').inputValue()).toBe('mallory@kauppa.test');
    expect(await phone.locator('#setup-form').isHidden()).toBe(true);
    expect((await stored()).accounts).toEqual([{ name: 'Kauppa Support' }]);

    // Anyone opening the page from now on, the old setup link too, gets the sign-in form, without a hint of a demo login.
    const later = await open({ width: 1440, height: 900 }, 'light', setupLink);
    await later.locator('#login-form').waitFor();
    expect(await later.locator('#setup-form').isHidden()).toBe(true);
    expect(await later.locator('#login-hint').isHidden()).toBe(true);
    expect(await later.locator('#login-email').inputValue()).toBe('');
  });
});
