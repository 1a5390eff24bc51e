import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoCredentials } from '../../hub/services/demo.js';
import type { TestHub } from '../../hub/testing/harness.js';
import { startDeskTest } from '../../hub/testing/desk.js';
import { axeViolations, openConsole } from '../testing.js';

/** The people screen's skills (what skill-based routing matches on), in real Chromium. */
describe('admin console: agent skills', { timeout: 180_000 }, () => {
  let t: TestHub;
  let browser: Browser;
  let base: string;
  let demo: DemoCredentials;
  let close: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ t, base, demo, browser, close } = await startDeskTest({ jobs: false }));
  }, 120_000);
  afterAll(async () => {
    await close?.();
  });

  const storedSkills = async () =>
    (await t.hub.db.query<{ skills: string[] }>(`SELECT skills FROM users WHERE email = $1`, [demo.email])).rows[0]!.skills;

  it("shows the hub's refusal with its code keeping what was typed, then saves the skills once each, in lower case", async () => {
    const page = await openConsole(browser, base, demo);
    await page.locator('hummdesk-admin [role=tab][data-screen=people]').click();
    const people = page.locator('hummdesk-admin-people');
    const me = people.locator('tr[data-id]', { hasText: demo.email });
    const input = me.locator('[data-action=skills]');

    const tooLong = `billing, ${'x'.repeat(101)}`;
    await input.fill(tooLong);
    await input.press('Enter');
    const refusal = me.locator('.notice.error');
    await refusal.waitFor();
    expect(await refusal.innerText()).toMatch(/^Skills not saved: .+ \(\w+\)$/);
    expect(await input.inputValue()).toBe(tooLong);
    expect(await storedSkills()).toEqual([]);

    await input.fill('Billing, lang:fi, billing');
    await input.press('Enter');
    await me.locator('.notice.ok', { hasText: 'Skills saved.' }).waitFor();
    expect(await storedSkills()).toEqual(['billing', 'lang:fi']);
    expect(await input.inputValue()).toBe('billing, lang:fi');
    expect(await axeViolations(page)).toEqual([]);
  });
});
