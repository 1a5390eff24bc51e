import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ConnectorError } from '../../core/errors.js';
import type { WaWebClientFactory, WaWebClientOptions, WaWebClientPort, WaWebSessionStore } from './port.js';

/** The system Chromium whatsapp-web.js drives; never a browser a package downloaded. */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** Fails with `chromium_not_found` unless `path` is an executable file. */
export function checkChromium(path: string): string {
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    throw new ConnectorError(
      `no Chromium at ${path}: install the system package (apt-get install chromium) or set HUMMDESK_WHATSAPP_WEB_CHROMIUM to its path`,
      'whatsapp-web',
      'chromium_not_found',
    );
  }
}

/** What the Client calls on its auth strategy before it starts the browser (the library's AuthStrategy). */
interface PreparesProfile {
  beforeBrowserInitialized(): Promise<void>;
}

/** RemoteAuth's backups: the first once linked and then one per interval, all started by the library without awaiting them. */
interface BacksUpProfile extends PreparesProfile {
  afterAuthReady(): Promise<void>;
  storeRemoteSession(options?: { emit?: boolean }): Promise<void>;
}

/**
 * The library's auth strategy for a channel: LocalAuth (a browser profile on this disk) or RemoteAuth
 * (`config.auth: "remote"`: the profile zipped into the hub's database through `opts.auth.store`).
 * The real Client and the test fake both build it here, from the library's own classes.
 */
export function authStrategyOf<L extends PreparesProfile, R extends PreparesProfile>(
  lib: {
    LocalAuth: new (o: { clientId: string; dataPath: string }) => L;
    RemoteAuth: new (o: { clientId: string; dataPath: string; store: WaWebSessionStore; backupSyncIntervalMs: number }) => R;
  },
  opts: Pick<WaWebClientOptions, 'clientId' | 'auth' | 'log'>,
): L | R {
  return opts.auth.kind === 'local'
    ? reportProfileFailures(new lib.LocalAuth({ clientId: opts.clientId, dataPath: opts.auth.dataPath }), 'preparing the linked phone\'s session folder failed')
    : reportBackupFailures(
        reportProfileFailures(
          new lib.RemoteAuth({ clientId: opts.clientId, dataPath: opts.auth.dataPath, store: opts.auth.store, backupSyncIntervalMs: opts.auth.backupSyncIntervalMs ?? 5 * 60_000 }),
          'restoring the linked phone\'s session from the database failed',
        ),
        opts,
      );
}

/**
 * RemoteAuth's backups run from a timer and from the 'ready' path without anyone awaiting them: a failure
 * (the store, a full disk) would be an unhandled rejection that ends the hub. Logged as
 * `whatsapp_web_session_backup_failed` instead; the next interval tries again.
 */
function reportBackupFailures<S extends PreparesProfile>(remoteAuth: S, opts: Pick<WaWebClientOptions, 'clientId' | 'log'>): S {
  // The library's typings leave these two out; RemoteAuth has both.
  const strategy = remoteAuth as S & BacksUpProfile;
  const report = (err: unknown) =>
    opts.log?.('warn', 'backing up the linked phone\'s session to the database failed', { code: 'whatsapp_web_session_backup_failed', channelId: opts.clientId, err: err instanceof Error ? err.message : String(err) });
  const store = strategy.storeRemoteSession.bind(strategy);
  strategy.storeRemoteSession = (options) => store(options).catch(report);
  const ready = strategy.afterAuthReady.bind(strategy);
  strategy.afterAuthReady = () => ready().catch(report);
  return strategy;
}

/** The library's web-cache factory (CommonJS, shared with its Client), the one part of it the guard below replaces. */
interface WebCacheFactory {
  createWebCache(type: string, options: Record<string, unknown>): { persist(indexHtml: string, version: string): Promise<void> };
}

/** The `webVersionCache` option's key through which the guard finds who to tell about a failed write. */
const CACHE_WRITE_FAILED = 'onWriteFailed';

/**
 * The library writes WhatsApp Web's page into its local cache on the way to 'ready', unguarded: a failed write
 * (a full or read-only disk) kept the session from ever becoming ready, and was reported as WhatsApp Web
 * unreachable. The cache only spares a download: a failed write is passed to the cache option's
 * `onWriteFailed` and the session goes on. Installed once per process, on the factory the Client calls.
 */
export function guardWebCacheWrites(factory: WebCacheFactory): void {
  const create = factory.createWebCache as WebCacheFactory['createWebCache'] & { guarded?: true };
  if (create.guarded) return;
  const guarded = Object.assign((type: string, options: Record<string, unknown>) => {
    const cache = create(type, options);
    const failed = options[CACHE_WRITE_FAILED];
    if (typeof failed !== 'function') return cache;
    const persist = cache.persist.bind(cache);
    cache.persist = (indexHtml, version) => persist(indexHtml, version).catch((err: unknown) => void failed(err));
    return cache;
  }, { guarded: true as const });
  factory.createWebCache = guarded;
}

/** The library's web-cache factory module, as its Client requires it. */
export function libraryWebCacheFactory(): WebCacheFactory {
  return createRequire(import.meta.url)('whatsapp-web.js/src/webCache/WebCacheFactory.js') as WebCacheFactory;
}

/**
 * The session's profile is made ready (RemoteAuth: read from the store, written and unzipped onto this disk)
 * before any browser starts, so a failure there (a full or read-only disk, the store) is reported as
 * `whatsapp_web_session_store_failed` with its reason, not as WhatsApp Web being unreachable.
 */
function reportProfileFailures<S extends PreparesProfile>(strategy: S, what: string): S {
  const prepare = strategy.beforeBrowserInitialized.bind(strategy);
  strategy.beforeBrowserInitialized = async () => {
    try {
      await prepare();
    } catch (err) {
      throw new ConnectorError(`${what}: ${err instanceof Error ? err.message : String(err)}`, 'whatsapp-web', 'whatsapp_web_session_store_failed');
    }
  };
  return strategy;
}

/**
 * The real whatsapp-web.js Client, loaded on first use (it pulls in puppeteer: seconds and tens of MB,
 * paid only by a hub that has a linked phone). The package is CommonJS: its default export is the
 * module object (named ESM imports of it fail).
 */
export const realClientFactory: WaWebClientFactory = async (opts: WaWebClientOptions): Promise<WaWebClientPort> => {
  const executablePath = checkChromium(opts.executablePath);
  const wwebjs = (await import('whatsapp-web.js')).default;
  const authStrategy = authStrategyOf(wwebjs, opts);
  guardWebCacheWrites(libraryWebCacheFactory());
  const cacheWriteFailed = (err: unknown) =>
    opts.log?.('warn', 'WhatsApp Web\'s page could not be cached; it is downloaded again next start', { code: 'whatsapp_web_cache_write_failed', channelId: opts.clientId, err: err instanceof Error ? err.message : String(err) });
  const client = new wwebjs.Client({
    authStrategy,
    // WhatsApp Web's page is cached beside the sessions, not in whatever folder the hub was started from.
    webVersionCache: { type: 'local', path: join(opts.auth.dataPath, '..', 'web-cache'), [CACHE_WRITE_FAILED]: cacheWriteFailed } as { type: 'local'; path: string },
    puppeteer: {
      executablePath,
      headless: true,
      // Root in containers needs --no-sandbox; /dev/shm is small there.
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--no-default-browser-check'],
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    },
    ...(opts.pairWithPhoneNumber ? { pairWithPhoneNumber: { phoneNumber: opts.pairWithPhoneNumber, showNotification: true } } : {}),
  });
  const port = asPort(client);
  Object.defineProperty(port, 'messageMedia', { value: (f: { mimetype: string; data: string; filename?: string | null; filesize?: number | null }) => new wwebjs.MessageMedia(f.mimetype, f.data, f.filename ?? null, f.filesize ?? null) });
  return port;
};

/** The library's Client already has the port's shape; `destroy` also makes sure no Chromium outlives it. */
function asPort(client: InstanceType<typeof import('whatsapp-web.js').Client>): WaWebClientPort {
  const port = client as unknown as WaWebClientPort & { pupBrowser?: { process(): { pid?: number; kill(signal?: string): boolean; exitCode: number | null } | null } | null };
  const destroy = client.destroy.bind(client);
  Object.defineProperty(port, 'destroy', {
    value: async () => {
      const child = port.pupBrowser?.process?.() ?? null;
      try {
        await destroy();
      } finally {
        // browser.close() waits for the browser; a browser that hung or never connected is killed with its process group.
        if (child && child.exitCode === null) {
          try {
            if (child.pid) process.kill(-child.pid, 'SIGKILL');
          } catch {
            child.kill('SIGKILL');
          }
        }
      }
    },
  });
  return port;
}
