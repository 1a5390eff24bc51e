import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import type { ChannelInstallation } from '../../connectors/core/types.js';
import { WhatsAppWebConnector } from '../../connectors/whatsapp/web/connector.js';
import { fakeFactory } from '../../connectors/whatsapp/web/testing/fake-client.js';
import type { LinkRecord } from '../../connectors/whatsapp/web/session.js';
import { databaseSessionStore } from './session-store.js';

// RemoteAuth's store: the zipped profile RemoteAuth leaves at {dataPath}/{session}.zip, kept sealed per channel and tenant.
let t: TestHub;
let a: TestAccount;
let b: TestAccount;
const dir = mkdtempSync(join(tmpdir(), 'hummdesk-waweb-store-'));

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  a = await createTestAccount(t, { channelKind: 'whatsapp-web', channelKey: 'waweb_store_a', secrets: {} });
  b = await createTestAccount(t, { channelKind: 'whatsapp-web', channelKey: 'waweb_store_b', secrets: {} });
}, 120_000);
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the database store for RemoteAuth sessions', () => {
  it('saves, finds, extracts the same bytes, keeps them sealed and per tenant, and deletes', async () => {
    const session = `RemoteAuth-${a.channelId}`;
    const zip = randomBytes(64 * 1024);
    writeFileSync(join(dir, `${session}.zip`), zip);
    const store = databaseSessionStore(t.hub, { id: a.channelId, accountId: a.accountId }, dir);
    expect(await store.sessionExists({ session })).toBe(false);
    await store.save({ session });
    expect(await store.sessionExists({ session })).toBe(true);
    const raw = (await t.hub.db.query<{ archive: Buffer }>(`SELECT archive FROM whatsapp_web_sessions WHERE channel_id = $1`, [a.channelId])).rows[0]!.archive;
    expect(Buffer.from(raw).includes(zip.subarray(0, 32))).toBe(false); // sealed, not the zip itself
    const out = join(dir, 'extracted.zip');
    await store.extract({ session, path: out });
    expect(readFileSync(out).equals(zip)).toBe(true);
    // Another tenant naming this channel sees nothing (row-level security).
    const foreign = databaseSessionStore(t.hub, { id: a.channelId, accountId: b.accountId }, dir);
    expect(await foreign.sessionExists({ session })).toBe(false);
    await store.delete({ session });
    expect(await store.sessionExists({ session })).toBe(false);
  });
});

describe('a channel configured for RemoteAuth (config.auth: "remote")', () => {
  const lib = createRequire(import.meta.url);
  const RemoteAuth = lib('whatsapp-web.js/src/authStrategies/RemoteAuth.js') as new (...args: unknown[]) => unknown;
  const LocalAuth = lib('whatsapp-web.js/src/authStrategies/LocalAuth.js') as new (...args: unknown[]) => unknown;

  /** The hub's own whatsapp-web connector (hub/connectors.ts wiring), with the fake Client in place of Chromium. */
  async function linked(channel: ChannelInstallation) {
    const hubs = t.hub.connectors.get('whatsapp-web') as WhatsAppWebConnector;
    const factory = fakeFactory((c) => (c.prepareAuth = true));
    const connector = new WhatsAppWebConnector({ ...hubs.settings, factory });
    const links: string[] = [];
    const session = connector.session(channel, async () => {}, async (l) => void links.push(`${l.state} ${l.reason ?? ''}`));
    const controller = new AbortController();
    const done = session.run(controller.signal);
    while (session.state !== 'ready' && factory.clients.length < 2) await new Promise((r) => setTimeout(r, 10));
    expect(session.state, links.join('; ')).toBe('ready');
    return { strategy: factory.clients[0]!.authStrategy, dataDir: hubs.settings.dataDir, stop: async () => (controller.abort(), await done) };
  }
  const channel = (acct: TestAccount, auth: 'remote' | 'local'): ChannelInstallation => ({ id: acct.channelId, accountId: acct.accountId, kind: 'whatsapp-web', externalKey: 'k', teamId: null, config: { auth }, secrets: {} });

  it('runs the library\'s RemoteAuth on the database store: a profile it backs up is restored after the folder is gone', async () => {
    const first = await linked(channel(b, 'remote'));
    expect(first.strategy).toBeInstanceOf(RemoteAuth);
    expect(first.strategy).toMatchObject({ clientId: b.channelId, dataPath: join(first.dataDir, 'remote'), userDataDir: join(first.dataDir, 'remote', `RemoteAuth-${b.channelId}`) });
    // The browser wrote its profile; RemoteAuth's backup zips it into our store (its timer does this once linked).
    const profile = join(first.strategy.userDataDir!, 'Default', 'Local Storage');
    mkdirSync(profile, { recursive: true });
    writeFileSync(join(profile, 'session.ldb'), 'linked-phone keys');
    await first.strategy.storeRemoteSession!();
    await first.stop();
    expect((await t.hub.db.query(`SELECT 1 FROM whatsapp_web_sessions WHERE channel_id = $1`, [b.channelId])).rowCount).toBe(1);

    // Another hub takes the lease (or this one lost its disk): the profile comes back from the database.
    rmSync(join(first.dataDir, 'remote'), { recursive: true, force: true });
    const second = await linked(channel(b, 'remote'));
    // unzipper's 'finish', which RemoteAuth awaits, can come before the last file is flushed: wait for it rather than read at once.
    const restored = join(second.strategy.userDataDir!, 'Default', 'Local Storage', 'session.ldb');
    while (!existsSync(restored) || readFileSync(restored, 'utf8') === '') await new Promise((r) => setTimeout(r, 10));
    expect(readFileSync(restored, 'utf8')).toBe('linked-phone keys');
    await second.stop();
  });

  it('a disk error while the session is restored is reported as what it is (whatsapp_web_session_store_failed, with the reason), not as WhatsApp Web unreachable', async () => {
    const acct = await createTestAccount(t, { channelKind: 'whatsapp-web', channelKey: 'waweb_store_disk', secrets: {} });
    const session = `RemoteAuth-${acct.channelId}`;
    // Another hub linked the phone and backed its profile up into the database.
    writeFileSync(join(dir, `${session}.zip`), randomBytes(1024));
    await databaseSessionStore(t.hub, { id: acct.channelId, accountId: acct.accountId }, dir).save({ session });
    // This hub's disk is full where RemoteAuth writes the archive (/dev/full answers every write with ENOSPC);
    // for a channel on "local", its profile folder cannot be made (a file is in the way).
    const dataDir = mkdtempSync(join(tmpdir(), 'hummdesk-waweb-disk-'));
    mkdirSync(join(dataDir, 'remote'));
    symlinkSync('/dev/full', join(dataDir, 'remote', `${session}.zip`));
    writeFileSync(join(dataDir, 'local'), 'not a folder');
    const hubs = t.hub.connectors.get('whatsapp-web') as WhatsAppWebConnector;
    const firstLink = async (auth: 'remote' | 'local') => {
      const factory = fakeFactory((c) => (c.prepareAuth = true));
      const connector = new WhatsAppWebConnector({ ...hubs.settings, dataDir, factory });
      const links: LinkRecord[] = [];
      const running = connector.session(channel(acct, auth), async () => {}, async (l) => void links.push(l));
      const controller = new AbortController();
      const done = running.run(controller.signal);
      const failed = await eventually(async () => links.find((l) => l.state === 'disconnected'));
      controller.abort();
      await done;
      expect(factory.clients[0]!.destroyed).toBe(1);
      return failed;
    };
    try {
      const remote = await firstLink('remote');
      expect(remote).toMatchObject({ state: 'disconnected', code: 'whatsapp_web_session_store_failed' });
      expect(remote.reason).toMatch(/^restoring the linked phone's session from the database failed: ENOSPC: no space left on device/);
      const local = await firstLink('local');
      expect(local).toMatchObject({ state: 'disconnected', code: 'whatsapp_web_session_store_failed' });
      expect(local.reason).toMatch(/^preparing the linked phone's session folder failed: E(NOTDIR|EXIST)/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a channel on "local" runs the library\'s LocalAuth in its own folder and writes nothing to the database', async () => {
    const acct = await createTestAccount(t, { channelKind: 'whatsapp-web', channelKey: 'waweb_store_local', secrets: {} });
    const local = await linked(channel(acct, 'local'));
    expect(local.strategy).toBeInstanceOf(LocalAuth);
    expect(local.strategy.store).toBeUndefined();
    expect(existsSync(join(local.dataDir, 'local', `session-${acct.channelId}`))).toBe(true);
    await local.stop();
    expect((await t.hub.db.query(`SELECT 1 FROM whatsapp_web_sessions WHERE channel_id = $1`, [acct.channelId])).rowCount).toBe(0);
  });
});
