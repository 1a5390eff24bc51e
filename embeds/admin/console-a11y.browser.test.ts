import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddingsEmulator, type EmbeddingsEmulator } from '../../ai/embed/emulator.js';
import { withAccount } from '../../storage/session.js';
import type { DemoCredentials } from '../../hub/services/demo.js';
import type { TestHub } from '../../hub/testing/harness.js';
import { startDeskTest } from '../../hub/testing/desk.js';
import { artifactPath, axeViolations, focusMatches, openConsole, tabTo } from '../testing.js';

/** The admin console for everyone: axe on every screen and form in light and dark, and its forms by keyboard alone. */
describe('admin console accessibility', { timeout: 300_000 }, () => {
  let t: TestHub;
  let emu: EmbeddingsEmulator;
  let browser: Browser;
  let base: string;
  let demo: DemoCredentials;
  let close: (() => Promise<void>) | undefined;
  let accountId: string;

  beforeAll(async () => {
    emu = await startEmbeddingsEmulator({ dimension: 64 });
    ({ t, base, demo, accountId, browser, close } = await startDeskTest({ jobs: false, env: { HUMMDESK_EMBEDDINGS_PROVIDER: 'openai-compatible', HUMMDESK_OPENAI_BASE_URL: `${emu.url}/v1`, HUMMDESK_EMBEDDINGS_MODEL: 'emu-embed' } }));
  }, 120_000);
  afterAll(async () => {
    await close?.();
    await emu?.close();
  }, 120_000);

  const openSettings = async (): Promise<Page> => {
    const page = await openConsole(browser, base, demo, { viewport: { width: 1440, height: 900 } });
    await page.locator('hummdesk-admin-channels table[part=list]').waitFor();
    return page;
  };

  it('has no serious or critical axe violation on any screen or form, light and dark, and fits a phone', async () => {
    const page = await openSettings();
    const found: { state: string; violations: Awaited<ReturnType<typeof axeViolations>> }[] = [];
    const wide: string[] = [];
    const check = async (state: string) => {
      for (const scheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        const violations = await axeViolations(page);
        if (violations.length) found.push({ state: `${state} (${scheme})`, violations });
        await page.screenshot({ path: artifactPath(`console-a11y/${state}-${scheme}.png`), fullPage: true });
      }
      // On a phone nothing runs off the side of the console (it scrolls down, never sideways).
      await page.setViewportSize({ width: 390, height: 844 });
      const overflow = await page.locator('.workspace').evaluate((el) => el.scrollWidth - el.clientWidth);
      if (overflow > 1) wide.push(`${state}: ${overflow}px too wide`);
      await page.screenshot({ path: artifactPath(`console-a11y/${state}-390x844.png`), fullPage: true });
      await page.setViewportSize({ width: 1440, height: 900 });
      await page.emulateMedia({ colorScheme: 'light' });
    };
    const admin = page.locator('hummdesk-admin');
    await check('channels');
    const channels = page.locator('hummdesk-admin-channels');
    await channels.locator('[data-add=webchat]').click();
    await channels.locator('form[part=webchat-form] button[type=submit]').click();
    await channels.locator('#webchat-name-error:not(:empty)').waitFor();
    await check('channels-webchat-form-errors');
    await channels.locator('[data-add=email]').click();
    await channels.locator('form[part=email-form] [data-action=test-connection]').click();
    await channels.locator('#email-address-error:not(:empty)').waitFor();
    await check('channels-email-form-errors');

    await admin.locator('[role=tab][data-screen=people]').click();
    const people = page.locator('hummdesk-admin-people');
    await people.locator('table[part=users]').waitFor();
    await people.locator('[part=add-user] button[type=submit]').click();
    await people.locator('#user-name-error:not(:empty)').waitFor();
    await check('people-errors');

    await admin.locator('[role=tab][data-screen=kb]').click();
    const kb = page.locator('hummdesk-admin-kb');
    await kb.locator('table[part=list]').waitFor();
    await kb.locator('[data-action=new-article]').click();
    await kb.locator('[data-action=save-draft]').click();
    await kb.locator('#article-title-error:not(:empty)').waitFor();
    await kb.locator('form[part=import] [data-action=import]').click();
    await kb.locator('#import-file-error:not(:empty)').waitFor();
    await check('kb-errors');

    await admin.locator('[role=tab][data-screen=ai]').click();
    await page.locator('hummdesk-admin-ai h2').first().waitFor();
    await check('ai');

    await admin.locator('[role=tab][data-screen=security]').click();
    const security = page.locator('hummdesk-admin-security');
    await security.locator('table[part=keys]').waitFor();
    await security.locator('form button[type=submit]', { hasText: 'Create key' }).click();
    await security.locator('#key-name-error:not(:empty)').waitFor();
    await check('security-errors');
    expect(found).toEqual([]);
    expect(wide).toEqual([]);
    await page.context().close();
  });

  it('is usable by keyboard alone: tabs by arrow keys, a web chat channel, an article and an API key', async () => {
    const page = await openSettings();
    const press = (key: string) => page.keyboard.press(key);
    /** Shift+Tab until the focus is on `selector` (back up the page, as a keyboard user returns to the tabs). */
    const tabBackTo = async (selector: string) => {
      for (let i = 0; i < 120; i++) {
        if (await focusMatches(page, selector)) return;
        await press('Shift+Tab');
      }
      throw new Error(`Shift+Tab never reached ${selector}`);
    };
    await tabTo(page, '[role=tab][data-screen=channels]');

    // Channels: a web chat channel, from its "Add" button to the snippet.
    await tabTo(page, '[data-add=webchat]');
    await press('Enter');
    await expect.poll(() => focusMatches(page, '#webchat-name')).toBe(true);
    await page.keyboard.type('Keyboard chat');
    await press('Enter');
    const created = page.locator('hummdesk-admin-channels [part=created]');
    await created.waitFor();
    await expect.poll(() => focusMatches(page, '#created-title')).toBe(true);
    await tabTo(page, '[data-action=dismiss-created]');
    await press('Enter');
    await expect.poll(() => created.count()).toBe(0);

    // Knowledge base: arrow keys to its tab, then a new article written and published without the mouse.
    await tabBackTo('[role=tab][data-screen=channels]');
    await press('ArrowRight');
    await press('ArrowRight');
    await expect.poll(() => focusMatches(page, '[role=tab][data-screen=kb]')).toBe(true);
    const kb = page.locator('hummdesk-admin-kb');
    await kb.locator('table[part=list]').waitFor();
    await tabTo(page, '[data-action=new-article]');
    await press('Enter');
    await expect.poll(() => focusMatches(page, '#article-title')).toBe(true);
    await page.keyboard.type('Typed with keys');
    await tabTo(page, '#article-body');
    await page.keyboard.type('Every step **by keyboard**.');
    await tabTo(page, '[data-action=save-publish]');
    await press('Enter');
    await kb.locator('tr', { hasText: 'Typed with keys' }).locator('[data-status=published]').waitFor();
    // The editor closed: the focus is on the saved article's row, not lost to the top of the page.
    await expect.poll(() => focusMatches(page, '[data-action=edit]')).toBe(true);
    const article = await withAccount(t.hub.db, accountId, async (tx) => (await tx.query<{ status: string; body: string }>(`SELECT status, body FROM kb_articles WHERE title = 'Typed with keys'`)).rows[0]);
    expect(article).toEqual({ status: 'published', body: 'Every step **by keyboard**.' });

    // API keys: End jumps to the last tab.
    await tabBackTo('[role=tab][data-screen=kb]');
    await press('End');
    await expect.poll(() => focusMatches(page, '[role=tab][data-screen=security]')).toBe(true);
    await page.locator('hummdesk-admin-security table[part=keys]').waitFor();
    await tabTo(page, '#key-name');
    await page.keyboard.type('Keyboard key');
    await press('Enter');
    const key = page.locator('hummdesk-admin-security #new-key');
    await key.waitFor();
    expect(await key.innerText()).toMatch(/^hd_/);
    await page.context().close();
  });
});
