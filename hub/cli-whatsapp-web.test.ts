import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from './testing/harness.js';
import { claimLease, checkpointStore } from './listeners.js';
import { whatsappWebCli } from './cli-whatsapp-web.js';
import { LINK_KEY } from '../connectors/whatsapp/web/session.js';
import { fakeFactory } from '../connectors/whatsapp/web/testing/fake-client.js';
import { OUR_NUMBER } from '../connectors/whatsapp/web/testing/recorded.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('hummdesk whatsapp-web: the command line', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/hummdesk.js', 'whatsapp-web', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, HUMMDESK_DATA_DIR: '/nonexistent/never-opened' } });

  it('--help prints the usage and touches nothing', () => {
    const r = cli('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('hummdesk whatsapp-web link CHANNEL');
    expect(r.stdout).toContain('hummdesk whatsapp-web status CHANNEL');
  });

  it.each([
    [[], 'missing subcommand (link or status)'],
    [['unlink', 'x'], 'unknown subcommand "unlink" (expected link or status)'],
    [['status'], 'missing CHANNEL'],
    [['status', 'a', 'b'], 'one CHANNEL expected, got 2'],
    [['link', 'x', '--phone', 'call-me'], '--phone is the number in international digits'],
    [['link', 'x', '--timeout', '0'], '--timeout is whole seconds'],
    [['link', 'x', '--frob'], "Unknown option '--frob'"],
  ])('bad arguments %j: exit 2, one line', (args, message) => {
    const r = cli(...args);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(message);
  });
});

describe('hummdesk whatsapp-web against a store', () => {
  let t: TestHub;
  let acct: TestAccount;
  beforeAll(async () => {
    t = await startTestHub({ jobs: false });
    acct = await createTestAccount(t, { channelKind: 'whatsapp-web', channelKey: 'waweb_cli', secrets: {} });
  }, 120_000);
  afterAll(async () => t?.close());

  const run = async (args: string[], extra: Partial<Parameters<typeof whatsappWebCli>[1]> = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await whatsappWebCli(args, { config: t.config, db: t.hub.db, out: (l) => out.push(l), err: (l) => err.push(l), pollMs: 20, ...extra });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('status of a channel no hub ever ran: disconnected, and why', async () => {
    const r = await run(['status', acct.channelId]);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe('disconnected');
    expect(r.out).toContain('whatsapp_web_not_started');
  });

  it('status of an unknown channel exits 1', async () => {
    const r = await run(['status', 'waweb_nope']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('no whatsapp-web channel "waweb_nope"');
  });

  it('link with no hub running: opens WhatsApp Web itself, prints the QR, ends 0 once linked; status then says ready', async () => {
    const factory = fakeFactory((c) => {
      c.script = 'qr';
      c.on('qr', () => setImmediate(() => c.link()));
    });
    const r = await run(['link', 'waweb_cli', '--timeout', '60'], { factory, drawQr: true });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^qr_required\n\x1b\[/); // the QR drawn with block characters (qr.test.ts decodes such codes)
    expect(r.out).toMatch(/\nqr: 2@fakeRef1,/);
    expect(r.out).toContain(`linked: ${OUR_NUMBER}`);
    expect(factory.clients[0]!.destroyed).toBe(1);
    // The CLI gave the lease back: the state it stored shows as "no hub runs this channel".
    const s = await run(['status', 'waweb_cli']);
    expect(s.out.split('\n')[0]).toBe('disconnected');
    expect(s.out).toContain(`account: ${OUR_NUMBER}`);
    expect(s.out).toContain('whatsapp_web_not_listening');
  });

  it('link --phone prints a pairing code instead of a QR', async () => {
    const factory = fakeFactory((c) => {
      c.script = 'qr';
      c.on('code', () => setImmediate(() => c.link()));
    });
    const r = await run(['link', acct.channelId, '--phone', '+358401234567'], { factory });
    expect(r.code).toBe(0);
    expect(r.out).toContain('pairing code: ABCD-1234');
    expect(factory.clients[0]!.options.pairWithPhoneNumber).toBe('358401234567');
  });

  it('link while a hub runs the channel: shows the QR that hub offers until it is ready', async () => {
    expect(await claimLease(t.hub, acct.accountId, acct.channelId, 'another-hub', 60_000)).toBe(true);
    const store = checkpointStore(t.hub, acct.accountId, acct.channelId);
    await store.set(LINK_KEY, { state: 'qr_required', qr: '2@fromTheHub', updatedAt: new Date().toISOString() });
    const linking = run(['link', acct.channelId, '--timeout', '60']);
    setTimeout(() => void store.set(LINK_KEY, { state: 'ready', account: OUR_NUMBER, updatedAt: new Date().toISOString() }), 200);
    const r = await linking;
    expect(r.code).toBe(0);
    expect(r.out).toContain('A hub runs this channel');
    expect(r.out).toContain('qr: 2@fromTheHub');
    expect(r.out).toContain(`ready\naccount: ${OUR_NUMBER}`);
    const s = await run(['status', acct.channelId]);
    expect(s.out).toMatch(/^ready\naccount: /);
    expect(s.out).toContain('listening: yes');
  });
});
