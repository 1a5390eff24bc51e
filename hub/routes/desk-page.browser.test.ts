import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertDraft } from '../../storage/repositories/ai.js';
import { findInstallation } from '../../storage/repositories/channels.js';
import { withAccount } from '../../storage/session.js';
import { artifactPath, axeViolations, submitLogin } from '../../embeds/testing.js';
import type { DemoCredentials } from '../services/demo.js';
import type { TestHub } from '../testing/harness.js';
import { startDeskTest } from '../testing/desk.js';

/** The page at / as a desk: layout at laptop and phone sizes, light and dark, notifications and the tab title. */
describe('the desk page', { timeout: 240_000 }, () => {
  let t: TestHub;
  let browser: Browser;
  let base: string;
  let demo: DemoCredentials;
  let close: (() => Promise<void>) | undefined;
  let accountId: string;
  let conversationId: string;
  const contexts: BrowserContext[] = [];

  const customerWrites = async (thread: string, text: string, name: string) => {
    const channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: demo.webchatChannelId }))!;
    const [o] = await t.hub.ingest.ingest(channel, [{
      type: 'message',
      message: {
        channel: { kind: 'webchat', channelId: channel.id }, externalId: `${thread}-${Date.now()}-${Math.random()}`, threadKey: `webchat:${channel.id}:${thread}`,
        direction: 'inbound', sender: { externalId: `v-${thread}`, displayName: name, isBot: false }, sentAt: new Date().toISOString(), text, attachments: [], raw: {},
      },
    }]);
    return o!;
  };

  const signIn = async (viewport: { width: number; height: number }, opts: { colorScheme?: 'light' | 'dark'; notifications?: boolean } = {}): Promise<Page> => {
    const context = await browser.newContext({ viewport, colorScheme: opts.colorScheme ?? 'light' });
    context.setDefaultTimeout(30_000);
    contexts.push(context);
    if (opts.notifications) {
      await context.grantPermissions(['notifications'], { origin: base });
      // Records what the page shows as desktop notifications.
      await context.addInitScript(() => {
        const shown: { title: string; body: string }[] = [];
        (window as unknown as { shown: typeof shown }).shown = shown;
        class Recorded { static permission = 'granted'; static requestPermission = async () => 'granted'; onclick: null | (() => void) = null; constructor(title: string, o: { body?: string } = {}) { shown.push({ title, body: o.body ?? '' }); } close() {} }
        (window as unknown as { Notification: unknown }).Notification = Recorded;
      });
    }
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
    await page.goto(`${base}/`);
    await submitLogin(page, demo);
    await page.locator('hummdesk-inbox ul[role=listbox]').waitFor();
    return page;
  };
  const inView = (page: Page, selector: string) =>
    page.locator(selector).evaluate((el) => {
      const r = el.getBoundingClientRect();
      return r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth && r.height > 0;
    });

  beforeAll(async () => {
    ({ t, base, demo, accountId, browser, close } = await startDeskTest({ jobs: false }));
    const first = await customerWrites('layout', 'Where is my order 5521? It was due on Monday.\n'.repeat(8), 'Aino');
    conversationId = first.conversationId!;
    await withAccount(t.hub.db, accountId, (tx) => insertDraft(tx, {
      accountId, conversationId, messageId: first.messageId!, aiResultId: null, extractive: true, citations: [],
      text: 'Hi Aino, sorry for the wait. Order 5521 left our warehouse yesterday and should reach you by Thursday.',
    }));
  }, 120_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await close?.();
  });

  for (const size of [{ width: 1366, height: 768 }, { width: 1440, height: 900 }]) {
    it(`shows the draft and its actions without scrolling at ${size.width}×${size.height}`, async () => {
      const page = await signIn(size);
      await page.locator(`hummdesk-inbox li[data-id="${conversationId}"]`).click();
      await page.locator('hummdesk-draft button.accept').waitFor();
      expect(await inView(page, 'hummdesk-draft button.accept')).toBe(true);
      expect(await inView(page, 'hummdesk-conversation button.send')).toBe(true);
      expect(await page.evaluate(() => document.scrollingElement!.scrollHeight <= window.innerHeight + 1)).toBe(true);
      await page.screenshot({ path: artifactPath(`desk-${size.width}x${size.height}-light.png`) });
    });
  }

  it('works one pane at a time on a phone, and in dark', async () => {
    const page = await signIn({ width: 390, height: 844 }, { colorScheme: 'dark' });
    expect(await page.locator('hummdesk-conversation').isVisible()).toBe(false);
    await page.locator(`hummdesk-inbox li[data-id="${conversationId}"]`).click();
    await page.locator('hummdesk-conversation li.message').first().waitFor();
    expect(await page.locator('hummdesk-inbox').isVisible()).toBe(false);
    expect(await page.locator('#back').isVisible()).toBe(true);
    // Dark follows the device; the components read the same tokens.
    const background = await page.locator('hummdesk-conversation').evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(background).toBe('rgb(17, 24, 39)');
    await page.screenshot({ path: artifactPath('desk-390x844-dark.png') });
    expect(await axeViolations(page)).toEqual([]);
    await page.locator('#back').click();
    await page.locator('hummdesk-inbox').waitFor();
    expect(await page.locator('hummdesk-conversation').isVisible()).toBe(false);
  });

  it('switches theme by hand and keeps the choice', async () => {
    const page = await signIn({ width: 1440, height: 900 });
    const bg = () => page.locator('hummdesk-inbox').evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(await bg()).toBe('rgb(255, 255, 255)');
    await page.locator('#theme').selectOption('dark');
    expect(await bg()).toBe('rgb(17, 24, 39)');
    await page.screenshot({ path: artifactPath('desk-1440x900-dark.png') });
    await page.reload();
    await page.locator('hummdesk-inbox ul[role=listbox]').waitFor();
    expect(await bg()).toBe('rgb(17, 24, 39)');
  });

  it('notifies of a customer writing in a conversation for me, counts unread in the tab title, and stays quiet on the one I look at', async () => {
    const page = await signIn({ width: 1440, height: 900 }, { notifications: true });
    await page.locator(`hummdesk-inbox li[data-id="${conversationId}"]`).click();
    await expect.poll(() => page.title()).toMatch(/^(\(\d+\) )?HummDesk/);
    const shown = () => page.evaluate(() => (window as unknown as { shown: { title: string; body: string }[] }).shown);
    await customerWrites('fresh', 'Hello, my invoice is wrong', 'Pekka');
    await expect.poll(shown).toContainEqual({ title: 'New conversation: Pekka', body: 'Hello, my invoice is wrong' });
    await expect.poll(() => page.title()).toMatch(/^\(1\) /);
    // The conversation on screen, in a focused tab: no notification for it.
    await page.bringToFront();
    await customerWrites('layout', 'Any news?', 'Aino');
    await page.locator('hummdesk-conversation li.message', { hasText: 'Any news?' }).waitFor();
    const titles = (await shown()).map((n) => n.title);
    expect(titles.filter((x) => x.startsWith('Aino'))).toEqual([]);
  });
  it('asks for notification permission once, on the sign-in click, and chimes only while Sound is on (kept across a reload)', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    context.setDefaultTimeout(30_000);
    contexts.push(context);
    // Counts permission requests (the answer is kept, as a browser keeps it) and the chimes played.
    await context.addInitScript(() => {
      const w = window as unknown as { asked: number; chimes: number; Notification: unknown; AudioContext: unknown };
      w.asked = Number(sessionStorage.getItem('asked') ?? 0);
      w.chimes = 0;
      class Recorded {
        static get permission() { return sessionStorage.getItem('permission') ?? 'default'; }
        static requestPermission = async () => { sessionStorage.setItem('asked', String(++w.asked)); sessionStorage.setItem('permission', 'denied'); return 'denied'; };
        close() {}
      }
      w.Notification = Recorded;
      w.AudioContext = class {
        currentTime = 0;
        destination = {};
        createOscillator() { return { frequency: {}, connect: (next: unknown) => next, start: () => void w.chimes++, stop() {}, onended: null }; }
        createGain() { return { gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} }, connect: (next: unknown) => next }; }
        close() {}
      };
    });
    const page = await context.newPage();
    const read = (name: 'asked' | 'chimes') => page.evaluate((n) => (window as unknown as Record<string, number>)[n], name);
    await page.goto(`${base}/`);
    expect(await read('asked')).toBe(0);
    await submitLogin(page, demo);
    await page.locator('hummdesk-inbox ul[role=listbox]').waitFor();
    expect(await read('asked')).toBe(1);

    const inbox = page.locator('hummdesk-inbox');
    await customerWrites('quiet', 'No sound for this one', 'Ville');
    await inbox.locator('li', { hasText: 'No sound for this one' }).waitFor();
    expect(await read('chimes')).toBe(0);
    await page.locator('#sound').check();
    await customerWrites('chime', 'This one chimes', 'Saara');
    await expect.poll(() => read('chimes')).toBe(1);

    // A reload keeps the session and the Sound choice, and does not ask again.
    await page.reload();
    await page.locator('hummdesk-inbox ul[role=listbox]').waitFor();
    expect(await page.locator('#sound').isChecked()).toBe(true);
    expect(await read('asked')).toBe(1);
    // Signing in again after logging out does not ask again either: the browser has the answer.
    await page.locator('#logout').click();
    await submitLogin(page, demo);
    await page.locator('hummdesk-inbox ul[role=listbox]').waitFor();
    expect(await read('asked')).toBe(1);
  });
});
