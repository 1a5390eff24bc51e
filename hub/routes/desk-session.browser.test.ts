import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findInstallation } from '../../storage/repositories/channels.js';
import { withAccount } from '../../storage/session.js';
import { artifactPath, submitLogin } from '../../embeds/testing.js';
import type { DemoCredentials } from '../services/demo.js';
import type { TestHub } from '../testing/harness.js';
import { startDeskTest } from '../testing/desk.js';

/**
 * The page at / when the agent's session ends under them (a laptop asleep past its tokens, a refresh token
 * expired): it asks to sign in again, and the half-written reply is still there to send afterwards.
 */
describe('the desk page when the session expires', { timeout: 240_000 }, () => {
  let t: TestHub;
  let browser: Browser;
  let base: string;
  let demo: DemoCredentials;
  let close: (() => Promise<void>) | undefined;
  let accountId: string;
  let userId: string;
  let conversationId: string;

  const stored = () =>
    withAccount(t.hub.db, accountId, async (tx) =>
      (await tx.query<{ text: string }>(`SELECT text FROM messages WHERE conversation_id = $1 AND direction = 'outbound' ORDER BY created_at`, [conversationId])).rows.map((r) => r.text));

  beforeAll(async () => {
    // Access tokens live one second: every one the page holds has expired by the time the session ends.
    ({ t, base, demo, browser, close } = await startDeskTest({ jobs: false, env: { HUMMDESK_ACCESS_TOKEN_TTL: '1' } }));
    const ids = (await t.hub.db.query<{ accountId: string; userId: string }>(`SELECT a.id AS "accountId", u.id AS "userId" FROM accounts a JOIN users u ON u.account_id = a.id WHERE a.slug = 'demo' AND u.email = $1`, [demo.email])).rows[0]!;
    ({ accountId, userId } = ids);
    const channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: demo.webchatChannelId }))!;
    const [o] = await t.hub.ingest.ingest(channel, [{
      type: 'message',
      message: {
        channel: { kind: 'webchat', channelId: channel.id }, externalId: 'expiry-1', threadKey: `webchat:${channel.id}:expiry`,
        direction: 'inbound', sender: { externalId: 'v-expiry', displayName: 'Aino', isBot: false }, sentAt: new Date().toISOString(), text: 'Where is my refund?', attachments: [], raw: {},
      },
    }]);
    conversationId = o!.conversationId!;
  }, 120_000);
  afterAll(async () => {
    await close?.();
  });

  const signIn = async (page: Page) => {
    await submitLogin(page, demo);
    await page.locator('#login-form').waitFor({ state: 'hidden' });
  };

  it('asks to sign in again and keeps the half-written reply, which is sent after signing in', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    context.setDefaultTimeout(45_000);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
    await page.goto(`${base}/`);
    await signIn(page);
    await page.locator(`hummdesk-inbox [data-id="${conversationId}"]`).click();
    const view = page.locator('hummdesk-conversation');
    await view.locator('li.message', { hasText: 'Where is my refund?' }).waitFor();
    const half = 'Hi Aino, your refund left us on Monday and should';
    await view.locator('textarea').fill(half);

    // The session ends: its refresh token expires, and the components' embed token has expired too.
    await withAccount(t.hub.db, accountId, (tx) => tx.query(`UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [userId]));
    const expired = t.app.signAccessToken({ userId, accountId, role: 'owner' }, 'embed', 1);
    await expect.poll(async () => (await fetch(`${base}/api/v1/conversations`, { headers: { authorization: `Bearer ${expired}` } })).status).toBe(401);
    await page.evaluate((token) => {
      for (const id of ['inbox', 'conversation', 'draft', 'kb']) (document.getElementById(id) as HTMLElement & { token: string }).token = token;
    }, expired);
    // Filled at once: the first request refused with the expired token may raise the sign-in prompt
    // (which takes focus) at any moment, and key-by-key typing would then land in its email field.
    await view.locator('textarea').fill(`${half} arrive`);
    await view.locator('button.send').click();

    const login = page.locator('#login-form');
    await login.waitFor();
    expect(await page.locator('#login-error').innerText()).toMatch(/session ended.*Sign in again.*kept/s);
    // Nothing was sent with the expired session, and the text is where the agent left it.
    expect(await stored()).toEqual([]);
    expect(await view.locator('textarea').inputValue()).toBe(`${half} arrive`);
    await page.screenshot({ path: artifactPath('desk-session-expired-1440.png') });

    await signIn(page);
    expect(await view.locator('textarea').inputValue()).toBe(`${half} arrive`);
    await view.locator('button.send').click();
    await expect.poll(stored).toEqual([`${half} arrive`]);
    await expect.poll(() => view.locator('textarea').inputValue()).toBe('');
    await context.close();
  });
});
