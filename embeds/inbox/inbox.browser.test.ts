import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findInstallation } from '../../storage/repositories/channels.js';
import { withAccount } from '../../storage/session.js';
import type { DemoCredentials } from '../../hub/services/demo.js';
import type { TestHub } from '../../hub/testing/harness.js';
import { startDeskTest } from '../../hub/testing/desk.js';
import { artifactPath, axeViolations, submitLogin } from '../testing.js';

/** `<hummdesk-inbox>` on the page at /: rows an agent can tell apart, views with counts, unread marks, filters in the URL. */
describe('inbox rows and views', { timeout: 180_000 }, () => {
  let t: TestHub;
  let browser: Browser;
  let base: string;
  let demo: DemoCredentials;
  let close: (() => Promise<void>) | undefined;
  let accountId: string;
  const contexts: BrowserContext[] = [];
  const ids: Record<string, string> = {};

  const customerWrites = async (thread: string, text: string, sender: { name?: string; email?: string }, minutesAgo: number) => {
    const channelId = (await t.hub.db.query<{ id: string }>(`SELECT id FROM channels WHERE account_id = $1 AND kind = 'webchat' ORDER BY created_at LIMIT 1`, [accountId])).rows[0]!.id;
    const channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: channelId }))!;
    const [o] = await t.hub.ingest.ingest(channel, [{
      type: 'message',
      message: {
        channel: { kind: 'webchat', channelId }, externalId: `m-${thread}-${minutesAgo}`, threadKey: `webchat:${channelId}:${thread}`, direction: 'inbound',
        sender: { externalId: `v-${thread}`, ...(sender.name ? { displayName: sender.name } : {}), ...(sender.email ? { email: sender.email } : {}), isBot: false },
        sentAt: new Date(Date.now() - minutesAgo * 60_000).toISOString(), text, attachments: [], raw: {},
      },
    }]);
    return o!.conversationId!;
  };

  const agentPage = async (path = '/'): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    context.setDefaultTimeout(20_000);
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
    await page.goto(`${base}${path}`);
    await submitLogin(page, demo);
    await page.locator('hummdesk-inbox ul[role=listbox]').waitFor();
    return page;
  };
  const row = (page: Page, id: string) => page.locator(`hummdesk-inbox li[data-id="${id}"]`);

  beforeAll(async () => {
    ({ t, base, demo, accountId, browser, close } = await startDeskTest({ jobs: false }));
    ids.named = await customerWrites('named', 'My parcel never arrived\nOrder 5521', { name: 'Aino Virtanen' }, 95);
    ids.arabic = await customerWrites('arabic', 'مرحبا، طلبي لم يصل', { name: 'ليلى' }, 20);
    ids.anonymous = await customerWrites('anon', 'Can I change my plan?', {}, 3);
  }, 120_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await close?.();
  });

  it('tells conversations apart: name, preview, waiting time, channel, unread, and right-to-left text reads right', async () => {
    const page = await agentPage();
    const named = row(page, ids.named!);
    await named.waitFor();
    expect(await named.locator('.name').innerText()).toContain('Aino Virtanen');
    expect(await named.locator('.preview').innerText()).toBe('My parcel never arrived');
    expect(await named.locator('.waiting').innerText()).toBe('waiting 1 h');
    expect(await named.locator('.channel').innerText()).toBe('Web chat');
    expect(await named.getAttribute('class')).toContain('unread');
    expect(await row(page, ids.arabic!).locator('.preview').getAttribute('dir')).toBe('auto');
    expect(await row(page, ids.arabic!).locator('.preview').evaluate((el) => getComputedStyle(el).direction)).toBe('rtl');
    expect(await row(page, ids.anonymous!).locator('.name').innerText()).toContain('Visitor');
    expect(await axeViolations(page)).toEqual([]);
    await page.locator('hummdesk-inbox').screenshot({ path: artifactPath('inbox-rows-1440.png') });

    // Opening a conversation reads it, for this agent, on the hub too.
    await named.click();
    await expect.poll(async () => named.getAttribute('class')).not.toContain('unread');
    await expect.poll(async () => (await withAccount(t.hub.db, accountId, (tx) => tx.query(`SELECT 1 FROM conversation_reads WHERE conversation_id = $1`, [ids.named]))).rowCount).toBe(1);
  });

  it('switches views with counts and keeps the view in the URL across a reload', async () => {
    const page = await agentPage();
    const views = page.locator('hummdesk-inbox nav[part=views] button');
    await expect.poll(() => views.allInnerTexts()).toEqual(['Mine 0', 'Unassigned 3', 'All open 3', 'Snoozed 0', 'Resolved 0']);
    await t.hub.conversations.setStatus({ accountId, kind: 'system', id: null }, ids.anonymous!, 'resolved');
    await views.filter({ hasText: 'Resolved' }).click();
    await row(page, ids.anonymous!).waitFor();
    await expect.poll(() => row(page, ids.named!).count()).toBe(0);
    await expect.poll(() => page.evaluate(() => location.search)).toBe('?status=resolved');
    await page.reload();
    await page.locator('hummdesk-inbox ul[role=listbox]').waitFor();
    await row(page, ids.anonymous!).waitFor();
    expect(await page.locator('hummdesk-inbox nav[part=views] button[aria-pressed=true]').innerText()).toMatch(/^Resolved/);
  });
  it('filters by priority and sorts by it from the menus, keeps both in the URL across a reload, and shows priority and language', async () => {
    await withAccount(t.hub.db, accountId, async (tx) => {
      await tx.query(`UPDATE conversations SET priority = 'urgent', language = 'fi' WHERE id = $1`, [ids.named]);
      await tx.query(`UPDATE conversations SET priority = 'low', language = 'ar' WHERE id = $1`, [ids.arabic]);
    });
    const page = await agentPage('/?status=active&priority=urgent');
    const inbox = page.locator('hummdesk-inbox');
    await row(page, ids.named!).waitFor();
    await expect.poll(() => row(page, ids.arabic!).count()).toBe(0);
    expect(await row(page, ids.named!).locator('.priority-urgent').innerText()).toBe('urgent');
    expect(await row(page, ids.named!).locator('[title=language]').innerText()).toBe('fi');

    // By latest activity the Arabic one (20 minutes ago) comes first; by priority the urgent one does.
    const order = async () => (await inbox.locator('li[data-id]').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-id')))).filter((id) => id === ids.arabic || id === ids.named);
    await inbox.locator('select[name=priority]').selectOption('');
    await row(page, ids.arabic!).waitFor();
    await expect.poll(order).toEqual([ids.arabic, ids.named]);
    expect(await row(page, ids.arabic!).locator('[title=language]').innerText()).toBe('ar');
    await inbox.locator('select[name=sort]').selectOption('priority');
    await expect.poll(order).toEqual([ids.named, ids.arabic]);
    await expect.poll(() => page.evaluate(() => new URLSearchParams(location.search).get('sort'))).toBe('priority');
    expect(await page.evaluate(() => new URLSearchParams(location.search).get('priority'))).toBeNull();

    await page.reload();
    await page.locator('hummdesk-inbox ul[role=listbox]').waitFor();
    expect(await inbox.locator('select[name=sort]').inputValue()).toBe('priority');
    await expect.poll(order).toEqual([ids.named, ids.arabic]);
  });
});
