import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddingsEmulator, type EmbeddingsEmulator } from '../../ai/embed/emulator.js';
import { insertDraft } from '../../storage/repositories/ai.js';
import { withAccount } from '../../storage/session.js';
import { seedConversation } from '../../hub/testing/seed.js';
import type { DemoCredentials } from '../../hub/services/demo.js';
import type { TestAccount, TestHub } from '../../hub/testing/harness.js';
import { startDeskTest } from '../../hub/testing/desk.js';
import { artifactPath, axeViolations, focusMatches, openConsole } from '../testing.js';

/** The admin console's knowledge base in real Chromium: write, preview (sanitised), publish, search. */
describe('admin console: knowledge base', { timeout: 240_000 }, () => {
  let t: TestHub;
  let emu: EmbeddingsEmulator;
  let browser: Browser;
  let base: string;
  let demo: DemoCredentials;
  let close: (() => Promise<void>) | undefined;
  let accountId: string;

  const articles = () =>
    withAccount(t.hub.db, accountId, async (tx) => (await tx.query<{ id: string; title: string; status: string; language: string; tags: string[] }>(`SELECT id, title, status, language, tags FROM kb_articles ORDER BY created_at`)).rows);

  beforeAll(async () => {
    emu = await startEmbeddingsEmulator({ dimension: 64 });
    ({ t, base, demo, accountId, browser, close } = await startDeskTest({ env: { HUMMDESK_EMBEDDINGS_PROVIDER: 'openai-compatible', HUMMDESK_OPENAI_BASE_URL: `${emu.url}/v1`, HUMMDESK_EMBEDDINGS_MODEL: 'emu-embed' } }));
  }, 120_000);
  afterAll(async () => {
    await close?.();
    await emu?.close();
  }, 120_000);

  const openKb = async (): Promise<Page> => {
    const page = await openConsole(browser, base, demo, { viewport: { width: 1440, height: 900 } });
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

  it('adds a language variant of an article, and refuses a second one in the same language keeping the text', async () => {
    const page = await openKb();
    const kb = page.locator('hummdesk-admin-kb');
    await kb.locator('[data-action=new-article]').click();
    const editor = kb.locator('form[part=editor]');
    await editor.locator('#article-title').fill('Delivery times');
    await editor.locator('#article-body').fill('Orders arrive within **three** working days.');
    await editor.locator('[data-action=save-publish]').click();
    const original = kb.locator('tr', { hasText: 'Delivery times' });
    await original.locator('[data-status=published]').waitFor();

    await original.locator('[data-action=add-variant]').click();
    expect(await editor.locator('#editor-title').innerText()).toBe('New language version of "Delivery times"');
    // The variant starts from the original's text; the language must be chosen.
    expect(await editor.locator('#article-body').inputValue()).toBe('Orders arrive within **three** working days.');
    await editor.locator('[data-action=save-draft]').click();
    expect(await editor.locator('#article-language-error').innerText()).toContain('language code');
    await editor.locator('#article-language').fill('fi');
    await editor.locator('#article-title').fill('Toimitusajat');
    await editor.locator('#article-body').fill('Tilaukset saapuvat **kolmessa** arkipäivässä.');
    await editor.locator('[data-action=save-publish]').click();
    const finnish = kb.locator('tr', { hasText: 'Toimitusajat' });
    await finnish.locator('[data-status=published]').waitFor();
    expect(await original.locator('[data-variants]').innerText()).toContain('fi');
    expect(await finnish.locator('[data-variants]').innerText()).toContain('en');
    const stored = await withAccount(t.hub.db, accountId, async (tx) =>
      (await tx.query<{ title: string; language: string; group: string }>(`SELECT title, language, COALESCE(variant_group, id)::text AS group FROM kb_articles WHERE title IN ('Delivery times', 'Toimitusajat') ORDER BY language`)).rows);
    expect(stored.map((a) => a.language)).toEqual(['en', 'fi']);
    expect(stored[0]!.group).toBe(stored[1]!.group);

    // A second Finnish version: the API's words and code, and the text typed stays.
    await original.locator('[data-action=add-variant]').click();
    await editor.locator('#article-language').fill('fi');
    await editor.locator('#article-body').fill('Toinen käännös');
    await editor.locator('[data-action=save-draft]').click();
    await editor.locator('.notice.error[data-code=variant_exists]').waitFor();
    expect(await editor.locator('#article-body').inputValue()).toBe('Toinen käännös');
    // The Finnish version opens from the English row.
    await original.locator('[data-action=edit-variant][data-language=fi]').click();
    expect(await editor.locator('#article-title').inputValue()).toBe('Toimitusajat');
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: artifactPath('admin-kb-variants-1440.png') });
    await page.context().close();
  });

  it('imports a file of articles showing its progress, and refuses a bad file before sending', async () => {
    const page = await openKb();
    const kb = page.locator('hummdesk-admin-kb');
    const form = kb.locator('form[part=import]');
    await form.locator('#import-file').setInputFiles({ name: 'articles.json', mimeType: 'application/json', buffer: Buffer.from('[{"title": "no body"}]') });
    await form.locator('[data-action=import]').click();
    // The file is read before anything is sent: the error follows that read.
    await expect.poll(() => form.locator('#import-file-error').innerText()).toBe('Article 1 needs a "title" and a "body".');
    await expect.poll(() => focusMatches(page, '#import-file')).toBe(true);

    const articles = Array.from({ length: 45 }, (_, i) => ({ title: `Imported guide ${i}`, body: `Step ${i}: open the settings and choose the option.`, externalId: `guide-${i}` }));
    // The embedding endpoint holds its answers: progress is seen mid-way for certain.
    const first = emu.hold();
    await form.locator('#import-file').setInputFiles({ name: 'articles.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ articles })) });
    await form.locator('[data-action=import]').click();
    const progress = form.locator('.import-progress');
    await expect.poll(() => progress.getAttribute('data-state')).toBe('running');
    expect(await progress.innerText()).toContain('0 of 45');
    expect(await form.locator('[data-action=import]').isDisabled()).toBe(true);
    const second = emu.hold();
    first();
    await expect.poll(() => progress.innerText()).toContain('20 of 45');
    expect(await form.locator('#import-progress').evaluate((p) => (p as HTMLProgressElement).value)).toBe(20);
    await page.screenshot({ path: artifactPath('admin-kb-import-progress-1440.png') });
    second();
    await expect.poll(() => progress.getAttribute('data-state')).toBe('done');
    expect(await progress.innerText()).toContain('Imported 45 of 45: 45 new, 0 updated.');
    await kb.locator('tr', { hasText: 'Imported guide 44' }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await page.context().close();
  });

  it('shows which articles drafts cite most, and how many of those drafts were sent', async () => {
    const [often, once] = (await articles()).filter((a) => a.title.startsWith('Imported guide')).slice(0, 2);
    const user = (await t.hub.db.query<{ id: string }>(`SELECT id FROM users WHERE email = $1`, [demo.email])).rows[0]!.id;
    const channelId = demo.webchatChannelId;
    for (const [cited, status] of [[[often!.id], 'accepted'], [[often!.id, once!.id], 'proposed'], [[often!.id], 'edited']] as const) {
      // seedConversation reads only the account and its web chat channel.
      const c = await seedConversation(t, { accountId, channelId } as TestAccount);
      await withAccount(t.hub.db, accountId, async (tx) => {
        const id = await insertDraft(tx, { accountId, conversationId: c.conversationId, messageId: c.messageId, aiResultId: null, extractive: true, text: 'draft', citations: cited.map((a) => ({ id: a, title: 'x', excerpt: 'x' })) });
        await tx.query(`UPDATE drafts SET status = $2, decided_by = $3 WHERE id = $1`, [id, status, status === 'proposed' ? null : user]);
      });
    }
    const page = await openKb();
    const cited = page.locator('hummdesk-admin-kb [part=cited]');
    await cited.locator('tbody tr').first().waitFor();
    const rows = await cited.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent!.trim())));
    expect(rows).toEqual([[often!.title, 'en', '3', '2'], [once!.title, 'en', '1', '0']]);
    await cited.locator('#cited-days').selectOption('7');
    await expect.poll(() => cited.locator('tbody tr').count()).toBe(2);
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: artifactPath('admin-kb-cited-1440.png') });
    await page.context().close();
  });
});
