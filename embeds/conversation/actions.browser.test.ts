import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findInstallation } from '../../storage/repositories/channels.js';
import { insertUser } from '../../storage/repositories/users.js';
import { withAccount } from '../../storage/session.js';
import { hashPassword } from '../../hub/services/auth.js';
import type { DemoCredentials } from '../../hub/services/demo.js';
import type { TestHub } from '../../hub/testing/harness.js';
import { startDeskTest } from '../../hub/testing/desk.js';
import { artifactPath, axeViolations, focusMatches } from '../testing.js';

/** The actions of `<hummdesk-conversation>` on the page at /, by mouse and by key, seen live by a second agent. */
describe('conversation actions', { timeout: 240_000 }, () => {
  let t: TestHub;
  let browser: Browser;
  let base: string;
  let demo: DemoCredentials;
  let close: (() => Promise<void>) | undefined;
  let accountId: string;
  let conversationId: string;
  let secondConversationId: string;
  const second = { email: 'second.agent@hummdesk.local', password: 'second agent password', name: 'Second Agent', id: '' };
  const contexts: BrowserContext[] = [];

  const signIn = async (email: string, password: string, path = '/', open = conversationId): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    context.setDefaultTimeout(20_000);
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
    await page.goto(`${base}${path}`);
    await page.locator('#login-email').fill(email);
    await page.locator('#login-password').fill(password);
    await page.locator('#login-form button[type=submit]').click();
    await page.locator('hummdesk-inbox ul[role=listbox]').waitFor();
    await page.locator(`hummdesk-inbox li[data-id="${open}"]`).click();
    await page.locator('hummdesk-conversation [part=actions]').waitFor();
    return page;
  };
  const stored = async () =>
    withAccount(t.hub.db, accountId, async (tx) =>
      (await tx.query<{ status: string; assignee_id: string | null; priority: string; tags: string[]; snoozed_until: Date | null }>(
        `SELECT status, assignee_id, priority, tags, snoozed_until FROM conversations WHERE id = $1`, [conversationId])).rows[0]!);

  beforeAll(async () => {
    ({ t, base, demo, accountId, browser, close } = await startDeskTest({ jobs: false }));
    second.id = (await withAccount(t.hub.db, accountId, async (tx) =>
      insertUser(tx, { accountId, email: second.email, name: second.name, role: 'agent', passwordHash: await hashPassword(second.password) }))).id;
    const channelId = (await t.hub.db.query<{ id: string }>(`SELECT id FROM channels WHERE account_id = $1 AND kind = 'webchat' LIMIT 1`, [accountId])).rows[0]!.id;
    const channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: channelId }))!;
    const [o] = await t.hub.ingest.ingest(channel, [{
      type: 'message',
      message: {
        channel: { kind: 'webchat', channelId }, externalId: 'actions-1', threadKey: `webchat:${channelId}:actions`, direction: 'inbound',
        sender: { externalId: 'v-actions', displayName: 'Mika Laine', isBot: false }, sentAt: new Date().toISOString(),
        text: 'I was charged twice for my order', attachments: [], raw: {},
      },
    }]);
    conversationId = o!.conversationId!;
    const [o2] = await t.hub.ingest.ingest(channel, [{
      type: 'message',
      message: {
        channel: { kind: 'webchat', channelId }, externalId: 'actions-2', threadKey: `webchat:${channelId}:actions-2`, direction: 'inbound',
        sender: { externalId: 'v-actions-2', displayName: 'Ilona Berg', isBot: false }, sentAt: new Date().toISOString(),
        text: 'The parcel arrived damaged, can I get a new one?', attachments: [], raw: {},
      },
    }]);
    secondConversationId = o2!.conversationId!;
  }, 120_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await close?.();
  });

  it('assign, priority, tags, snooze, resolve and reopen: stored and seen live by another agent', async () => {
    const lead = await signIn(demo.email, demo.password);
    const other = await signIn(second.email, second.password);
    const bar = lead.locator('hummdesk-conversation [part=actions]');

    await bar.locator('[data-action=assign-me]').click();
    await expect.poll(async () => (await stored()).assignee_id).not.toBeNull();
    // The other agent's conversation view and inbox row change without a reload.
    const otherBar = other.locator('hummdesk-conversation [part=actions]');
    await expect.poll(() => otherBar.locator('[data-action=assignee]').evaluate((s) => (s as HTMLSelectElement).selectedOptions[0]?.textContent)).toBe('Demo Agent');
    await expect.poll(() => other.locator(`hummdesk-inbox li[data-id="${conversationId}"] .assignee`).innerText()).toBe('Demo Agent');

    await bar.locator('[data-action=assignee]').selectOption(second.id);
    await expect.poll(async () => (await stored()).assignee_id).toBe(second.id);
    await bar.locator('[data-action=priority]').selectOption('urgent');
    await expect.poll(async () => (await stored()).priority).toBe('urgent');
    await expect.poll(() => other.locator(`hummdesk-inbox li[data-id="${conversationId}"] .priority-urgent`).count()).toBe(1);

    await bar.locator('[data-action=tags]').fill('Billing');
    await bar.locator('[data-action=tags]').press('Enter');
    await expect.poll(async () => (await stored()).tags).toEqual(['billing']);
    await otherBar.locator('.tag', { hasText: 'billing' }).waitFor();

    expect(await axeViolations(lead)).toEqual([]);
    await lead.screenshot({ path: artifactPath('desk-actions-1440.png') });

    await bar.locator('[data-action=snooze]').selectOption('tomorrow');
    await expect.poll(async () => (await stored()).status).toBe('snoozed');
    const until = (await stored()).snoozed_until!;
    expect(until.getTime()).toBeGreaterThan(Date.now());
    await bar.locator('[data-action=reopen]').click();
    await expect.poll(async () => (await stored()).status).toBe('open');
    await bar.locator('[data-action=resolve]').click();
    await expect.poll(async () => (await stored()).status).toBe('resolved');
    await otherBar.locator('[data-action=reopen]').waitFor();
  });

  it('works by keyboard: ? lists the shortcuts, e resolves or reopens, a assigns to me; typing a reply fires none', async () => {
    // The first test resolved it: the Resolved view (kept in the URL) lists it.
    const lead = await signIn(demo.email, demo.password, '/?status=resolved');
    const view = lead.locator('hummdesk-conversation');
    await lead.locator('body').click({ position: { x: 5, y: 5 } });
    await lead.keyboard.press('?');
    await view.locator('[part=shortcuts]').waitFor();
    expect(await view.locator('[part=shortcuts] dd').allInnerTexts()).toContain('Assign to me');

    const before = (await stored()).status;
    await lead.keyboard.press('e');
    await expect.poll(async () => (await stored()).status).toBe(before === 'resolved' ? 'open' : 'resolved');
    // The store changes before the answer reaches the page; a key pressed while the toolbar is busy is ignored.
    await view.locator(`[part=actions] [data-action=${before === 'resolved' ? 'resolve' : 'reopen'}]:not([disabled])`).waitFor();
    await lead.keyboard.press('a');
    await expect.poll(async () => (await stored()).assignee_id).not.toBe(second.id);

    const status = (await stored()).status;
    await view.locator('textarea').fill('');
    await view.locator('textarea').pressSequentially('see you');
    expect((await stored()).status).toBe(status);
    expect(await view.locator('textarea').inputValue()).toBe('see you');
  });
  it('assigns a team, snoozes until a picked date, corrects the category as a learning example, all seen live; s p c t r move to their controls; a reply shows live', async () => {
    const id = secondConversationId;
    const lead = await signIn(demo.email, demo.password, '/', id);
    const other = await signIn(second.email, second.password, '/', id);
    const bar = lead.locator('hummdesk-conversation [part=actions]');
    const otherBar = other.locator('hummdesk-conversation [part=actions]');
    const row = async () => withAccount(t.hub.db, accountId, async (tx) =>
      (await tx.query<{ team_id: string | null; status: string; snoozed_until: Date | null; category: string | null }>(
        `SELECT team_id, status, snoozed_until, category FROM conversations WHERE id = $1`, [id])).rows[0]!);
    const selected = (select: typeof bar) => select.evaluate((s) => (s as HTMLSelectElement).selectedOptions[0]?.textContent ?? '');

    await bar.locator('[data-action=team]').selectOption({ label: 'No team' });
    await expect.poll(async () => (await row()).team_id).toBeNull();
    await expect.poll(() => selected(otherBar.locator('[data-action=team]'))).toBe('No team');
    await bar.locator('[data-action=team]').selectOption({ label: 'Support' });
    await expect.poll(async () => (await row()).team_id).not.toBeNull();
    await expect.poll(() => selected(otherBar.locator('[data-action=team]'))).toBe('Support');

    const categories = await bar.locator('[data-action=category] option:not([disabled])').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    const corrected = categories.find((c) => c !== '' && c !== categories[0]) ?? categories[0]!;
    await bar.locator('[data-action=category]').selectOption(corrected);
    await expect.poll(async () => (await row()).category).toBe(corrected);
    // Kept as an example the account's category model learns from.
    await expect.poll(async () => (await withAccount(t.hub.db, accountId, (tx) => tx.query<{ category: string }>(
      `SELECT category FROM ai_category_examples WHERE conversation_id = $1 AND source = 'correction'`, [id]))).rows.map((r) => r.category)).toEqual([corrected]);
    await expect.poll(() => otherBar.locator('[data-action=category]').inputValue()).toBe(corrected);

    // Three days ahead at 09:30, as both clocks (this process and the browser) read local time.
    const day = new Date(Date.now() + 3 * 24 * 3600_000);
    const local = `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, '0')}-${String(day.getDate()).padStart(2, '0')}T09:30`;
    await bar.locator('[data-action=snooze]').selectOption('date');
    await bar.locator('.snooze-date input').fill(local);
    await bar.locator('.snooze-date button[type=submit]').click();
    await expect.poll(async () => (await row()).status).toBe('snoozed');
    expect((await row()).snoozed_until!.getTime()).toBe(new Date(local).getTime());
    await expect.poll(() => selected(otherBar.locator('[data-action=snooze]'))).toMatch(/^Until /);

    for (const [key, selector] of [['s', '[data-action=snooze]'], ['p', '[data-action=priority]'], ['c', '[data-action=category]'], ['t', '[data-action=tags]'], ['r', 'textarea']] as const) {
      await lead.locator('body').click({ position: { x: 5, y: 5 } });
      await lead.keyboard.press(key);
      await expect.poll(() => focusMatches(lead, selector)).toBe(true);
    }
    // r left the reply box focused: the reply is seen by the other agent without a reload.
    await lead.keyboard.type('A new parcel is on its way today.');
    await lead.keyboard.press('Control+Enter');
    await other.locator('hummdesk-conversation li.message', { hasText: 'A new parcel is on its way today.' }).waitFor();
  });
});
