import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoCredentials } from '../../hub/services/demo.js';
import type { TestHub } from '../../hub/testing/harness.js';
import { startDeskTest } from '../../hub/testing/desk.js';
import { artifactPath, axeViolations, focusMatches, submitLogin, tabTo } from '../testing.js';
import type { ReplySentDetail } from './conversation.component.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `<hummdesk-conversation>` in real Chromium beside a customer's widget: typing shown both ways, live; replies and internal notes. */
describe('conversation view: typing', { timeout: 120_000 }, () => {
  let t: TestHub;
  let browser: Browser;
  let base: string;
  let shop: Server;
  let shopUrl: string;
  let demo: DemoCredentials;
  let close: (() => Promise<void>) | undefined;
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

  /**
   * Stops the page's clock, so its timers (the widget's 6 s typing expiry, the 3 s between typing POSTs)
   * wait until the test moves it: a check of "at once" then holds however slowly a loaded machine runs.
   */
  const stopClock = async (page: Page) => {
    const now = Date.now();
    await page.clock.install({ time: now });
    await page.clock.pauseAt(now + 1_000);
  };

  /** A customer opens the widget on the shop and sends `text`; returns their page and the conversation. */
  const startChat = async (name: string, email: string, text: string) => {
    const customer = await newPage();
    await customer.goto(shopUrl);
    await customer.locator('hummdesk-chat input[type=email]').fill(email);
    await customer.locator('hummdesk-chat input[name=name]').fill(name);
    await customer.locator('hummdesk-chat button.start').click();
    await customer.locator('hummdesk-chat .connection', { hasText: 'Connected' }).waitFor();
    const input = customer.locator('hummdesk-chat textarea');
    await input.fill(text);
    const typedAt = Date.now();
    await input.press('Enter');
    await customer.locator('hummdesk-chat li.inbound', { hasText: text }).locator('.delivery', { hasText: 'Sent' }).waitFor();
    const conversationId = (await t.hub.db.query<{ conversation_id: string }>(`SELECT conversation_id FROM messages WHERE text = $1`, [text])).rows[0]!.conversation_id;
    return { customer, input, typedAt, conversationId };
  };

  /** The demo agent logs in on the demo page and opens the conversation whose first message is `text`. */
  const openAsAgent = async (conversationId: string, text: string): Promise<Page> => {
    const agent = await newPage();
    await agent.goto(`${base}/`);
    await submitLogin(agent, demo);
    await agent.locator(`hummdesk-inbox li[data-id="${conversationId}"]`).click();
    await agent.locator('hummdesk-conversation li.message.inbound', { hasText: text }).waitFor();
    return agent;
  };

  /** Records every text the `tag` element's typing line ever shows ('' when hidden), so nothing shown in between goes unseen. */
  const recordTyping = async (page: Page, tag: string): Promise<() => Promise<string[]>> => {
    await page.locator(tag).evaluate((el) => {
      const root = el.shadowRoot!;
      const shown: string[] = [];
      let last = '';
      (window as unknown as { typingShown: string[] }).typingShown = shown;
      new MutationObserver(() => {
        const now = root.querySelector('[part=typing]')?.textContent?.trim() ?? '';
        if (now !== last) shown.push((last = now));
      }).observe(root, { subtree: true, childList: true, characterData: true });
    });
    return () => page.evaluate(() => (window as unknown as { typingShown: string[] }).typingShown);
  };

  const isTypingStop = (r: Request) => (r.postData() ?? '').includes('"stopped":true');

  /** Times of the agent page's POSTs to the conversation's typing endpoint: that the agent types, or (`stops`) stopped. */
  const typingPosts = (agent: Page, conversationId: string, stops = false): number[] => {
    const posts: number[] = [];
    agent.on('request', (r) => {
      if (r.method() === 'POST' && r.url() === `${base}/api/v1/conversations/${conversationId}/typing` && isTypingStop(r) === stops) posts.push(Date.now());
    });
    return posts;
  };

  beforeAll(async () => {
    ({ t, base, demo, accountId, browser, close } = await startDeskTest());
    // A customer's site on another origin, embedding the widget with its name-and-email form.
    shop = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><html lang="en"><head><title>Shop</title>
        <script type="module" src="${base}/embed/hummdesk-chat.js"></script></head>
        <body><main><h1>Shop</h1></main><hummdesk-chat widget-id="demo-widget" ask-email open></hummdesk-chat></body></html>`);
    });
    await new Promise<void>((resolve) => shop.listen(0, '127.0.0.1', resolve));
    shopUrl = `http://localhost:${(shop.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    shop?.close();
    await close?.();
  });

  it("shows the customer typing until their message arrives or they stop, never the agent's own typing, and tells the customer when the agent types", async () => {
    const first = `Where is my parcel ${randomUUID()}?`;
    const { customer, input, typedAt: widgetTypedAt, conversationId } = await startChat('Vera', 'vera@example.com', first);
    const agent = await openAsAgent(conversationId, first);
    const typingShown = await recordTyping(agent, 'hummdesk-conversation');
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
    const posts = typingPosts(agent, conversationId);
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

  it('writes an internal note in Note mode without ever telling the customer an agent is typing, and tells them again back in Reply mode', async () => {
    const first = `Can I change my delivery address ${randomUUID()}?`;
    const { customer, conversationId } = await startChat('Noor', 'noor@example.com', first);
    const agent = await openAsAgent(conversationId, first);
    // Time still flows in the agent's page, but the test may jump it ahead (see below).
    await agent.clock.install();
    const widgetTyping = await recordTyping(customer, 'hummdesk-chat');
    // The widget's 6 s expiry cannot hide "… is typing" below: only the agent's stop can.
    await stopClock(customer);
    const posts = typingPosts(agent, conversationId);
    const stops = typingPosts(agent, conversationId, true);
    await agent.evaluate(() => {
      const sent: ReplySentDetail[] = [];
      (window as unknown as { sent: ReplySentDetail[] }).sent = sent;
      document.addEventListener('hummdesk-reply-sent', (e) => sent.push(e.detail));
    });
    const sentEvents = () => agent.evaluate(() => (window as unknown as { sent: ReplySentDetail[] }).sent);
    const isPrivate = async (text: string) =>
      (await t.hub.db.query<{ is_private: boolean }>(`SELECT is_private FROM messages WHERE conversation_id = $1 AND text = $2`, [conversationId, text])).rows.map((r) => r.is_private);
    const view = agent.locator('hummdesk-conversation');
    const replyMode = view.getByRole('radio', { name: 'Reply', exact: true });
    const noteMode = view.getByRole('radio', { name: 'Internal note', exact: true });
    const send = view.locator('form button[type=submit]');
    const textarea = view.locator('textarea#reply');
    const composerBackground = () => view.locator('form[part~=composer]').evaluate((f) => getComputedStyle(f).backgroundColor);
    // What a screen reader announces with the text box: who gets what is written in it.
    const description = () => textarea.evaluate((el) => (el.getRootNode() as ShadowRoot).getElementById(el.getAttribute('aria-describedby') ?? '')?.textContent?.trim());

    // The composer starts on Reply; the agent moves to Internal note by keyboard alone.
    expect(await replyMode.isChecked()).toBe(true);
    expect(await view.getByRole('group', { name: 'Write a reply or an internal note' }).count()).toBe(1);
    expect(await send.innerText()).toBe('Send');
    expect(await description()).toBe('The customer gets this by Web chat.');
    const replyBackground = await composerBackground();
    await tabTo(agent, 'input[type=radio][value=reply]');
    await agent.keyboard.press('ArrowRight');
    expect(await noteMode.isChecked()).toBe(true);
    expect(await replyMode.isChecked()).toBe(false);
    expect(await focusMatches(agent, 'input[type=radio][value=note]')).toBe(true);
    expect(await send.innerText()).toBe('Add note');
    expect(await textarea.getAttribute('placeholder')).toContain('only agents see this');
    expect(await description()).toBe('Only agents see notes.');
    expect(await view.locator('form[part~=composer-note]').count()).toBe(1);
    expect(await composerBackground()).not.toBe(replyBackground);
    expect(await axeViolations(agent)).toEqual([]);

    // Several seconds of writing a note: not one typing POST, and the widget never says anyone is typing.
    await agent.keyboard.press('Tab');
    expect(await focusMatches(agent, 'textarea#reply')).toBe(true);
    const note = 'She moved last week, check the courier before answering';
    // Nothing was posted yet, so the first keystroke of a reply would post at once; a second is time for it to arrive and show.
    await agent.keyboard.type(note, { delay: 10 });
    await sleep(1_000);
    expect(posts).toEqual([]);
    expect(stops).toEqual([]);
    expect(await widgetTyping()).toEqual([]);

    // Ctrl+Enter in Note mode stores a private message; the customer never gets it.
    const noted = agent.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/conversations/${conversationId}/notes`));
    await agent.keyboard.press('Control+Enter');
    expect((await noted).status()).toBe(201);
    const noteItem = view.locator('li.message.note', { hasText: note });
    await noteItem.waitFor();
    expect(await isPrivate(note)).toEqual([true]);
    expect((await sentEvents()).map((e) => e.isPrivate)).toEqual([true]);
    // The composer wears the colour of the note it became.
    expect(await composerBackground()).toBe(await noteItem.evaluate((li) => getComputedStyle(li).backgroundColor));
    expect(await noteMode.isChecked()).toBe(true);
    await view.screenshot({ path: artifactPath('hummdesk-conversation-note.png') });

    // Back to Reply by keyboard: typing is posted again and the widget shows it.
    expect(await focusMatches(agent, 'textarea#reply')).toBe(true);
    await agent.keyboard.press('Shift+Tab');
    expect(await focusMatches(agent, 'input[type=radio][value=note]')).toBe(true);
    await agent.keyboard.press('ArrowLeft');
    expect(await replyMode.isChecked()).toBe(true);
    expect(await send.innerText()).toBe('Send');
    await agent.keyboard.press('Tab');
    await agent.keyboard.type('Sure, ');
    await customer.locator('hummdesk-chat .typing', { hasText: 'Demo Agent is typing…' }).waitFor();
    expect(posts).toHaveLength(1);

    // Switching to Note mid-sentence stops the posts at once, however long the agent goes on, and the
    // customer stops seeing "… is typing" at once too, not 6 s after the last post (their clock stands still).
    await agent.keyboard.press('Shift+Tab');
    await agent.keyboard.press('ArrowRight');
    expect(await noteMode.isChecked()).toBe(true);
    await customer.locator('hummdesk-chat .typing').waitFor({ state: 'detached' });
    expect(stops).toHaveLength(1);
    await agent.keyboard.press('Tab');
    await agent.keyboard.press('Control+End');
    // The page's clock jumps past the 3 s between posts, so a reply keystroke now would post at once.
    await agent.clock.fastForward(3_100);
    await agent.keyboard.type('what is the new address', { delay: 10 });
    await sleep(1_000);
    expect(posts).toHaveLength(1);
    // It would have: the first keystroke back in Reply mode posts.
    await replyMode.click();
    await textarea.press('Control+End');
    await textarea.press('?');
    await expect.poll(() => posts.length).toBe(2);
    await customer.locator('hummdesk-chat .typing', { hasText: 'Demo Agent is typing…' }).waitFor();

    // Ctrl+Enter in Reply mode sends the text to the customer as a reply.
    const reply = 'Sure, what is the new address?';
    await textarea.press('Control+Enter');
    await customer.locator('hummdesk-chat li.outbound', { hasText: reply }).waitFor();
    expect(await isPrivate(reply)).toEqual([false]);
    expect((await sentEvents()).map((e) => e.isPrivate)).toEqual([true, false]);
    expect(await customer.locator('hummdesk-chat li', { hasText: note }).count()).toBe(0);
    expect(await widgetTyping()).toEqual(['Demo Agent is typing…', '', 'Demo Agent is typing…', '']);

    // Another conversation opens on Reply again, whatever mode the last one was left in.
    await noteMode.click();
    await agent.locator(`hummdesk-inbox li[role=option]:not([data-id="${conversationId}"])`).first().click();
    await expect.poll(() => replyMode.isChecked()).toBe(true);
    expect(await send.innerText()).toBe('Send');
    // The reply ended the second burst of typing, so neither Note nor leaving told the customer again.
    expect(stops).toHaveLength(1);
  });

  it("keeps a draft per conversation: a note half-written in one never turns up in another's reply box, and nothing is posted for a draft put back", async () => {
    const firstA = `My order arrived broken ${randomUUID()}`;
    const firstB = `Do you ship to Iceland ${randomUUID()}?`;
    const a = await startChat('Aino', 'aino@example.com', firstA);
    const b = await startChat('Bjorn', 'bjorn@example.com', firstB);
    const agent = await openAsAgent(a.conversationId, firstA);
    const widgetTypingA = await recordTyping(a.customer, 'hummdesk-chat');
    // B's customer sees "… is typing" go only when the agent's page says so, never by the widget's 6 s expiry.
    await stopClock(b.customer);
    // Every POST the agent's page makes about a conversation, with A and B for their ids; stops of typing apart.
    const posts: string[] = [];
    const stops: string[] = [];
    agent.on('request', (r) => {
      if (r.method() !== 'POST' || !r.url().startsWith(`${base}/api/v1/conversations/`)) return;
      const post = r.url().slice(`${base}/api/v1/conversations/`.length).replace(a.conversationId, 'A').replace(b.conversationId, 'B');
      // Opening an unread conversation marks it read for the agent: not a message, not typing.
      if (post.endsWith('/read')) return;
      (isTypingStop(r) ? stops : posts).push(post);
    });
    await agent.evaluate(() => {
      const sent: ReplySentDetail[] = [];
      (window as unknown as { sent: ReplySentDetail[] }).sent = sent;
      document.addEventListener('hummdesk-reply-sent', (e) => sent.push(e.detail));
    });
    const view = agent.locator('hummdesk-conversation');
    const replyMode = view.getByRole('radio', { name: 'Reply', exact: true });
    const noteMode = view.getByRole('radio', { name: 'Internal note', exact: true });
    const textarea = view.locator('textarea#reply');
    const send = view.locator('form button[type=submit]');
    const open = async (c: { conversationId: string }, first: string) => {
      await agent.locator(`hummdesk-inbox li[data-id="${c.conversationId}"]`).click();
      await view.locator('li.message.inbound', { hasText: first }).waitFor();
    };
    const byAgents = async (conversationId: string) =>
      (await t.hub.db.query<{ is_private: boolean; text: string }>(`SELECT is_private, text FROM messages WHERE conversation_id = $1 AND author_kind = 'agent'`, [conversationId])).rows;

    // Half a note in A.
    await noteMode.click();
    const note = 'Photo shows the box crushed, courier claim';
    await textarea.pressSequentially(note);

    // B opens with its own empty box, in Reply mode; Ctrl+Enter there sends nothing.
    await open(b, firstB);
    expect(await textarea.inputValue()).toBe('');
    expect(await replyMode.isChecked()).toBe(true);
    expect(await view.locator('form button[type=submit]').innerText()).toBe('Send');
    await textarea.press('Control+Enter');
    // A reply begun in B tells B's customer at once: nothing from A holds the typing back.
    const typedB = agent.waitForResponse((r) => r.url().endsWith(`/conversations/${b.conversationId}/typing`));
    await textarea.pressSequentially('Hello Bjorn, ');
    expect((await typedB).status()).toBe(204);
    await b.customer.locator('hummdesk-chat .typing', { hasText: 'Demo Agent is typing…' }).waitFor();

    // Back in A the note is there, in Note mode; leaving B told B's customer the agent stopped typing.
    await open(a, firstA);
    await b.customer.locator('hummdesk-chat .typing').waitFor({ state: 'detached' });
    expect(stops).toEqual(['B/typing']);
    expect(await textarea.inputValue()).toBe(note);
    expect(await noteMode.isChecked()).toBe(true);
    // And B's reply draft comes back in Reply mode; putting it back is not typing.
    await open(b, firstB);
    expect(await textarea.inputValue()).toBe('Hello Bjorn, ');
    expect(await replyMode.isChecked()).toBe(true);

    // A's note is added while the agent has already moved on to B: it clears A's draft, not B's box.
    await open(a, firstA);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const reached = new Promise<void>((resolve) =>
      void agent.route(`${base}/api/v1/conversations/${a.conversationId}/notes`, async (route) => {
        resolve();
        await held;
        await route.continue();
      }));
    const noted = agent.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/conversations/${a.conversationId}/notes`));
    await textarea.press('Control+Enter');
    await reached;
    expect(await send.isDisabled()).toBe(true);
    // B can send while A's note is on its way, and A's button still waits for it back in A.
    await open(b, firstB);
    expect(await send.isDisabled()).toBe(false);
    await open(a, firstA);
    expect(await textarea.inputValue()).toBe(note);
    expect(await send.isDisabled()).toBe(true);
    await open(b, firstB);
    expect(await send.isDisabled()).toBe(false);
    release();
    expect((await noted).status()).toBe(201);
    await expect.poll(() => agent.evaluate(() => (window as unknown as { sent: ReplySentDetail[] }).sent)).toEqual([
      expect.objectContaining({ conversationId: a.conversationId, isPrivate: true }),
    ]);
    expect(await textarea.inputValue()).toBe('Hello Bjorn, ');
    expect(await replyMode.isChecked()).toBe(true);
    expect(await focusMatches(agent, 'textarea#reply')).toBe(false);
    await open(a, firstA);
    await view.locator('li.message.note', { hasText: note }).waitFor();
    expect(await textarea.inputValue()).toBe('');
    expect(await replyMode.isChecked()).toBe(true);
    expect(await send.isDisabled()).toBe(false);

    // One typing POST for the reply begun in B, one note in A; no reply anywhere, no typing from switching,
    // and one stop only although B was left three times.
    expect(posts).toEqual(['B/typing', 'A/notes']);
    expect(stops).toEqual(['B/typing']);
    expect(await byAgents(a.conversationId)).toEqual([{ is_private: true, text: note }]);
    expect(await byAgents(b.conversationId)).toEqual([]);
    expect(await widgetTypingA()).toEqual([]);
    expect(await a.customer.locator('hummdesk-chat li', { hasText: note }).count()).toBe(0);

    // A reply begun in A, then straight to B: A's last typing POST does not hold back B's. The page's clock
    // stands still from here, so B's keystroke comes well within the 3 s after A's POST however slow the machine.
    await stopClock(agent);
    const typedA = agent.waitForResponse((r) => r.url().endsWith(`/conversations/${a.conversationId}/typing`));
    await textarea.pressSequentially('Sorry');
    expect((await typedA).status()).toBe(204);
    await open(b, firstB);
    expect(await textarea.inputValue()).toBe('Hello Bjorn, ');
    const typedBAgain = agent.waitForResponse((r) => r.url().endsWith(`/conversations/${b.conversationId}/typing`));
    await textarea.press('Control+End');
    await textarea.press('h');
    expect((await typedBAgain).status()).toBe(204);
    expect(posts).toEqual(['B/typing', 'A/notes', 'A/typing', 'B/typing']);
    expect(stops).toEqual(['B/typing', 'A/typing']);

    // Emptying the reply box tells B's customer at once that the agent stopped.
    await b.customer.locator('hummdesk-chat .typing', { hasText: 'Demo Agent is typing…' }).waitFor();
    await textarea.press('Control+A');
    await textarea.press('Backspace');
    await b.customer.locator('hummdesk-chat .typing').waitFor({ state: 'detached' });
    expect(stops).toEqual(['B/typing', 'A/typing', 'B/typing']);
  });
});
