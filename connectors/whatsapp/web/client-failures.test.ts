import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { libraryWebCacheFactory, realClientFactory } from './client.js';
import type { WaWebSessionStore } from './port.js';
import { FakeWaWebClient } from './testing/fake-client.js';

const dir = mkdtempSync(join(tmpdir(), 'hummdesk-waweb-failures-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Logged = { level: string; msg: string; data?: Record<string, unknown> };

describe('failures whatsapp-web.js leaves unhandled are caught and logged with a stable code', () => {
  it('a web-cache write that fails (a file where the cache folder goes) is logged, and the way to ready goes on', async () => {
    const dataPath = join(dir, 'cache', 'local');
    mkdirSync(join(dir, 'cache'));
    writeFileSync(join(dir, 'cache', 'web-cache'), 'a file in the way');
    const logged: Logged[] = [];
    // Any executable passes the check: no browser starts before initialize().
    const client = (await realClientFactory({ clientId: 'c-cache', executablePath: process.execPath, auth: { kind: 'local', dataPath }, log: (level, msg, data) => void logged.push({ level, msg, data }) })) as unknown as {
      options: { webVersionCache: { type: string } & Record<string, unknown> };
    };
    // What the library's Client does once WhatsApp Web has synced, before it emits 'ready' (src/Client.js).
    const { type, ...options } = client.options.webVersionCache;
    await expect(libraryWebCacheFactory().createWebCache(type, options).persist('<html></html>', '2.3000.0')).resolves.toBeUndefined();
    expect(logged).toEqual([expect.objectContaining({ level: 'warn', data: expect.objectContaining({ code: 'whatsapp_web_cache_write_failed', channelId: 'c-cache', err: expect.stringMatching(/EEXIST|ENOTDIR/) }) })]);
  });

  it('RemoteAuth\'s backups (the first once ready, then each interval) that fail are logged, not left as unhandled rejections', async () => {
    let storeDown = false;
    const down = async () => {
      if (storeDown) throw new Error('database unavailable');
      return false;
    };
    const store: WaWebSessionStore = { sessionExists: down, save: async () => void (await down()), extract: async () => {}, delete: async () => {} };
    const logged: Logged[] = [];
    const client = new FakeWaWebClient({ clientId: 'c-backup', executablePath: '', auth: { kind: 'remote', store, dataPath: join(dir, 'remote') }, log: (level, msg, data) => void logged.push({ level, msg, data }) });
    const strategy = client.authStrategy as typeof client.authStrategy & { afterAuthReady(): Promise<void> };
    // The profile folder as the browser leaves it.
    await strategy.beforeBrowserInitialized();
    mkdirSync(join(strategy.userDataDir!, 'Default'), { recursive: true });
    storeDown = true;
    // The library calls both without awaiting them: each must settle without a rejection.
    await expect(strategy.storeRemoteSession!()).resolves.toBeUndefined();
    await expect(strategy.afterAuthReady()).resolves.toBeUndefined();
    expect(logged.map((l) => l.data?.code)).toEqual(['whatsapp_web_session_backup_failed', 'whatsapp_web_session_backup_failed']);
    expect(logged[0]!.data).toMatchObject({ channelId: 'c-backup', err: 'database unavailable' });
  });
});
