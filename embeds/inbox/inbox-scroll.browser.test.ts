import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoCredentials } from '../../hub/services/demo.js';
import type { TestHub } from '../../hub/testing/harness.js';
import { startDeskTest } from '../../hub/testing/desk.js';
import { seedBulkInbox } from '../../hub/testing/bulk-inbox.js';
import { artifactPath, axeViolations, submitLogin } from '../testing.js';

/** A long inbox in real Chromium: only the rows in view are in the DOM, the keyboard still walks all of them, and the waiting sort lives in the URL. */
describe('inbox: a long list', { timeout: 300_000 }, () => {
  const COUNT = 600;
  let t: TestHub;
  let browser: Browser;
  let base: string;
  let demo: DemoCredentials;
  let close: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    let accountId: string;
    ({ t, base, demo, accountId, browser, close } = await startDeskTest({ jobs: false }));
    const channelId = (await t.hub.db.query<{ id: string }>(`SELECT id FROM channels WHERE account_id = $1 AND kind = 'webchat' ORDER BY created_at LIMIT 1`, [accountId])).rows[0]!.id;
    await seedBulkInbox(t.hub.db, accountId, channelId, COUNT);
  }, 120_000);
  afterAll(async () => {
    await close?.();
  });

  const signIn = async (path = '/'): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    context.setDefaultTimeout(45_000);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
    await page.goto(`${base}${path}`);
    await submitLogin(page, demo);
    await page.locator('hummdesk-inbox li[role=option]').first().waitFor();
    return page;
  };
  const rendered = (page: Page) => page.locator('hummdesk-inbox li[role=option]').count();
  const focusedName = (page: Page) => page.evaluate(() => document.querySelector('hummdesk-inbox')!.shadowRoot!.activeElement?.querySelector('.name')?.textContent?.trim() ?? '');

  it('renders only the rows in view while the keyboard walks to the last of hundreds and back', async () => {
    const page = await signIn();
    const inbox = page.locator('hummdesk-inbox');
    expect(await rendered(page)).toBeLessThan(40);
    await inbox.locator('li[role=option]').first().focus();
    // End goes to the last loaded row and loads the next page; pressed until the whole list is in.
    await expect.poll(async () => {
      await page.keyboard.press('End');
      return focusedName(page);
    }, { timeout: 120_000 }).toContain(`Customer ${String(COUNT).padStart(5, '0')}`);
    expect(await inbox.locator('li[role=option][aria-setsize]').first().getAttribute('aria-setsize')).not.toBe('-1');
    expect(await rendered(page)).toBeLessThan(40);
    await page.keyboard.press('ArrowUp');
    expect(await focusedName(page)).toContain(`Customer ${String(COUNT - 1).padStart(5, '0')}`);
    await page.keyboard.press('Enter');
    await page.locator('hummdesk-conversation').getByText('Question number').first().waitFor();
    await inbox.locator(`li[role=option][aria-selected=true]`).waitFor();
    // Back to the top: the first rows are rendered again, and the selected one is gone from the DOM.
    await inbox.locator('li[role=option]').first().focus().catch(() => undefined);
    await page.keyboard.press('Home');
    await expect.poll(() => inbox.locator('li[role=option][data-index="0"]').count()).toBe(1);
    expect(await inbox.locator('li[role=option][data-index="0"]').evaluate((li) => li === (li.getRootNode() as ShadowRoot).activeElement)).toBe(true);
    expect(await rendered(page)).toBeLessThan(40);
    // The scrollbar is the whole list's: the list is as tall as every row.
    const height = await inbox.locator('.scroller').evaluate((el) => el.scrollHeight);
    expect(height).toBeGreaterThanOrEqual(COUNT * 80);
    expect(await axeViolations(page)).toEqual([]);
    await page.context().close();
  });

  it('sorts by waiting time, longest first, and keeps the sort in the URL across a reload', async () => {
    const page = await signIn();
    const inbox = page.locator('hummdesk-inbox');
    await inbox.locator('select[name=sort]').selectOption('waiting');
    await expect.poll(() => page.evaluate(() => location.search)).toContain('sort=waiting');
    const first = () => inbox.locator('li[role=option][data-index="0"] .name').innerText();
    await expect.poll(first).toContain(`Customer ${String(COUNT).padStart(5, '0')}`);
    expect(await inbox.locator('li[role=option][data-index="1"] .name').innerText()).toContain(`Customer ${String(COUNT - 1).padStart(5, '0')}`);
    await page.reload();
    await inbox.locator('li[role=option]').first().waitFor();
    expect(await inbox.locator('select[name=sort]').inputValue()).toBe('waiting');
    await expect.poll(first).toContain(`Customer ${String(COUNT).padStart(5, '0')}`);
    await inbox.screenshot({ path: artifactPath('inbox-waiting-sort-1440.png') });
    await page.context().close();
  });
});
