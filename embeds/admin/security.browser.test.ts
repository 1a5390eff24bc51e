import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoCredentials } from '../../hub/services/demo.js';
import type { TestHub } from '../../hub/testing/harness.js';
import { startDeskTest } from '../../hub/testing/desk.js';
import { artifactPath, axeViolations, openConsole } from '../testing.js';
import { csvField } from './security.component.js';
import { findInstallation } from '../../storage/repositories/channels.js';
import { insertDraft } from '../../storage/repositories/ai.js';
import { withAccount } from '../../storage/session.js';

/** API keys (shown once, revoked) and the audit log (filtered, exported) in the admin console, in real Chromium. */
describe('admin console: API keys, audit log and AI figures', { timeout: 240_000 }, () => {
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
  }, 120_000);

  it('creates a key shown once that works, revokes it, and exports the filtered audit log as CSV', async () => {
    const page = await openConsole(browser, base, demo, { viewport: { width: 1440, height: 900 }, acceptDownloads: true });
    const context = page.context();
    await page.locator('[role=tab][data-screen=security]').click();
    const sec = page.locator('hummdesk-admin-security');
    await sec.locator('table[part=keys]').waitFor();

    await sec.locator('form button[type=submit]', { hasText: 'Create key' }).click();
    expect(await sec.locator('#key-name-error').innerText()).toContain('Name the key');
    await sec.locator('#key-name').fill('=CRM sync');
    await sec.locator('#key-role').selectOption('viewer');
    await sec.locator('form button[type=submit]', { hasText: 'Create key' }).click();
    const key = await sec.locator('#new-key').innerText();
    expect(key).toMatch(/^hd_/);
    const asKey = () => t.app.inject({ url: '/api/v1/conversations', headers: { authorization: `Bearer ${key}` } });
    expect((await asKey()).statusCode).toBe(200);
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: artifactPath('admin-keys-1440.png') });
    await sec.locator('[data-action=dismiss-key]').click();
    expect(await sec.locator('#new-key').count()).toBe(0);

    const row = sec.locator('tr', { hasText: '=CRM sync' });
    await row.locator('[data-action=revoke]').click();
    await row.locator('[data-action=confirm-revoke]').click();
    await row.locator('[data-state=revoked]').waitFor();
    expect((await asKey()).statusCode).toBe(401);

    await sec.locator('#audit-target').selectOption('api_key');
    await sec.locator('form[aria-label="Filter the audit log"] button[type=submit]').click();
    await expect.poll(async () => (await sec.locator('table[part=audit] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')))).sort()).toEqual(['api_key.created', 'api_key.created', 'api_key.revoked']);
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: artifactPath('admin-audit-1440.png') });

    const [download] = await Promise.all([page.waitForEvent('download'), sec.locator('[data-action=export]').click()]);
    const csv = readFileSync((await download.path())!, 'utf8');
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('time,actor kind,actor id,action,target kind,target id,data');
    expect(lines.slice(1).map((l) => l.split(',')[3]).sort()).toEqual(['api_key.created', 'api_key.created', 'api_key.revoked']);
    await context.close();
  });

  it('shows how agents used the AI drafts', async () => {
    const accountId = (await t.hub.db.query<{ id: string }>(`SELECT id FROM accounts WHERE slug = 'demo'`)).rows[0]!.id;
    const channelId = (await t.hub.db.query<{ id: string }>(`SELECT id FROM channels WHERE account_id = $1 AND kind = 'webchat' LIMIT 1`, [accountId])).rows[0]!.id;
    const channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: channelId }))!;
    // Four decided drafts: two sent as is, one edited, one rejected → 75 % acceptance, 50 % unchanged.
    for (const status of ['accepted', 'accepted', 'edited', 'rejected']) {
      const [o] = await t.hub.ingest.ingest(channel, [{ type: 'message', message: {
        channel: { kind: 'webchat', channelId }, externalId: `ai-${status}-${Math.random()}`, threadKey: `webchat:${channelId}:ai-${Math.random()}`, direction: 'inbound',
        sender: { externalId: `v-${Math.random()}`, isBot: false }, sentAt: new Date().toISOString(), text: 'Where is my parcel?', attachments: [], raw: {} } }]);
      await withAccount(t.hub.db, accountId, async (tx) => {
        const id = await insertDraft(tx, { accountId, conversationId: o!.conversationId!, messageId: o!.messageId!, aiResultId: null, text: 'Your parcel is on its way.', extractive: true, citations: [] });
        await tx.query(`UPDATE drafts SET status = $2, final_text = CASE WHEN $2 = 'edited' THEN 'Your parcel is on its way today.' END WHERE id = $1`, [id, status]);
      });
    }
    const page = await openConsole(browser, base, demo, { viewport: { width: 1440, height: 900 } });
    const context = page.context();
    await page.locator('[role=tab][data-screen=ai]').click();
    const ai = page.locator('hummdesk-admin-ai');
    await ai.locator('[data-figure=acceptance]').waitFor();
    expect(await ai.locator('[data-figure=decided]').innerText()).toBe('4 (2 sent as is, 1 edited, 1 rejected)');
    expect(await ai.locator('[data-figure=acceptance]').innerText()).toBe('75 %');
    expect(await ai.locator('[data-figure=unchanged]').innerText()).toBe('50 %');
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: artifactPath('admin-ai-1440.png') });
    await context.close();
  });

  it('quotes CSV fields and defuses formulas', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvField(null)).toBe('');
    expect(csvField({ name: 'k' })).toBe('"{""name"":""k""}"');
  });
});
