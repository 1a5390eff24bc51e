import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoCredentials } from '../../hub/services/demo.js';
import type { TestHub } from '../../hub/testing/harness.js';
import { startDeskTest } from '../../hub/testing/desk.js';
import { artifactPath, axeViolations, customerSite, submitLogin } from '../testing.js';

const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const PNG = Buffer.from(PNG_BASE64, 'base64');

/**
 * The composer's files in real Chromium: picked, dropped and pasted, each uploaded at once; a refused one
 * shows the hub's code and can be removed; the reply carries the rest to the customer's web chat, where
 * the image previews and the file downloads, and the agent's thread shows them too.
 */
describe('composer attachments', { timeout: 300_000 }, () => {
  let t: TestHub;
  let browser: Browser;
  let base: string;
  let demo: DemoCredentials;
  let close: (() => Promise<void>) | undefined;
  let site: Awaited<ReturnType<typeof customerSite>>;

  beforeAll(async () => {
    ({ t, base, demo, browser, close } = await startDeskTest());
    site = await customerSite(base);
  }, 120_000);
  afterAll(async () => {
    await site?.close();
    await close?.();
  });

  const newPage = async (): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    context.setDefaultTimeout(60_000);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
    return page;
  };

  /** Puts files on the composer as a drop or a paste does (Chromium builds real DataTransfer objects). */
  const dispatchFiles = (page: Page, how: 'drop' | 'paste', files: { name: string; type: string; base64: string }[]) =>
    page.evaluate(({ how, files }) => {
      const root = document.querySelector('hummdesk-conversation')!.shadowRoot!;
      const data = new DataTransfer();
      for (const f of files) data.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
      if (how === 'paste') root.querySelector('textarea')!.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true, composed: true }));
      else {
        const form = root.querySelector('form[part~=composer]')!;
        form.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true, composed: true }));
        form.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true, composed: true }));
      }
    }, { how, files });

  it('picks, drops and pastes files, shows a refusal, and sends the rest to the web chat customer', async () => {
    const customer = await newPage();
    await customer.goto(site.url);
    await customer.locator('hummdesk-chat button.launcher').click();
    await customer.locator('hummdesk-chat .connection', { hasText: 'Connected' }).waitFor();
    await customer.locator('hummdesk-chat textarea').fill('Could you send me the invoice and a screenshot?');
    await customer.keyboard.press('Enter');
    await customer.locator('hummdesk-chat li.inbound .delivery', { hasText: 'Sent' }).waitFor();

    const agent = await newPage();
    await agent.goto(`${base}/`);
    await submitLogin(agent, demo);
    await agent.locator('hummdesk-inbox li[role=option]', { hasText: 'Could you send me the invoice' }).click();
    const view = agent.locator('hummdesk-conversation');
    await view.locator('li.message.inbound', { hasText: 'invoice' }).waitFor();

    // The picker: a PDF and a page the hub refuses.
    await view.locator('#attach-input').setInputFiles([
      { name: 'invoice-42.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.7\n%%EOF') },
      { name: 'page.html', mimeType: 'text/html', buffer: Buffer.from('<script>alert(1)</script>') },
    ]);
    // A drop and a pasted screenshot.
    await dispatchFiles(agent, 'drop', [{ name: 'notes.txt', type: 'text/plain', base64: Buffer.from('tracking 123').toString('base64') }]);
    await dispatchFiles(agent, 'paste', [{ name: 'image.png', type: 'image/png', base64: PNG_BASE64 }]);

    const staged = view.locator('ul[part=staged-files] li');
    await expect.poll(() => staged.evaluateAll((lis) => lis.map((li) => li.getAttribute('data-state')))).toEqual(['ready', 'failed', 'ready', 'ready']);
    const refused = staged.filter({ hasText: 'page.html' });
    expect(await refused.locator('[data-code]').getAttribute('data-code')).toBe('upload_type_not_allowed');
    const pasted = staged.nth(3);
    expect(await pasted.getAttribute('data-name')).toMatch(/^pasted-image-.*\.png$/);
    await expect.poll(() => pasted.locator('img').evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(1);
    expect(await axeViolations(agent)).toEqual([]);
    await view.screenshot({ path: artifactPath('composer-files-1440.png') });
    await refused.locator('button.unstage').click();
    await expect.poll(() => staged.count()).toBe(3);

    await view.locator('textarea').fill('Here are the invoice, my notes and a screenshot.');
    await view.locator('button.send').click();
    const sent = view.locator('li.message.outbound', { hasText: 'Here are the invoice' });
    await sent.waitFor();
    await expect.poll(() => staged.count()).toBe(0);
    // The agent's thread: the image previews, each file downloads by its signed link.
    await expect.poll(() => sent.locator('.attachments img').evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(1);
    expect(await sent.locator('.attachments a.download').allInnerTexts()).toEqual([expect.stringMatching(/^invoice-42\.pdf/), 'notes.txt', expect.stringMatching(/^pasted-image-/)]);

    // The customer's widget shows the agent's files: the image inline, every file as a download.
    const reply = customer.locator('hummdesk-chat li.outbound', { hasText: 'Here are the invoice' });
    await reply.waitFor();
    expect(await reply.locator('a[part=attachment]').allInnerTexts()).toEqual(['invoice-42.pdf', 'notes.txt', expect.stringMatching(/^pasted-image-/)]);
    await expect.poll(() => reply.locator('img[part=attachment-image]').evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(1);
    const [download] = await Promise.all([customer.waitForEvent('download'), reply.locator('a[part=attachment]', { hasText: 'notes.txt' }).click()]);
    expect(download.suggestedFilename()).toBe('notes.txt');
    await customer.locator('hummdesk-chat .panel').screenshot({ path: artifactPath('chat-agent-files.png') });
    await agent.context().close();
    await customer.context().close();
  });
});
