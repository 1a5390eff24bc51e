import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../../hub/testing/harness.js';
import { call, seedConversation } from '../../hub/testing/seed.js';
import { withAccount } from '../../storage/session.js';
import type { ModelEmulator } from '../../ai/providers/external/emulator.js';
import { startAnthropicEmulator, textReply } from '../../ai/providers/anthropic/emulator.js';
import { axeViolations, launchChromium } from '../testing.js';

const FINNISH = 'Paketti ei ole vieläkään tullut.';

/** `<hummdesk-conversation>` in real Chromium: a message read in the agent's language, a reply previewed in the customer's. */
describe('conversation view: translation', { timeout: 180_000 }, () => {
  let t: TestHub;
  let claude: ModelEmulator;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    claude = await startAnthropicEmulator();
    t = await startTestHub({ jobs: false, env: { HUMMDESK_AI_PROVIDER: 'local', HUMMDESK_AI_MAX_RETRIES: '0', ANTHROPIC_API_KEY: 'test-key', HUMMDESK_ANTHROPIC_BASE_URL: claude.url } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await claude?.close();
  });

  async function open(acct: TestAccount): Promise<Page> {
    const s = await seedConversation(t, acct, { text: FINNISH });
    await withAccount(t.hub.db, acct.accountId, async (tx) => {
      await tx.query(`INSERT INTO ai_results (account_id, conversation_id, message_id, provider, model, latency_ms, language) VALUES ($1, $2, $3, 'local', 'test', 1, 'fi')`, [acct.accountId, s.conversationId, s.messageId]);
      await tx.query(`UPDATE conversations SET language = 'fi' WHERE id = $1`, [s.conversationId]);
    });
    const token = (await call(t, acct.users.agent.token, 'POST', '/api/v1/embed-tokens')).json<{ token: string }>().token;
    const page = await (await browser.newContext({ locale: 'en-US' })).newPage();
    page.setDefaultTimeout(30_000);
    await page.route(`${base}/translate-test`, (route) => route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><html lang="en"><head><title>Agent</title><script type="module" src="${base}/embed/hummdesk.js"></script></head>
        <body><hummdesk-conversation conversation-id="${s.conversationId}" token="${token}"></hummdesk-conversation></body></html>`,
    }));
    await page.goto(`${base}/translate-test`);
    await page.locator('hummdesk-conversation li.message.inbound', { hasText: FINNISH }).waitFor();
    return page;
  }

  it('with Claude: the message in English under the original, the reply in Finnish beside the agent\'s text', async () => {
    const acct = await createTestAccount(t);
    await t.hub.db.query(`UPDATE accounts SET settings = jsonb_set(settings, '{ai}', '{"provider":"anthropic"}') WHERE id = $1`, [acct.accountId]);
    const page = await open(acct);
    const view = page.locator('hummdesk-conversation');
    const message = view.locator('li.message.inbound', { hasText: FINNISH });
    claude.script(textReply('The parcel still has not arrived.'));
    await message.locator('button.translate').click();
    await message.locator('.translation', { hasText: 'The parcel still has not arrived.' }).waitFor();
    expect(await message.locator('.translation .badge').textContent()).toBe('Translated (en)');
    expect(await message.locator('.text').textContent()).toBe(FINNISH);

    claude.script(textReply('Pahoittelemme, tarkistamme asian heti.'));
    await view.locator('textarea').fill('Sorry, we are checking it right away.');
    await view.locator('button.translate-reply').click();
    const preview = view.locator('.reply-translation');
    await preview.locator('p', { hasText: 'Pahoittelemme' }).waitFor();
    expect(await preview.locator('p').first().textContent()).toBe('Sorry, we are checking it right away.');
    expect(await axeViolations(page)).toEqual([]);
    await preview.locator('button.use-translation').click();
    expect(await view.locator('textarea').inputValue()).toBe('Pahoittelemme, tarkistamme asian heti.');
  });

  it('offline: says the local AI cannot translate, and the text stays as it is', async () => {
    const acct = await createTestAccount(t);
    const page = await open(acct);
    const view = page.locator('hummdesk-conversation');
    const message = view.locator('li.message.inbound', { hasText: FINNISH });
    await message.locator('button.translate').click();
    await message.locator('.translation.error', { hasText: 'the offline AI cannot translate' }).waitFor();
    await view.locator('textarea').fill('Sorry!');
    await view.locator('button.translate-reply').click();
    await view.locator('.translation.error', { hasText: 'the offline AI cannot translate' }).last().waitFor();
    expect(await view.locator('textarea').inputValue()).toBe('Sorry!');
  });
});
