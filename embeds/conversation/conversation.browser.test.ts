import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, type DemoCredentials } from '../../hub/services/demo.js';
import { startTestHub, type TestHub } from '../../hub/testing/harness.js';
import { launchChromium } from '../testing.js';

/** `<hummdesk-conversation>` in real Chromium beside a customer's widget: typing shown both ways, live. */
describe('conversation view: typing', { timeout: 120_000 }, () => {
  let t: TestHub;
  let browser: Browser;
  let base: string;
  let shop: Server;
  let shopUrl: string;
  let demo: DemoCredentials;
  let accountId: string;
  const contexts: BrowserContext[] = [];

  const newPage = async (): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    context.setDefaultTimeout(20_000);
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
    return page;
  };

  beforeAll(async () => {
    t = await startTestHub();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    demo = (await seedDemo(t.hub.db, t.hub.box, t.config.dataDir, base)).credentials!;
    accountId = (await t.hub.db.query<{ id: string }>(`SELECT id FROM accounts WHERE slug = 'demo'`)).rows[0]!.id;
    // A customer's site on another origin, embedding the widget with its name-and-email form.
    shop = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><html lang="en"><head><title>Shop</title>
        <script type="module" src="${base}/embed/hummdesk-chat.js"></script></head>
        <body><main><h1>Shop</h1></main><hummdesk-chat widget-id="demo-widget" ask-email open></hummdesk-chat></body></html>`);
    });
    await new Promise<void>((resolve) => shop.listen(0, '127.0.0.1', resolve));
    shopUrl = `http://localhost:${(shop.address() as AddressInfo).port}/`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    shop?.close();
    await t?.close();
  });

  it("shows the customer typing until their message arrives or they stop, never the agent's own typing, and tells the customer when the agent types", async () => {
    const customer = await newPage();
    await customer.goto(shopUrl);
    await customer.locator('hummdesk-chat input[type=email]').fill('vera@example.com');
    await customer.locator('hummdesk-chat input[name=name]').fill('Vera');
    await customer.locator('hummdesk-chat button.start').click();
    await customer.locator('hummdesk-chat .connection', { hasText: 'Connected' }).waitFor();
    const input = customer.locator('hummdesk-chat textarea');
    const first = `Where is my parcel ${randomUUID()}?`;
    await input.fill(first);
    const widgetTypedAt = Date.now();
    await input.press('Enter');
    await customer.locator('hummdesk-chat li.inbound', { hasText: first }).locator('.delivery', { hasText: 'Sent' }).waitFor();
    const conversationId = (await t.hub.db.query<{ conversation_id: string }>(`SELECT conversation_id FROM messages WHERE text = $1`, [first])).rows[0]!.conversation_id;

    const agent = await newPage();
    await agent.goto(`${base}/`);
    await agent.locator('#login-password').fill(demo.password);
    await agent.locator('#login-form button[type=submit]').click();
    await agent.locator(`hummdesk-inbox li[data-id="${conversationId}"]`).click();
    await agent.locator('hummdesk-conversation li.message.inbound', { hasText: first }).waitFor();
    // Every text the typing line ever shows ('' when hidden), so nothing shown in between goes unseen.
    await agent.locator('hummdesk-conversation').evaluate((el) => {
      const root = el.shadowRoot!;
      const shown: string[] = [];
      let last = '';
      (window as unknown as { typingShown: string[] }).typingShown = shown;
      new MutationObserver(() => {
        const now = root.querySelector('[part=typing]')?.textContent ?? '';
        if (now !== last) shown.push((last = now));
      }).observe(root, { subtree: true, childList: true, characterData: true });
    });
    const typingShown = () => agent.evaluate(() => (window as unknown as { typingShown: string[] }).typingShown);
    const typingLine = agent.locator('hummdesk-conversation [part=typing]');

    // Typing in another conversation and an agent's typing come first on the same stream, and show nothing.
    t.hub.bus.publish(accountId, { type: 'typing', conversationId: randomUUID(), by: 'visitor', name: 'Someone Else' });
    t.hub.bus.publish(accountId, { type: 'typing', conversationId, by: 'agent', name: 'Demo Agent' });
    const second = 'Is it shipped yet?';
    // The widget tells the hub at most every 3 s, and it did when the first message was typed.
    await new Promise((r) => setTimeout(r, Math.max(0, widgetTypedAt + 3_100 - Date.now())));
    await input.pressSequentially(second);
    await typingLine.filter({ hasText: 'Vera is typing…' }).waitFor();
    await input.press('Enter');
    await agent.locator('hummdesk-conversation li.message.inbound', { hasText: second }).waitFor();
    await typingLine.waitFor({ state: 'detached' });

    // Without the message, the line goes after about six seconds of silence.
    t.hub.bus.publish(accountId, { type: 'typing', conversationId, by: 'visitor', name: 'Vera' });
    await typingLine.waitFor();
    const shownAt = Date.now();
    await typingLine.waitFor({ state: 'detached', timeout: 10_000 });
    expect(Date.now() - shownAt).toBeGreaterThan(5_000);
    expect(await typingShown()).toEqual(['Vera is typing…', '', 'Vera is typing…', '']);

    // The agent types a reply for about five seconds: the hub hears it twice (every 3 s), the widget shows it.
    const posts: number[] = [];
    agent.on('request', (r) => {
      if (r.method() === 'POST' && r.url() === `${base}/api/v1/conversations/${conversationId}/typing`) posts.push(Date.now());
    });
    await agent.locator('hummdesk-conversation textarea#reply').click();
    const answered = agent.waitForResponse((r) => r.url().endsWith(`/conversations/${conversationId}/typing`));
    await agent.keyboard.type('Let me check that parcel', { delay: 200 });
    expect((await answered).status()).toBe(204);
    await customer.locator('hummdesk-chat .typing', { hasText: 'Demo Agent is typing…' }).waitFor();
    // A slow runner may take longer than 6 s to type it: then there is a third, still 3 s apart.
    expect(posts.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < posts.length; i++) expect(posts[i]! - posts[i - 1]!).toBeGreaterThanOrEqual(3_000);
    // The agent's own typing came back on their stream before this, and showed nothing there.
    t.hub.bus.publish(accountId, { type: 'typing', conversationId, by: 'visitor', name: null });
    await typingLine.filter({ hasText: 'Vera is typing…' }).waitFor();
    expect(await typingShown()).toEqual(['Vera is typing…', '', 'Vera is typing…', '', 'Vera is typing…']);
  });
});
