import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../../embeds/testing.js';
import { seedDemo, type DemoCredentials } from '../services/demo.js';
import { startTestHub, type TestHub } from './harness.js';

/** What a browser test of the page at / starts with. */
export interface DeskTest {
  t: TestHub;
  /** The hub's address, listening on loopback. */
  base: string;
  /** The demo account's owner login, web chat channel and admin API key, as `npm start` seeds them. */
  demo: DemoCredentials;
  accountId: string;
  browser: Browser;
  /** Closes the browser, then the hub (its database and data folder too). */
  close(): Promise<void>;
}

/**
 * A test hub listening on a free port, with the demo account seeded as `npm start` does, and Debian's
 * Chromium: the set-up every browser test of the desk and the console shares.
 */
export async function startDeskTest(opts: Parameters<typeof startTestHub>[0] = {}): Promise<DeskTest> {
  const t = await startTestHub(opts);
  try {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const seeded = await seedDemo(t.hub.db, t.hub.box, t.config.dataDir, base);
    const browser = await launchChromium();
    return {
      t, base, demo: seeded.credentials!, accountId: seeded.accountId, browser,
      async close() {
        await browser.close();
        await t.close();
      },
    };
  } catch (err) {
    await t.close();
    throw err;
  }
}
