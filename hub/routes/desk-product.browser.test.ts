import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactPath, axeViolations, openConsole, submitLogin } from '../../embeds/testing.js';
import { findInstallation } from '../../storage/repositories/channels.js';
import { IMAP_STATUS_KEY } from '../../connectors/email/listen.js';
import { checkpointStore } from '../listeners.js';
import type { DemoCredentials } from '../services/demo.js';
import type { TestHub } from '../testing/harness.js';
import { startDeskTest } from '../testing/desk.js';

/** The page at / is the product a team runs on: no demo wording, and the web chat is tried from its channel. */
describe('the page at / as a product', { timeout: 240_000 }, () => {
  let t: TestHub;
  let browser: Browser;
  let base: string;
  let demo: DemoCredentials;
  let close: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ t, base, demo, browser, close } = await startDeskTest({ jobs: false }));
  }, 120_000);
  afterAll(async () => {
    await close?.();
  });

  it('speaks of a support desk, never of a demo or a stand-in customer site, signed out and signed in', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.locator('#login-form').waitFor();
    expect(await page.title()).toBe('HummDesk');
    expect(await page.locator('body').innerText()).not.toMatch(/demo|customer's website|stand-in/i);
    // The first login is printed in the terminal `npm start` runs in, never put in the form.
    expect(await page.locator('#login-email').inputValue()).toBe('');
    expect(await page.locator('#login-password').getAttribute('placeholder')).toBeNull();
    expect(await page.locator('#login-hint').innerText()).toContain('printed in the terminal');
    expect(await page.locator('#setup-form').isHidden()).toBe(true);
    await page.locator('#login-email').fill(demo.email);
    await page.locator('#login-password').fill(demo.password);
    await page.locator('#login-form button[type=submit]').click();
    await page.locator('hummdesk-inbox ul[role=listbox]').waitFor();
    // The seeded first login's own name is data the team changes, not the page's wording.
    const wording = (await page.locator('body').innerText()).replace('Signed in as Demo Agent', '');
    expect(wording).not.toMatch(/demo|customer's website|stand-in/i);
    // The desk has the whole window: no widget of its own floating over the draft.
    expect(await page.locator('hummdesk-chat').count()).toBe(0);
    await context.close();
  });

  it("previews a web chat channel live in the console: a message written in the preview reaches the inbox", async () => {
    const page = await openConsole(browser, base, demo);
    const channels = page.locator('hummdesk-admin-channels');
    const row = channels.locator('tr[data-kind=webchat]').first();
    const toggle = row.locator('[data-action=preview]');
    await toggle.click();
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    const preview = channels.locator('[part=preview]');
    expect(await preview.getAttribute('data-widget-id')).toBe('demo-widget');
    const widget = preview.locator('hummdesk-chat');
    await widget.locator('.connection', { hasText: 'Connected' }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: artifactPath('console-webchat-preview-1440.png') });

    const text = 'Trying our chat from the console preview';
    await widget.locator('textarea').fill(text);
    await widget.locator('textarea').press('Enter');
    await widget.locator('li.inbound', { hasText: text }).locator('.delivery', { hasText: 'Sent' }).waitFor();
    await expect.poll(async () => (await t.hub.db.query(`SELECT 1 FROM messages WHERE text = $1`, [text])).rowCount).toBe(1);

    await toggle.click();
    expect(await channels.locator('[part=preview]').count()).toBe(0);
    await page.locator('#settings').click();
    await page.locator('hummdesk-inbox li', { hasText: text }).waitFor();
  });
  it('shows a channel whose latest delivery failed as Failing, with the error, in the console', async () => {
    const channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: demo.webchatChannelId }))!;
    const [o] = await t.hub.ingest.ingest(channel, [{ type: 'message', message: {
      channel: { kind: 'webchat', channelId: channel.id }, externalId: 'failing-1', threadKey: `webchat:${channel.id}:failing`, direction: 'inbound',
      sender: { externalId: 'v-failing', isBot: false }, sentAt: new Date().toISOString(), text: 'Hello?', attachments: [], raw: {} } }]);
    // Our answer to it could not be delivered.
    await t.hub.db.query(`UPDATE messages SET direction = 'outbound', delivery_status = 'failed', delivery_error = 'The visitor session has ended' WHERE id = $1`, [o!.messageId]);
    const page = await openConsole(browser, base, demo);
    const row = page.locator(`hummdesk-admin-channels tr[data-id="${channel.id}"]`);
    await row.locator('[data-state=failing]', { hasText: 'Failing' }).waitFor();
    expect(await row.locator('.last-error').innerText()).toContain('The visitor session has ended');
    expect(await axeViolations(page)).toEqual([]);
  });
  it('shows a mailbox whose IMAP login fails as Failing and an uninstalled Slack workspace as Disconnected, with the error and since when', async () => {
    const { rows: [acct] } = await t.hub.db.query<{ account_id: string }>(`SELECT account_id FROM channels WHERE id = $1`, [demo.webchatChannelId]);
    const add = async (kind: string, key: string, enabled: boolean, config: object) => (await t.hub.db.query<{ id: string }>(
      `INSERT INTO channels (account_id, kind, name, external_key, enabled, config) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [acct!.account_id, kind, `${kind} ${key}`, key, enabled, JSON.stringify(config)])).rows[0]!.id;
    const mailbox = await add('email', 'locked@example.test', true, { address: 'locked@example.test', imap: { host: 'imap.example.test', port: 993 } });
    const since = '2026-12-01T08:00:00.000Z';
    // As the mailbox's listener records a refused login (its own test: channel-checks.test.ts).
    await checkpointStore(t.hub, acct!.account_id, mailbox).set(IMAP_STATUS_KEY, {
      state: 'failing', code: 'channel_auth_failed', message: 'channel_auth_failed: the IMAP server imap.example.test:993 refused the login', since, at: '2026-12-01T09:30:00.000Z',
    });
    const slack = await add('slack', 'T0GONE', false, { disconnected: { reason: 'app_uninstalled', at: since } });
    const page = await openConsole(browser, base, demo);
    const mailRow = page.locator(`hummdesk-admin-channels tr[data-id="${mailbox}"]`);
    await mailRow.locator('[data-state=failing]', { hasText: 'Failing' }).waitFor();
    expect(await mailRow.locator('.last-error').innerText()).toContain('refused the login');
    expect(await mailRow.locator('.last-error').innerText()).toContain('channel_auth_failed');
    expect(await mailRow.locator('.since time').getAttribute('datetime')).toBe(since);
    const slackRow = page.locator(`hummdesk-admin-channels tr[data-id="${slack}"]`);
    await slackRow.locator('[data-state=disconnected]', { hasText: 'Disconnected' }).waitFor();
    expect(await slackRow.locator('.last-error').innerText()).toContain('uninstalled');
    expect(await slackRow.locator('.since time').getAttribute('datetime')).toBe(since);
    expect(await axeViolations(page)).toEqual([]);
  });
  it('lets the embedding page theme the desk through --hummdesk-* custom properties and ::part, not its shadow roots', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await submitLogin(page, demo);
    await page.locator('hummdesk-inbox li[data-id]').first().waitFor();
    // What any page's stylesheet may say (constructed here, as this page's policy allows only its own style files).
    await page.evaluate(() => {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync('hummdesk-inbox { --hummdesk-background: rgb(1, 2, 3); } hummdesk-inbox::part(item) { outline: 3px solid rgb(4, 5, 6); }');
      document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    });
    expect(await page.locator('hummdesk-inbox').evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(1, 2, 3)');
    expect(await page.locator('hummdesk-inbox li[data-id]').first().evaluate((el) => getComputedStyle(el).outlineColor)).toBe('rgb(4, 5, 6)');
    // The rows are the component's own: inside its open shadow root, not in the page's document.
    expect(await page.evaluate(() => document.querySelectorAll('li[data-id]').length)).toBe(0);
    await context.close();
  });
});
