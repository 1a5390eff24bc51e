import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../hub/app.js';
import type { DemoCredentials } from '../hub/services/demo.js';
import { hashPassword } from '../hub/services/auth.js';
import { eventually, type TestHub } from '../hub/testing/harness.js';
import { startDeskTest } from '../hub/testing/desk.js';
import { withAccount } from '../storage/session.js';
import { insertUser } from '../storage/repositories/users.js';
import { insertChannel } from '../storage/repositories/channels.js';
import { artifactPath, axeViolations, customerSite, focusMatches, submitLogin, tabTo, waitForCount } from './testing.js';

/**
 * The components in real Chromium against a running hub: the whole customer ↔ agent loop by
 * keyboard, reconnect across a hub restart, XSS payloads, axe, RTL, and screenshots of each component.
 */
describe('web components in a browser', { timeout: 120_000 }, () => {
  let t: TestHub;
  let app: FastifyInstance;
  let browser: Browser;
  let base: string;
  let shop: string;
  let shopServer: Server;
  const shopPages = new Map<string, string>();
  let port: number;
  let demo: DemoCredentials;
  let close: (() => Promise<void>) | undefined;
  let accountId: string;
  const contexts: BrowserContext[] = [];

  const newPage = async (opts: { bypassCSP?: boolean } = {}): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, ...opts });
    context.setDefaultTimeout(20_000);
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
    page.on('console', (m) => m.type() === 'error' && console.error('console:', m.text(), JSON.stringify(m.location())));
    return page;
  };

  const login = async (page: Page) => {
    await page.goto(`${base}/`);
    await submitLogin(page, demo);
    await page.locator('hummdesk-inbox ul[role=listbox]').waitFor();
  };

  /** The customer writes from a site of its own (the page at / is the desk alone). */
  let site: Awaited<ReturnType<typeof customerSite>>;
  const openCustomerSite = (page: Page) => page.goto(site.url);

  const countMessages = async (text: string) =>
    Number((await t.hub.db.query<{ n: string }>(`SELECT count(*) AS n FROM messages WHERE text = $1`, [text])).rows[0]!.n);

  beforeAll(async () => {
    ({ t, base, demo, accountId, browser, close } = await startDeskTest({ ai: true }));
    app = t.app;
    port = (app.server.address() as AddressInfo).port;
    // "A customer's site": another origin (its own server) that embeds the widget from the hub.
    shopServer = createServer((req, res) => {
      const page = shopPages.get(req.url ?? '');
      res.writeHead(page ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' }).end(page ?? 'not found');
    });
    await new Promise<void>((resolve) => shopServer.listen(0, '127.0.0.1', resolve));
    shop = `http://localhost:${(shopServer.address() as AddressInfo).port}`;
    site = await customerSite(base);
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    shopServer?.close();
    await site?.close();
    if (app !== t?.app) await app?.close();
    await close?.();
  });

  it('runs the whole loop by keyboard alone: widget → live inbox → draft accepted / reply → answer in the widget', async () => {
    const agent = await newPage();
    const customer = await newPage();
    await agent.goto(`${base}/`);
    await openCustomerSite(customer);

    // Agent logs in with the keyboard, once the page shows its sign-in form.
    await agent.locator('#login-form').waitFor();
    await tabTo(agent, '#login-email');
    await agent.keyboard.type(demo.email);
    await tabTo(agent, '#login-password');
    await agent.keyboard.type(demo.password);
    await agent.keyboard.press('Enter');
    await agent.locator('hummdesk-inbox ul[role=listbox]').waitFor();

    // Customer opens the widget with the keyboard: focus moves into the composer.
    await tabTo(customer, 'button.launcher');
    await customer.keyboard.press('Enter');
    await customer.locator('hummdesk-chat .panel').waitFor();
    await customer.locator('hummdesk-chat .connection', { hasText: 'Connected' }).waitFor();
    expect(await focusMatches(customer, 'textarea')).toBe(true);
    const question = `Where is my order ${randomBytes(3).toString('hex')}? I want a refund.`;
    await customer.keyboard.type(question);
    await customer.keyboard.press('Enter');
    await customer.locator('hummdesk-chat li.inbound', { hasText: question }).locator('.delivery', { hasText: 'Sent' }).waitFor();

    // The conversation appears in the agent's inbox live; the agent opens it with arrows and Enter.
    const option = agent.locator('hummdesk-inbox li[role=option]').first();
    await option.waitFor();
    await tabTo(agent, 'li[role=option]');
    await agent.keyboard.press('Enter');
    await agent.locator('hummdesk-conversation li.message.inbound', { hasText: question }).waitFor();
    expect(await option.getAttribute('aria-selected')).toBe('true');

    // The AI classifies the conversation and proposes a draft; the agent accepts it by keyboard.
    await agent.locator('hummdesk-conversation .ai .category').waitFor();
    const accept = agent.locator('hummdesk-draft button.accept');
    await accept.waitFor({ timeout: 60_000 });
    const draftText = (await agent.locator('hummdesk-draft .text').innerText()).trim();
    await agent.screenshot({ path: artifactPath('demo-agent-workspace.png'), fullPage: true });
    await tabTo(agent, 'button.accept');
    await agent.keyboard.press('Enter');
    const firstLine = draftText.split('\n')[0]!.slice(0, 40);
    await customer.locator('hummdesk-chat li.outbound', { hasText: firstLine }).waitFor();
    expect(await customer.locator('hummdesk-chat li.outbound .author').first().innerText()).toBe('Demo Agent');

    // A typed reply (Ctrl+Enter) arrives too.
    const answer = `Your parcel left today ${randomBytes(3).toString('hex')}.`;
    await tabTo(agent, 'textarea#reply');
    await agent.keyboard.type(answer);
    await agent.keyboard.press('Control+Enter');
    await customer.locator('hummdesk-chat li.outbound', { hasText: answer }).waitFor();
    await agent.locator('hummdesk-conversation li.message.outbound', { hasText: answer }).waitFor();

    // Escape closes the panel and gives focus back to the launcher; a reply while closed shows as unread.
    await customer.keyboard.press('Escape');
    await customer.locator('hummdesk-chat .panel').waitFor({ state: 'hidden' });
    expect(await focusMatches(customer, 'button.launcher')).toBe(true);
    const later = `Anything else? ${randomBytes(3).toString('hex')}`;
    await tabTo(agent, 'textarea#reply');
    await agent.keyboard.type(later);
    await agent.keyboard.press('Control+Enter');
    await customer.locator('hummdesk-chat .badge', { hasText: '1' }).waitFor();
    await customer.screenshot({ path: artifactPath('chat-unread-badge.png') });
    await customer.keyboard.press('Enter');
    await customer.locator('hummdesk-chat li.outbound', { hasText: later }).waitFor();
    await waitForCount(customer.locator('hummdesk-chat .badge'), 0);

    // Screenshots of each component.
    await customer.locator('hummdesk-chat .panel').screenshot({ path: artifactPath('hummdesk-chat.png') });
    await agent.locator('hummdesk-inbox').screenshot({ path: artifactPath('hummdesk-inbox.png') });
    await agent.locator('hummdesk-conversation').screenshot({ path: artifactPath('hummdesk-conversation.png') });

    // The conversation survives a reload: the same visitor, the same history.
    await customer.reload();
    await customer.locator('hummdesk-chat button.launcher').click();
    await customer.locator('hummdesk-chat li.inbound', { hasText: question }).waitFor();
    await waitForCount(customer.locator('hummdesk-chat li.message'), 4);
  });

  it('shows the draft panel and knowledge-base search with their decisions and hits', async () => {
    await t.app.inject({
      method: 'POST', url: '/api/v1/kb/articles', headers: { 'x-api-key': demo.apiKey },
      payload: { title: 'Refunds', body: '# Refunds\n\nRefunds are paid within 14 days to the original payment method.', language: 'en' },
    });
    await t.app.inject({
      method: 'POST', url: '/api/v1/kb/articles', headers: { 'x-api-key': demo.apiKey },
      payload: { title: 'How long refunds take at your bank', body: 'After we pay a refund, your bank can take another 3 to 5 days to show it.', language: 'en' },
    });
    const customer = await newPage();
    await openCustomerSite(customer);
    await customer.locator('hummdesk-chat button.launcher').click();
    await customer.locator('hummdesk-chat .connection', { hasText: 'Connected' }).waitFor();
    await customer.locator('hummdesk-chat textarea').fill('How long do refunds take?');
    await customer.locator('hummdesk-chat textarea').press('Enter');

    const agent = await newPage();
    await login(agent);
    await agent.locator('hummdesk-inbox li[role=option]').first().click();
    await agent.locator('hummdesk-draft button.reject').waitFor({ timeout: 60_000 });
    // Two relevant articles: two alternatives, each citing its own article; arrow keys pick one.
    const radios = agent.locator('hummdesk-draft input[type=radio]');
    await radios.nth(1).waitFor();
    const firstSource = await agent.locator('hummdesk-draft .citations li').first().innerText();
    await radios.first().focus();
    await agent.keyboard.press('ArrowRight');
    expect(await radios.nth(1).isChecked()).toBe(true);
    expect(await agent.locator('hummdesk-draft .citations li').first().innerText()).not.toBe(firstSource);
    await agent.locator('hummdesk-draft').screenshot({ path: artifactPath('hummdesk-draft.png') });
    await agent.locator('hummdesk-draft button.edit').click();
    expect(await focusMatches(agent, 'textarea#edit')).toBe(true);
    await agent.locator('hummdesk-draft textarea#edit').fill('Refunds take up to 14 days. (edited)');
    await agent.locator('hummdesk-draft button.send-edited').click();
    await customer.locator('hummdesk-chat li.outbound', { hasText: '(edited)' }).waitFor();

    await agent.locator('hummdesk-kb-search input').fill('refund');
    await agent.locator('hummdesk-kb-search input').press('Enter');
    await agent.locator('hummdesk-kb-search li', { hasText: 'Refunds' }).first().waitFor();
    await agent.locator('hummdesk-kb-search').screenshot({ path: artifactPath('hummdesk-kb-search.png') });
    await agent.locator('hummdesk-kb-search li', { hasText: '14 days' }).locator('button').first().click();
    expect(await agent.locator('hummdesk-conversation textarea#reply').inputValue()).toContain('14 days');
  });

  it('delivers messages typed while the hub is down exactly once after it restarts', async () => {
    const customer = await newPage();
    await openCustomerSite(customer);
    await customer.locator('hummdesk-chat button.launcher').click();
    await customer.locator('hummdesk-chat .connection', { hasText: 'Connected' }).waitFor();
    const input = customer.locator('hummdesk-chat textarea');
    const before = `before restart ${randomBytes(3).toString('hex')}`;
    await input.fill(before);
    await input.press('Enter');
    await customer.locator('hummdesk-chat li.inbound', { hasText: before }).locator('.delivery', { hasText: 'Sent' }).waitFor();

    await app.close();
    await customer.locator('hummdesk-chat .offline-banner').waitFor();
    const offline = [`typed offline one ${randomBytes(3).toString('hex')}`, `typed offline two ${randomBytes(3).toString('hex')}`];
    for (const text of offline) {
      await input.fill(text);
      await input.press('Enter');
      await customer.locator('hummdesk-chat li.pending', { hasText: text }).waitFor();
    }
    await customer.screenshot({ path: artifactPath('chat-offline.png') });
    expect(await countMessages(offline[0]!)).toBe(0);

    app = await buildApp(t.hub);
    await app.listen({ port, host: '127.0.0.1' });
    for (const text of offline) await customer.locator('hummdesk-chat li.inbound:not(.pending)', { hasText: text }).waitFor();
    await waitForCount(customer.locator('hummdesk-chat li.pending'), 0);
    await customer.locator('hummdesk-chat .offline-banner').waitFor({ state: 'detached' });
    for (const text of [before, ...offline]) {
      expect(await countMessages(text)).toBe(1);
      await waitForCount(customer.locator('hummdesk-chat li.message', { hasText: text }), 1);
    }
    // The reconnected stream still brings the agent's answers.
    const conversationId = (await t.hub.db.query<{ conversation_id: string }>(`SELECT conversation_id FROM messages WHERE text = $1`, [before])).rows[0]!.conversation_id;
    const owner = (await t.hub.db.query<{ id: string }>(`SELECT id FROM users WHERE email = $1`, [demo.email])).rows[0]!.id;
    await t.hub.conversations.reply({ accountId, kind: 'user', id: owner }, conversationId, { text: 'Back online, got both.' });
    await customer.locator('hummdesk-chat li.outbound', { hasText: 'Back online, got both.' }).waitFor();
  });

  it('keeps the visitor and their chat while its expiring token is renewed, stream included', async () => {
    // Read per request, so this hub issues 3-second visitor tokens for this test only.
    const config = t.hub.config as { visitorTokenTtlSeconds: number };
    const ttl = config.visitorTokenTtlSeconds;
    config.visitorTokenTtlSeconds = 3;
    try {
      const customer = await newPage();
      await openCustomerSite(customer);
      await customer.locator('hummdesk-chat button.launcher').click();
      await customer.locator('hummdesk-chat .connection', { hasText: 'Connected' }).waitFor();
      const stored = async () =>
        JSON.parse((await customer.evaluate(() => Object.entries(localStorage).find(([k]) => k.endsWith(':session'))?.[1])) ?? '{}') as { visitorId?: string; visitorToken?: string };
      const first = await stored();
      const before = `before renewal ${randomBytes(3).toString('hex')}`;
      await customer.locator('hummdesk-chat textarea').fill(before);
      await customer.locator('hummdesk-chat textarea').press('Enter');
      await customer.locator('hummdesk-chat li.inbound', { hasText: before }).locator('.delivery', { hasText: 'Sent' }).waitFor();
      // Two renewals later: the same visitor, a new token, and the page never asked the visitor anything.
      const second = await eventually(async () => ((await stored()).visitorToken !== first.visitorToken ? stored() : undefined), 30_000);
      const third = await eventually(async () => ((await stored()).visitorToken !== second.visitorToken ? stored() : undefined), 30_000);
      expect(third.visitorId).toBe(first.visitorId);

      const after = `after renewal ${randomBytes(3).toString('hex')}`;
      await customer.locator('hummdesk-chat textarea').fill(after);
      await customer.locator('hummdesk-chat textarea').press('Enter');
      await customer.locator('hummdesk-chat li.inbound', { hasText: after }).locator('.delivery', { hasText: 'Sent' }).waitFor();
      const conversations = await t.hub.db.query<{ conversation_id: string }>(`SELECT DISTINCT conversation_id FROM messages WHERE text = ANY($1)`, [[before, after]]);
      expect(conversations.rows.length).toBe(1);
      // The reopened stream still brings the agent's answer.
      const owner = (await t.hub.db.query<{ id: string }>(`SELECT id FROM users WHERE email = $1`, [demo.email])).rows[0]!.id;
      await t.hub.conversations.reply({ accountId, kind: 'user', id: owner }, conversations.rows[0]!.conversation_id, { text: 'Still here after the renewal.' });
      await customer.locator('hummdesk-chat li.outbound', { hasText: 'Still here after the renewal.' }).waitFor();
    } finally {
      config.visitorTokenTtlSeconds = ttl;
    }
  });

  it('never runs script from message text, names or email HTML', async () => {
    const payloads = [
      '<script>window.__xss = 1</script>',
      '<img src=x onerror="window.__xss = 2">',
      'javascript:window.__xss = 3',
      '<a href="javascript:window.__xss = 4">click me</a>',
      '<svg onload="window.__xss = 5"><script>window.__xss = 6</script></svg>',
      '"><iframe srcdoc="<script>parent.__xss = 7</script>"></iframe>',
    ];
    // A customer site on another origin embedding the widget cross-origin, with pre-chat email capture.
    const customer = await newPage();
    shopPages.set('/xss', `<!doctype html><html lang="en"><head><title>Shop</title><script type="module" src="${base}/embed/hummdesk-chat.js"></script></head>
      <body><main><h1>Shop</h1></main><hummdesk-chat widget-id="demo-widget" ask-email open></hummdesk-chat></body></html>`);
    await customer.goto(`${shop}/xss`);
    await customer.locator('hummdesk-chat input[type=email]').fill('mallory@example.com');
    await customer.locator('hummdesk-chat input[name=name]').fill(payloads[1]!);
    await customer.locator('hummdesk-chat button.start').click();
    await customer.locator('hummdesk-chat .connection', { hasText: 'Connected' }).waitFor();
    for (const p of payloads) {
      await customer.locator('hummdesk-chat textarea').fill(p);
      await customer.locator('hummdesk-chat textarea').press('Enter');
    }
    await waitForCount(customer.locator('hummdesk-chat li.inbound:not(.pending)'), payloads.length);
    expect(await customer.locator('hummdesk-chat li.inbound .bubble').first().innerText()).toBe(payloads[0]);

    // An agent whose name is a payload answers with a payload in text and in HTML.
    const evil = await withAccount(t.hub.db, accountId, (tx) =>
      hashPassword('correct horse battery').then((passwordHash) => insertUser(tx, { accountId, email: `evil-${randomBytes(3).toString('hex')}@x.test`, name: payloads[4]!, role: 'agent', passwordHash })),
    );
    const conversationId = (await t.hub.db.query<{ conversation_id: string }>(`SELECT conversation_id FROM messages WHERE text = $1 ORDER BY sent_at DESC LIMIT 1`, [payloads[0]])).rows[0]!.conversation_id;
    await t.hub.conversations.reply({ accountId, kind: 'user', id: evil.id }, conversationId, {
      text: payloads[3]!,
      html: `<p>hi</p>${payloads.join('')}<a href="https://example.com/ok">fine link</a>`,
    });
    await customer.locator('hummdesk-chat li.outbound .author', { hasText: payloads[4]! }).waitFor();

    const agent = await newPage();
    await login(agent);
    await agent.locator('hummdesk-inbox li[role=option]', { hasText: payloads[1]! }).first().click();
    await agent.locator('hummdesk-conversation li.message.outbound .author', { hasText: payloads[4]! }).waitFor();
    await agent.locator('hummdesk-conversation .html a', { hasText: 'fine link' }).waitFor();

    for (const page of [customer, agent]) {
      // No link the components rendered is a script URL.
      const hrefs = await page.locator('hummdesk-chat a, hummdesk-conversation a, hummdesk-inbox a').evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''));
      for (const href of hrefs) expect(href).not.toMatch(/^\s*javascript:/i);
      // No element anywhere (shadow roots included) carries an event-handler attribute or is a script or frame.
      const dangerous = await page.evaluate(() => {
        const out: string[] = [];
        const walk = (root: Document | ShadowRoot, inComponent: boolean) => {
          for (const el of Array.from(root.querySelectorAll('*'))) {
            for (const a of Array.from(el.attributes)) if (a.name.startsWith('on')) out.push(`${el.tagName} ${a.name}`);
            if (inComponent && /^(SCRIPT|IFRAME|OBJECT|EMBED)$/.test(el.tagName)) out.push(el.tagName);
            if (el.shadowRoot) walk(el.shadowRoot, true);
          }
        };
        walk(document, false);
        return out;
      });
      expect(dangerous).toEqual([]);
      expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    }
    await customer.locator('hummdesk-chat .panel').screenshot({ path: artifactPath('chat-xss-payloads.png') });
  });

  it('sends files picked and dropped, refuses an SVG, offers the agent\'s file as a download, never runs a file name, marks the reply read and shows the agent typing', async () => {
    const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('png body')]);
    // A right-to-left override would show "‮gnp.exe" as "exe.png"; every component shows the name without it.
    const picked = '<img src=x onerror="window.__xss = 11">\u202Egnp.exe.png';
    const pickedShown = '<img src=x onerror="window.__xss = 11">gnp.exe.png';
    const dropped = '"><svg onload="window.__xss = 12">.txt';
    const replied = '<script>window.__xss = 13</script>manual.pdf';
    const customer = await newPage();
    shopPages.set('/files', `<!doctype html><html lang="en"><head><title>Shop</title><script type="module" src="${base}/embed/hummdesk-chat.js"></script></head>
      <body><main><h1>Shop</h1></main><hummdesk-chat widget-id="demo-widget" open></hummdesk-chat></body></html>`);
    await customer.goto(`${shop}/files`);
    await customer.locator('hummdesk-chat .connection', { hasText: 'Connected' }).waitFor();

    // The file picker (behind the attach button), then a drop on the panel.
    await customer.locator('hummdesk-chat input[type=file]').setInputFiles({ name: picked, mimeType: 'image/png', buffer: PNG });
    await customer.locator('hummdesk-chat .staged li', { hasText: pickedShown }).waitFor();
    expect(await customer.locator('hummdesk-chat .staged li').first().innerText()).not.toContain('\u202E');
    const transfer = await customer.evaluateHandle((name) => {
      const dt = new DataTransfer();
      dt.items.add(new File(['a note in plain text'], name, { type: 'text/plain' }));
      return dt;
    }, dropped);
    await customer.locator('hummdesk-chat .panel').dispatchEvent('dragover', { dataTransfer: transfer });
    await customer.locator('hummdesk-chat .panel').dispatchEvent('drop', { dataTransfer: transfer });
    await customer.locator('hummdesk-chat .staged li', { hasText: dropped }).waitFor();

    // The hub refuses a type outside the allow-list, and the widget says so.
    await customer.locator('hummdesk-chat input[type=file]').setInputFiles({ name: 'logo.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg onload="window.__xss = 14"/>') });
    await customer.locator('hummdesk-chat .staged .error', { hasText: 'logo.svg: files of this type cannot be sent.' }).waitFor();

    const text = `my files ${randomBytes(3).toString('hex')}`;
    await customer.locator('hummdesk-chat textarea').fill(text);
    await customer.locator('hummdesk-chat textarea').press('Enter');
    const sent = customer.locator('hummdesk-chat li.inbound:not(.pending)', { hasText: text });
    await waitForCount(sent.locator('a[part=attachment]'), 2);
    expect(await sent.locator('a[part=attachment]').allInnerTexts()).toEqual([pickedShown, dropped]);
    expect(await sent.locator('a[part=attachment]').first().getAttribute('download')).toBe(pickedShown);
    expect(await customer.locator('hummdesk-chat .staged li').count()).toBe(0);

    // The agent answers with a file; the widget offers it as a download signed for this visitor.
    const conversationId = (await t.hub.db.query<{ conversation_id: string }>(`SELECT conversation_id FROM messages WHERE text = $1`, [text])).rows[0]!.conversation_id;
    const agentId = (await t.hub.db.query<{ id: string }>(`SELECT id FROM users WHERE account_id = $1 ORDER BY created_at LIMIT 1`, [accountId])).rows[0]!.id;
    const pdf = Buffer.from('%PDF-1.7 the manual');
    await t.hub.conversations.reply({ accountId, kind: 'user', id: agentId }, conversationId, { text: 'Here is the manual', attachments: [{ name: replied, mimeType: 'application/pdf', content: pdf }] });
    const link = customer.locator('hummdesk-chat li.outbound a[part=attachment]', { hasText: replied });
    await link.waitFor();
    const href = (await link.getAttribute('href'))!;
    expect(href.startsWith(`${base}/webchat/demo-widget/attachments/`)).toBe(true);
    expect(await customer.evaluate((url) => fetch(url).then((r) => r.text()), href)).toBe(pdf.toString());
    // The open widget marks the reply read; an agent typing shows in the widget.
    await eventually(async () => (await t.hub.db.query<{ s: string }>(`SELECT delivery_status s FROM messages WHERE conversation_id = $1 AND text = 'Here is the manual'`, [conversationId])).rows[0]?.s === 'read');
    t.hub.bus.publish(accountId, { type: 'typing', conversationId, by: 'agent', name: 'Demo Agent' });
    await customer.locator('hummdesk-chat .typing', { hasText: 'Demo Agent is typing…' }).waitFor();
    await customer.locator('hummdesk-chat .panel').screenshot({ path: artifactPath('chat-attachments.png') });

    // The agent's conversation view lists the visitor's files by name, as text; a name stored before names were
    // cleaned (the override put back) is shown without it all the same.
    await t.hub.db.query(`UPDATE attachments SET name = $1 WHERE name = $2`, [picked, pickedShown]);
    const agent = await newPage();
    await login(agent);
    await agent.locator(`hummdesk-inbox li[data-id="${conversationId}"]`).click();
    await agent.locator('hummdesk-conversation .attachments li', { hasText: pickedShown }).waitFor();
    expect(await agent.locator('hummdesk-conversation .attachments li', { hasText: pickedShown }).innerText()).not.toContain('\u202E');
    await agent.locator('hummdesk-conversation .attachments li', { hasText: replied }).waitFor();

    for (const page of [customer, agent]) {
      const dangerous = await page.evaluate(() => {
        const out: string[] = [];
        const walk = (root: Document | ShadowRoot) => {
          for (const el of Array.from(root.querySelectorAll('*'))) {
            for (const a of Array.from(el.attributes)) if (a.name.startsWith('on')) out.push(`${el.tagName} ${a.name}`);
            if (el.shadowRoot) {
              for (const bad of Array.from(el.shadowRoot.querySelectorAll('script, iframe, svg[onload], img[onerror]'))) out.push(bad.tagName);
              walk(el.shadowRoot);
            }
          }
        };
        walk(document);
        return out;
      });
      expect(dangerous).toEqual([]);
      expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    }
  });

  it('passes axe without serious or critical violations, and mirrors the widget under dir="rtl"', async () => {
    const agent = await newPage();
    await login(agent);
    await agent.locator('hummdesk-inbox li[role=option]').first().click();
    await agent.locator('hummdesk-conversation li.message').first().waitFor();
    expect(await axeViolations(agent)).toEqual([]);
    const visitor = await newPage();
    await openCustomerSite(visitor);
    await visitor.locator('hummdesk-chat button.launcher').click();
    await visitor.locator('hummdesk-chat .connection', { hasText: 'Connected' }).waitFor();
    expect(await axeViolations(visitor)).toEqual([]);

    const rtl = await newPage();
    shopPages.set('/rtl', `<!doctype html><html lang="fi" dir="rtl"><head><title>Kauppa</title><script type="module" src="${base}/embed/hummdesk-chat.js"></script></head>
      <body><main><h1>Kauppa</h1></main><hummdesk-chat widget-id="demo-widget" ask-email></hummdesk-chat></body></html>`);
    await rtl.goto(`${shop}/rtl`);
    await rtl.locator('hummdesk-chat button.launcher').click();
    await rtl.locator('hummdesk-chat input[type=email]').waitFor();
    expect(await axeViolations(rtl)).toEqual([]);
    await rtl.locator('hummdesk-chat input[type=email]').fill('rtl@example.com');
    await rtl.locator('hummdesk-chat button.start').click();
    await rtl.locator('hummdesk-chat textarea').fill('Hei, tilaukseni?');
    await rtl.locator('hummdesk-chat textarea').press('Enter');
    await rtl.locator('hummdesk-chat li.inbound .delivery', { hasText: 'Lähetetty' }).waitFor();
    const launcher = (await rtl.locator('hummdesk-chat button.launcher').boundingBox())!;
    const bubble = (await rtl.locator('hummdesk-chat li.inbound .bubble').boundingBox())!;
    const panel = (await rtl.locator('hummdesk-chat .panel').boundingBox())!;
    // Mirrored: the launcher sits at the bottom-left, the visitor's own bubble on the panel's left.
    expect(launcher.x).toBeLessThan(640);
    expect(bubble.x - panel.x).toBeLessThan(panel.x + panel.width - (bubble.x + bubble.width));
    await rtl.screenshot({ path: artifactPath('chat-rtl.png') });
  });
  it('after hours: says when it opens and asks for an email, offers CSAT once resolved (shown to the agent), and searches the help center without login', async () => {
    // A second widget of the demo account whose hours begin two hours from now, every day.
    const start = (new Date().getUTCHours() + 2) % 24;
    const window = [[`${String(start).padStart(2, '0')}:00`, `${String(start + 1).padStart(2, '0')}:00`]];
    await withAccount(t.hub.db, accountId, (tx) => insertChannel(tx, t.hub.box, {
      accountId, kind: 'webchat', name: 'After hours', externalKey: 'after-hours-widget',
      secrets: { identitySecret: randomBytes(16).toString('hex'), sessionSecret: randomBytes(16).toString('hex') },
      config: { allowedOrigins: ['*'], businessHours: { timeZone: 'UTC', days: Object.fromEntries(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'].map((d) => [d, window])) } },
    }));
    const article = await app.inject({
      method: 'POST', url: '/api/v1/kb/articles', headers: { 'x-api-key': demo.apiKey },
      payload: { title: 'Gift cards', body: 'Gift cards never expire and can be used in every shop.', url: 'https://shop.example/help/gift-cards' },
    });
    expect(article.statusCode, article.body).toBe(201);
    shopPages.set('/help', `<!doctype html><html lang="en"><head><title>Help</title><script type="module" src="${base}/embed/hummdesk.js"></script></head>
      <body><main><h1>Help center</h1><hummdesk-kb-search widget-id="after-hours-widget" hub="${base}"></hummdesk-kb-search></main>
      <hummdesk-chat widget-id="after-hours-widget" hub="${base}" open></hummdesk-chat></body></html>`);
    const page = await newPage();
    await page.goto(`${shop}/help`);

    // Closed: the widget says until when, asks for an email, and still takes the message.
    const away = page.locator('hummdesk-chat [part=availability]');
    await away.getByText('We are closed until').waitFor();
    await page.locator('hummdesk-chat .reply-email input').fill('night.owl@example.com');
    await page.locator('hummdesk-chat .reply-email input').press('Enter');
    await away.getByText('We will reply by email').waitFor();
    await page.locator('hummdesk-chat #input').fill('Do gift cards expire?');
    await page.locator('hummdesk-chat #input').press('Enter');
    await page.locator('hummdesk-chat li.inbound .delivery', { hasText: 'Sent' }).waitFor();
    // An unverified address: kept on the visitor's identity to answer to, never merged into a contact.
    const conversation = await eventually(async () => (await t.hub.db.query<{ id: string; address: string | null }>(
      `SELECT c.id, ci.address FROM conversations c JOIN channels ch ON ch.id = c.channel_id
       JOIN contact_identities ci ON ci.contact_id = c.contact_id AND ci.channel_id = c.channel_id WHERE ch.external_key = 'after-hours-widget'`,
    )).rows[0]);
    expect(conversation.address).toBe('night.owl@example.com');

    // The help center search next to it, with no login: the published article, no agent-only button.
    await page.locator('hummdesk-kb-search input').fill('gift card expiry');
    await page.locator('hummdesk-kb-search input').press('Enter');
    const hit = page.locator('hummdesk-kb-search li', { hasText: 'Gift cards' }).first();
    await hit.waitFor();
    expect(await hit.locator('a').getAttribute('href')).toBe('https://shop.example/help/gift-cards');
    expect(await hit.locator('button').count()).toBe(0);

    // An agent resolves it: the rating form appears live; the visitor rates once.
    const resolved = await app.inject({ method: 'POST', url: `/api/v1/conversations/${conversation.id}/status`, headers: { 'x-api-key': demo.apiKey }, payload: { status: 'resolved' } });
    expect(resolved.statusCode, resolved.body).toBe(200);
    const csat = page.locator('hummdesk-chat form.csat');
    await csat.waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: artifactPath('chat-after-hours-csat.png') });
    await csat.locator('button[aria-label="4 of 5"]').click();
    await csat.locator('textarea').fill('Quick answer, thanks');
    await csat.locator('button[type=submit]').click();
    await page.locator('hummdesk-chat p.csat', { hasText: 'Thanks for your feedback' }).waitFor();

    // The agent sees the rating on the conversation.
    const agent = await newPage();
    await login(agent);
    await agent.locator('hummdesk-conversation').evaluate((el, id) => el.setAttribute('conversation-id', id), conversation.id);
    const badge = agent.locator('hummdesk-conversation .csat');
    await badge.waitFor();
    expect(await badge.innerText()).toContain('Quick answer, thanks');
    expect(await badge.locator('.sr-only').innerText()).toBe('4 of 5');
  });
});
