import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoCredentials } from '../../hub/services/demo.js';
import type { TestHub } from '../../hub/testing/harness.js';
import { startDeskTest } from '../../hub/testing/desk.js';
import { addExample } from '../../ai/classify/store.js';
import { findInstallation } from '../../storage/repositories/channels.js';
import { insertAiResult } from '../../storage/repositories/ai.js';
import { withAccount } from '../../storage/session.js';
import { artifactPath, axeViolations, openConsole } from '../testing.js';

/** The console's AI settings in real Chromium: validated before sending, the API's refusal shown, nothing lost, saved where the AI stage reads it. */
describe('admin console: AI settings', { timeout: 240_000 }, () => {
  let t: TestHub;
  let browser: Browser;
  let base: string;
  let demo: DemoCredentials;
  let close: (() => Promise<void>) | undefined;
  let accountId: string;

  beforeAll(async () => {
    // The operator allows Claude with its own key and OpenAI-compatible without one; no tenant keys.
    ({ t, base, demo, accountId, browser, close } = await startDeskTest({ jobs: false, env: { ANTHROPIC_API_KEY: 'sk-operator', HUMMDESK_AI_PROVIDER: 'local', HUMMDESK_OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' } }));
  }, 120_000);
  afterAll(async () => {
    await close?.();
  }, 120_000);

  const storedAi = async () => (await t.hub.db.query<{ ai: Record<string, unknown> | null }>(`SELECT settings->'ai' AS ai FROM accounts WHERE id = $1`, [accountId])).rows[0]!.ai;

  /** The AI screen of the console on `page`, already signed in (the console is shown by `openConsole` or opened here). */
  async function openAi(page: Page, openSettings = true) {
    if (openSettings) await page.locator('#settings').click();
    await page.locator('[role=tab][data-screen=ai]').click();
    const ai = page.locator('hummdesk-admin-ai');
    await ai.locator('form[part=settings]').waitFor();
    return ai;
  }

  it('validates, shows the refusal with its code, keeps the form, and saves provider and auto-send', async () => {
    const page = await openConsole(browser, base, demo, { viewport: { width: 1440, height: 900 } });
    const context = page.context();
    const ai = await openAi(page, false);
    expect(await ai.locator('[data-effective]').getAttribute('data-effective')).toBe('local');
    await ai.locator('tr[data-category=billing]').waitFor();

    // Checked in the browser: auto-send without a threshold or categories is not sent.
    await ai.locator('#ai-autosend').check();
    await ai.locator('button[type=submit]', { hasText: 'Save AI settings' }).click();
    expect(await ai.locator('#ai-threshold-error').innerText()).toContain('threshold');
    expect(await ai.locator('#ai-categories-error').innerText()).toContain('at least one category');
    expect(await storedAi()).toBeNull();

    // An OpenAI-compatible server with no model anywhere: the browser lets it through, the hub refuses with its code.
    await ai.locator('#ai-provider').selectOption('openai-compatible');
    await ai.locator('#ai-threshold').fill('80');
    await ai.locator('input[name=auto-category][value=billing]').check();
    await ai.locator('input[name=auto-category][value=account]').check();
    await ai.locator('button[type=submit]', { hasText: 'Save AI settings' }).click();
    const alert = ai.locator('#ai-save-error');
    await alert.waitFor();
    expect(await alert.getAttribute('data-code')).toBe('provider_not_configured');
    expect(await alert.innerText()).toContain('provider_not_configured');
    // Nothing lost: what was typed is still there, and nothing was stored.
    expect(await ai.locator('#ai-provider').inputValue()).toBe('openai-compatible');
    expect(await ai.locator('#ai-threshold').inputValue()).toBe('80');
    expect(await ai.locator('#ai-autosend').isChecked()).toBe(true);
    expect(await ai.locator('input[name=auto-category][value=billing]').isChecked()).toBe(true);
    expect(await storedAi()).toBeNull();
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: artifactPath('admin-ai-settings-error-1440.png'), fullPage: true });

    // Claude, which the operator holds a key for, with a model: saved.
    await ai.locator('#ai-provider').selectOption('anthropic');
    await ai.locator('#ai-model').fill('claude-haiku-5');
    await ai.locator('button[type=submit]', { hasText: 'Save AI settings' }).click();
    await ai.locator('[role=status]', { hasText: 'Saved' }).waitFor();
    expect(await ai.locator('[data-effective]').getAttribute('data-effective')).toBe('anthropic');
    expect(await storedAi()).toEqual({ provider: 'anthropic', model: 'claude-haiku-5', autoSend: { enabled: true, minConfidence: 0.8, categories: ['billing', 'account'] } });

    // A new category taught with an example shows up with its count.
    await ai.locator('#example-category').fill('returns');
    await ai.locator('#example-text').fill('How do I send the parcel back?');
    await ai.locator('button[type=submit]', { hasText: 'Add example' }).click();
    await ai.locator('tr[data-category=returns] [data-figure=examples]', { hasText: '1' }).waitFor();

    // After a reload (the session is kept) the saved settings are what the form shows.
    await page.reload();
    const again = await openAi(page);
    expect(await again.locator('#ai-provider').inputValue()).toBe('anthropic');
    expect(await again.locator('#ai-model').inputValue()).toBe('claude-haiku-5');
    expect(await again.locator('#ai-threshold').inputValue()).toBe('80');
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: artifactPath('admin-ai-settings-1440.png'), fullPage: true });
    await context.close();
  });

  it('shows the share of classified conversations whose category agents kept, overall and per category', async () => {
    const channelId = (await t.hub.db.query<{ id: string }>(`SELECT id FROM channels WHERE account_id = $1 AND kind = 'webchat' LIMIT 1`, [accountId])).rows[0]!.id;
    const channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: channelId }))!;
    // Four conversations the AI called billing; an agent moved one of them to account → 3 of 4 kept.
    for (const [i, correctedTo] of [null, null, null, 'account'].entries()) {
      const [o] = await t.hub.ingest.ingest(channel, [{ type: 'message', message: {
        channel: { kind: 'webchat', channelId }, externalId: `kept-${i}`, threadKey: `webchat:${channelId}:kept-${i}`, direction: 'inbound',
        sender: { externalId: `v-kept-${i}`, isBot: false }, sentAt: new Date().toISOString(), text: 'I was charged twice', attachments: [], raw: {} } }]);
      await withAccount(t.hub.db, accountId, async (tx) => {
        await insertAiResult(tx, { accountId, conversationId: o!.conversationId!, messageId: o!.messageId!, provider: 'local', model: 'test', latencyMs: 1, category: 'billing' });
        // As the category correction stores it (its own test: hub/routes/ai-accuracy.test.ts).
        if (correctedTo) await addExample(tx, accountId, { category: correctedTo, text: 'I was charged twice', source: 'correction', conversationId: o!.conversationId! });
      });
    }
    const page = await openConsole(browser, base, demo, { viewport: { width: 1440, height: 900 } });
    const ai = await openAi(page, false);
    await ai.locator('[data-figure=kept]', { hasText: '75 %' }).waitFor();
    expect(await ai.locator('[data-figure=kept]').innerText()).toBe('75 % (3 of 4 conversations)');
    expect(await ai.locator('th', { hasText: 'kept by agents' }).count()).toBeGreaterThan(0);
    expect(await ai.locator('tr[data-category=billing] [data-figure=category-kept]').innerText()).toBe('75 % (3 of 4 conversations)');
    expect(await ai.locator('tr[data-category=account] [data-figure=category-kept]').innerText()).toBe('—');
    expect(await axeViolations(page)).toEqual([]);
    await page.context().close();
  });
});
