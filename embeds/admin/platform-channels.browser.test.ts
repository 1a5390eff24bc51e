import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoCredentials } from '../../hub/services/demo.js';
import type { TestHub } from '../../hub/testing/harness.js';
import { startDeskTest } from '../../hub/testing/desk.js';
import { GraphEmulator } from '../../connectors/meta/testing/emulator.js';
import { artifactPath, axeViolations, openConsole } from '../testing.js';

const NUMBER = '106540352242922';
const PAGE = '300000000000421';

describe('admin console: WhatsApp, Messenger, a linked phone and Teams added from the page', { timeout: 240_000 }, () => {
  let t: TestHub;
  let graph: GraphEmulator;
  let browser: Browser;
  let base: string;
  let demo: DemoCredentials;
  let close: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    graph = await GraphEmulator.start();
    graph.addNumber({ id: NUMBER, token: 'wa-token-right', verifiedName: 'Kauppa Oy' });
    graph.addPage({ id: PAGE, name: 'Kauppa', token: 'page-token-right' });
    ({ t, base, demo, browser, close } = await startDeskTest({ jobs: false, env: { HUMMDESK_META_APP_SECRET: 's', HUMMDESK_META_VERIFY_TOKEN: 'v', HUMMDESK_META_GRAPH_URL: graph.url } }));
  }, 120_000);
  afterAll(async () => {
    await close?.();
    await graph?.close();
  });

  async function console_(): Promise<Page> {
    const page = await openConsole(browser, base, demo);
    await page.locator('hummdesk-admin-channels [data-add=whatsapp]').waitFor();
    return page;
  }

  it('checks the form first, shows the hub\'s refusal with its code keeping what was typed, then connects', async () => {
    const page = await console_();
    const channels = page.locator('hummdesk-admin-channels');
    await channels.locator('[data-add=whatsapp]').click();
    const form = channels.locator('form[data-kind=whatsapp]');
    const before = graph.requests.length;
    await form.locator('button[type=submit]').click();
    expect(await form.locator('.field-error').allInnerTexts()).toEqual(expect.arrayContaining(['Give the channel a name.', "The phone number id is digits only, as Meta's console shows it."]));
    // Checked in the page: nothing reached the hub, so nothing reached Meta.
    expect(graph.requests.length).toBe(before);

    await form.locator('#whatsapp-name').fill('Support WhatsApp');
    await form.locator('#whatsapp-key').fill(NUMBER);
    await form.locator('#whatsapp-token').fill('wa-token-wrong');
    await form.locator('button[type=submit]').click();
    const refusal = form.locator('.notice.error');
    await refusal.waitFor();
    expect(await refusal.getAttribute('data-code')).toBe('channel_auth_failed');
    expect(await form.locator('#whatsapp-key').inputValue()).toBe(NUMBER);
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: artifactPath('admin-platform-refused-1440.png') });

    await form.locator('#whatsapp-token').fill('wa-token-right');
    await form.locator('button[type=submit]').click();
    await channels.locator('[data-platform-done]').waitFor();
    await channels.locator(`tr[data-kind=whatsapp]`, { hasText: NUMBER }).waitFor();

    await channels.locator('[data-add=messenger]').click();
    const ms = channels.locator('form[data-kind=messenger]');
    await ms.locator('#messenger-name').fill('Facebook Page');
    await ms.locator('#messenger-key').fill(PAGE);
    await ms.locator('#messenger-token').fill('page-token-right');
    await ms.locator('button[type=submit]').click();
    await channels.locator(`tr[data-kind=messenger]`, { hasText: PAGE }).waitFor();
    await page.context().close();
  });

  it('creates a linked phone (its row says it is unofficial) and refuses a Teams code nobody was given', async () => {
    const page = await console_();
    const channels = page.locator('hummdesk-admin-channels');
    expect(await channels.locator('[data-kind="whatsapp-web"]').first().textContent()).toContain('WhatsApp may ban numbers');
    await channels.locator('[data-add="whatsapp-web"]').click();
    const phone = channels.locator('form[data-kind="whatsapp-web"]');
    await phone.locator('#whatsapp-web-name').fill('Shop phone');
    await phone.locator('button[type=submit]').click();
    await channels.locator('tr[data-kind="whatsapp-web"]', { hasText: 'Shop phone' }).waitFor();

    await channels.locator('[data-add=teams]').click();
    const teams = channels.locator('form[data-kind=teams]');
    await teams.locator('#teams-key').fill('x');
    await teams.locator('button[type=submit]').click();
    expect(await teams.locator('#teams-key-error').innerText()).toContain('8-character code');
    await teams.locator('#teams-key').fill('ABCD-2345');
    await teams.locator('button[type=submit]').click();
    await teams.locator('.notice.error').waitFor();
    expect(await teams.locator('.notice.error').getAttribute('data-code')).toBe('teams_link_code_invalid');
    expect(await teams.locator('#teams-key').inputValue()).toBe('ABCD-2345');
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: artifactPath('admin-platform-teams-1440.png') });
    await page.context().close();
  });
});
