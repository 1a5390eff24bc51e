import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertChannel } from '../../storage/repositories/channels.js';
import { withAccount } from '../../storage/session.js';
import type { DemoCredentials } from '../../hub/services/demo.js';
import { claimLease, checkpointStore } from '../../hub/listeners.js';
import type { TestHub } from '../../hub/testing/harness.js';
import { startDeskTest } from '../../hub/testing/desk.js';
import { LINK_KEY } from '../../connectors/whatsapp/web/session.js';
import { openConsole } from '../testing.js';

// The admin console shows a linked phone's QR as an image a phone can scan: decoded here by zbar.
const zbar = ['/usr/bin/zbarimg', '/usr/local/bin/zbarimg'].find((p) => existsSync(p));
if (!zbar) console.warn('SKIPPED (QR decoding): zbarimg is not installed (apt-get install zbar-tools)');
const QR = `2@${'Ab3/+x'.repeat(20)},${'q'.repeat(43)}=,${'Z'.repeat(43)}=,${'k'.repeat(43)}=`;

describe('admin console: a whatsapp-web channel waiting for its phone', { timeout: 180_000 }, () => {
  let t: TestHub;
  let browser: Browser;
  let base: string;
  let demo: DemoCredentials;
  let close: (() => Promise<void>) | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'hummdesk-admin-qr-'));

  beforeAll(async () => {
    let accountId: string;
    ({ t, base, demo, accountId, browser, close } = await startDeskTest({ jobs: false }));
    const channel = await withAccount(t.hub.db, accountId, (tx) => insertChannel(tx, t.hub.box, { accountId, kind: 'whatsapp-web', name: 'Support phone', externalKey: 'waweb_admin' }));
    // What a hub running the phone writes while it waits for the scan.
    await claimLease(t.hub, accountId, channel.id, 'a-hub', 600_000);
    await checkpointStore(t.hub, accountId, channel.id).set(LINK_KEY, { state: 'qr_required', qr: QR, updatedAt: new Date().toISOString() });
  }, 120_000);
  afterAll(async () => {
    await close?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the state, the unofficial warning, and a QR that decodes to what WhatsApp asked for', async () => {
    const page = await openConsole(browser, base, demo);
    const row = page.locator('hummdesk-admin-channels tr[data-kind="whatsapp-web"]');
    await row.locator('.link[data-link-state="qr_required"]').waitFor();
    expect(await row.textContent()).toContain('WhatsApp may ban numbers');
    const img = row.locator('.qr img');
    await img.scrollIntoViewIfNeeded();
    expect(await img.getAttribute('src')).toMatch(/^data:image\/svg\+xml,/);
    if (zbar) {
      const file = join(dir, 'qr.png');
      writeFileSync(file, await img.screenshot());
      expect(execFileSync(zbar, ['--raw', '-q', '-Sbinary', file], { stdio: ['ignore', 'pipe', 'ignore'] }).toString('utf8').replace(/\n$/, '')).toBe(QR);
    }
    await page.context().close();
  });
});
