import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddingsEmulator, type EmbeddingsEmulator } from '../../ai/embed/emulator.js';
import { withAccount } from '../../storage/session.js';
import { seedDemo, type DemoCredentials } from '../../hub/services/demo.js';
import { startTestHub, type TestHub } from '../../hub/testing/harness.js';
import { artifactPath, axeViolations, focusMatches, launchChromium } from '../testing.js';

/** The admin console's knowledge base in real Chromium: write, preview (sanitised), publish, search. */
describe('admin console: knowledge base', { timeout: 240_000 }, () => {
  let t: TestHub;
  let emu: EmbeddingsEmulator;
  let browser: Browser;
  let base: string;
  let demo: DemoCredentials;
  let accountId: string;

  const articles = () =>
    withAccount(t.hub.db, accountId, async (tx) => (await tx.query<{ id: string; title: string; status: string; language: string; tags: string[] }>(`SELECT id, title, status, language, tags FROM kb_articles ORDER BY created_at`)).rows);

  beforeAll(async () => {
    emu = await startEmbeddingsEmulator({ dimension: 64 });
    t = await startTestHub({ jobs: false, env: { HUMMDESK_EMBEDDINGS_PROVIDER: 'openai-compatible', HUMMDESK_OPENAI_BASE_URL: `${emu.url}/v1`, HUMMDESK_EMBEDDINGS_MODEL: 'emu-embed' } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    demo = (await seedDemo(t.hub.db, t.hub.box, t.config.dataDir, base)).credentials!;
    accountId = (await t.hub.db.query<{ id: string }>(`SELECT id FROM accounts WHERE slug = 'demo'`)).rows[0]!.id;
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await emu?.close();
  }, 120_000);

  const openKb = async (): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    context.setDefaultTimeout(45_000);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
    await page.goto(`${base}/`);
    await page.locator('#login-email').fill(demo.email);
    await page.locator('#login-password').fill(demo.password);
    await page.locator('#login-form button[type=submit]').click();
    await page.locator('#settings').click();
    await page.locator('[role=tab][data-screen=kb]').click();
    await page.locator('hummdesk-admin-kb table[part=list]').waitFor();
    return page;
  };

  it('writes an article with a sanitised preview, keeps it on a failed save, publishes, unpublishes and finds it', async () => {
    const page = await openKb();
    const kb = page.locator('hummdesk-admin-kb');
    const before = (await articles()).length;
    await kb.locator('[data-action=new-article]').click();
    const editor = kb.locator('form[part=editor]');
    await editor.locator('[data-action=save-draft]').click();
    expect(await editor.locator('#article-title-error').innerText()).toBe('Give the article a title.');
    expect(await focusMatches(page, '#article-title')).toBe(true);

    await editor.locator('#article-title').fill('Zorblax refund policy');
    await editor.locator('#article-tags').fill('billing, refunds');
    await editor.locator('#article-body').fill('## Refunds\n\nWe refund **within five days**.\n\n- card\n- bank transfer\n\n<img src=x onerror="window.__pwned=1"> [help](javascript:alert(1)) [site](https://example.com/help)');
    const preview = editor.locator('[part=preview]');
    await preview.locator('strong', { hasText: 'within five days' }).waitFor();
    expect(await preview.locator('li').count()).toBe(2);
    // Markup typed into an article is shown as text, never run; only http(s) and mailto links become links.
    expect(await preview.locator('img').count()).toBe(0);
    expect(await preview.innerText()).toContain('<img src=x');
    expect(await preview.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')))).toEqual(['https://example.com/help']);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

    // A bad language code is caught before sending; the text stays.
    await editor.locator('#article-language').fill('English');
    await editor.locator('[data-action=save-draft]').click();
    expect(await editor.locator('#article-language-error').innerText()).toContain('language code');
    expect((await articles()).length).toBe(before);
    await editor.locator('#article-language').fill('en');
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: artifactPath('admin-kb-editor-1440.png') });
    await editor.locator('[data-action=save-draft]').click();

    const row = kb.locator('tr', { hasText: 'Zorblax refund policy' });
    await row.locator('[data-status=draft]').waitFor();
    expect((await articles()).find((a) => a.title === 'Zorblax refund policy')).toMatchObject({ status: 'draft', language: 'en', tags: ['billing', 'refunds'] });
    await row.locator('[data-action=publish]').click();
    await row.locator('[data-status=published]').waitFor();
    expect((await articles()).find((a) => a.title === 'Zorblax refund policy')!.status).toBe('published');
    await row.locator('[data-action=unpublish]').click();
    await row.locator('[data-status=draft]').waitFor();

    await kb.locator('#kb-query').fill('zorblax');
    await expect.poll(() => kb.locator('tbody tr').count()).toBe(1);
    await kb.locator('#kb-query').fill('no such words anywhere');
    await expect.poll(() => kb.locator('tbody tr').count()).toBe(0);
    await kb.locator('#kb-query').fill('');
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: artifactPath('admin-kb-1440.png') });
    await page.context().close();
  });
});
