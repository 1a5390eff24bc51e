import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findInstallation } from '../../storage/repositories/channels.js';
import type { DemoCredentials } from '../../hub/services/demo.js';
import type { TestHub } from '../../hub/testing/harness.js';
import { startDeskTest } from '../../hub/testing/desk.js';
import { artifactPath, submitLogin } from '../testing.js';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');

/** A customer's image previews inline and files download, by signed links; right-to-left text reads right. */
describe('conversation view: files and right-to-left text', { timeout: 180_000 }, () => {
  let t: TestHub;
  let browser: Browser;
  let base: string;
  let demo: DemoCredentials;
  let close: (() => Promise<void>) | undefined;
  let conversationId: string;

  beforeAll(async () => {
    ({ t, base, demo, browser, close } = await startDeskTest({ jobs: false }));
    const channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: demo.webchatChannelId }))!;
    const [o] = await t.hub.ingest.ingest(channel, [{
      type: 'message',
      message: {
        channel: { kind: 'webchat', channelId: channel.id }, externalId: 'files-1', threadKey: `webchat:${channel.id}:files`, direction: 'inbound',
        sender: { externalId: 'v-files', displayName: 'Dana', isBot: false }, sentAt: new Date().toISOString(), text: 'שלום, המשלוח שלי נשבר',
        attachments: [
          { kind: 'image', name: 'broken.png', mimeType: 'image/png', size: PNG.length, ref: `inline:${PNG.toString('base64')}` },
          { kind: 'file', name: 'receipt.txt', mimeType: 'text/plain', size: 5, ref: `inline:${Buffer.from('12345').toString('base64')}` },
        ],
        raw: {},
      },
    }]);
    conversationId = o!.conversationId!;
  }, 120_000);
  afterAll(async () => {
    await close?.();
  });

  it('shows the image, offers the file as a download, and sets the Hebrew message right to left', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    context.setDefaultTimeout(30_000);
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await submitLogin(page, demo);
    await page.locator(`hummdesk-inbox li[data-id="${conversationId}"]`).click();
    const message = page.locator('hummdesk-conversation li.message.inbound');
    await message.waitFor();
    const img = message.locator('.attachments img');
    await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(1);
    expect(await img.getAttribute('alt')).toBe('broken.png');
    const download = message.locator('.attachments li.file a.download');
    expect(await download.innerText()).toBe('receipt.txt');
    const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
    expect(file.suggestedFilename()).toBe('receipt.txt');
    expect(await message.locator('.text').evaluate((el) => getComputedStyle(el).direction)).toBe('rtl');
    await page.locator('hummdesk-conversation').screenshot({ path: artifactPath('conversation-files-1440.png') });
    await context.close();
  });
});
