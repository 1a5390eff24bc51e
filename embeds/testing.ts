import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContextOptions, type Locator, type Page } from 'playwright-core';

/** Test support for the browser tests: Debian's Chromium, never a downloaded browser. */
export const CHROMIUM = process.env.HUMMDESK_CHROMIUM ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A new browser context signed in on the hub's page at / and showing the admin console (Settings). */
export async function openConsole(browser: Browser, base: string, who: { email: string; password: string }, options: BrowserContextOptions = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 1200 }, ...options });
  context.setDefaultTimeout(45_000);
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err.message));
  await page.goto(`${base}/`);
  await submitLogin(page, who);
  await page.locator('hummdesk-inbox ul[role=listbox]').waitFor();
  await page.locator('#settings').click();
  return page;
}

/** Types `who`'s email and password into the sign-in form of the page at / (already open) and submits it. */
export async function submitLogin(page: Page, who: { email: string; password: string }): Promise<void> {
  await page.locator('#login-email').fill(who.email);
  await page.locator('#login-password').fill(who.password);
  await page.locator('#login-form button[type=submit]').click();
}

export const ARTIFACTS = new URL('../test-artifacts/', import.meta.url);

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return new URL(name, ARTIFACTS).pathname;
}

export const axeSource = (): string => readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Serious and critical axe violations on the page (shadow roots included). */
export async function axeViolations(page: Page): Promise<{ id: string; impact: string; help: string; targets: string[] }[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource());
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: unknown): Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
    return axe.run(document, { resultTypes: ['violations'] });
  });
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => JSON.stringify(n.target)) }));
}

/** Whether the focused element, followed into shadow roots, matches `selector`. */
export function focusMatches(page: Page, selector: string): Promise<boolean> {
  return page.evaluate((sel) => {
    let a: Element | null = document.activeElement;
    while (a?.shadowRoot?.activeElement) a = a.shadowRoot.activeElement;
    return Boolean(a?.matches(sel));
  }, selector);
}

/** Presses Tab (keyboard only) until the focused element matches `selector`. */
export async function tabTo(page: Page, selector: string, maxPresses = 60): Promise<void> {
  for (let i = 0; i < maxPresses; i++) {
    if (await focusMatches(page, selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

/** Waits until the locator matches exactly `n` elements (Playwright's auto-waiting has no count wait in playwright-core). */
export async function waitForCount(locator: Locator, n: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const count = await locator.count();
    if (count === n) return;
    if (Date.now() > deadline) throw new Error(`expected ${n} elements, found ${count}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A customer's site on its own origin with the widget's two-line embed (the page at / is the desk alone):
 * `url` serves it until `close()`.
 */
export async function customerSite(base: string, widgetId = 'demo-widget'): Promise<{ url: string; close(): Promise<void> }> {
  const html = `<!doctype html><html lang="en"><head><title>Shop</title><script type="module" src="${base}/embed/hummdesk-chat.js"></script></head>
    <body><main><h1>Shop</h1><p>Write to support with the chat button.</p></main><hummdesk-chat widget-id="${widgetId}"></hummdesk-chat></body></html>`;
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
