import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow } from 'imapflow';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../../hub/testing/harness.js';
import { startListeners, type Listeners } from '../../hub/listeners.js';
import { withAccount } from '../../storage/session.js';

// Two hubs on one database, one Dovecot mailbox: only one listens, and when it dies the other takes over.
const imapUrl = process.env.IMAP_URL;
if (!imapUrl) console.warn('SKIPPED: IMAP_URL is not set (run through scripts/test.sh, which starts Dovecot)');
const imap = imapUrl ? new URL(imapUrl) : undefined;
const password = process.env.IMAP_PASSWORD ?? 'hummdesk';
const run = randomBytes(4).toString('hex');
const support = `lease-${run}@example.test`;
// A lease the holder renews every 2 s: at 1.5 s (every 500 ms) a loaded machine could hold the holder's renewal
// past it, and this hub took over a mailbox whose holder was alive. Taking over after a death waits for it.
const lease = { leaseMs: 6000, rescanMs: 200 };

let t: TestHub;
let acct: TestAccount;
let other: ChildProcess | undefined;
let otherOut = '';
let mine: Listeners | undefined;
let dataDir: string;

async function append(subject: string): Promise<string> {
  const id = `${subject.replace(/\W/gu, '')}-${run}@customer.example`;
  const c = new ImapFlow({ host: imap!.hostname, port: Number(imap!.port), secure: false, auth: { user: support, pass: password }, logger: false });
  await c.connect();
  await c.append('INBOX', [`From: cust-${run}@customer.example`, `To: ${support}`, `Subject: ${subject}`, `Message-ID: <${id}>`, '', 'hello', ''].join('\r\n'));
  await c.logout();
  return id;
}

const stored = async () =>
  (await withAccount(t.hub.db, acct.accountId, (tx) => tx.query<{ externalId: string }>(`SELECT external_id AS "externalId" FROM messages WHERE channel_id = $1 ORDER BY created_at`, [acct.channelId]))).rows.map((r) => r.externalId);
const otherRuns = () => otherOut.trimEnd().split('\n').at(-1)?.includes(acct.channelId) ?? false;

beforeAll(async () => {
  if (!imap) return;
  t = await startTestHub({ jobs: false });
  acct = await createTestAccount(t, { channelKind: 'email', channelKey: support, config: { address: support, imap: { host: imap.hostname, port: Number(imap.port), secure: false, pollMs: 5000 } }, secrets: { imapPassword: password } });
  dataDir = mkdtempSync(join(tmpdir(), 'hummdesk-lease-'));
  // node itself, not npx: SIGKILL must reach the hub, not a wrapper.
  other = spawn(process.execPath, ['--import', 'tsx', 'connectors/email/listener-host.fixture.ts'], {
    env: { ...process.env, DATABASE_URL: t.config.databaseUrl, HUMMDESK_SECRET_KEY: t.config.secretKey.toString('hex'), HUMMDESK_DATA_DIR: dataDir, REDIS_URL: '', LEASE_MS: String(lease.leaseMs), RESCAN_MS: String(lease.rescanMs) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  other.stdout!.on('data', (d: Buffer) => (otherOut = (otherOut + d.toString()).slice(-4000)));
  await eventually(async () => otherRuns(), 30_000);
}, 60_000);

afterAll(async () => {
  if (other && other.exitCode === null && other.signalCode === null) {
    other.kill('SIGKILL');
    await once(other, 'exit');
  }
  await mine?.stop();
  await t?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe.skipIf(!imap)('one listener per mailbox across hub processes', () => {
  it('a second hub leaves a held mailbox alone and takes it over when the holder dies', async () => {
    mine = startListeners(t.hub, lease);
    await mine.refresh();
    expect(mine.running()).not.toContain(acct.channelId);
    const first = await append('Held by the other hub');
    await eventually(async () => (await stored()).includes(first), 20_000);
    await mine.refresh();
    expect(mine.running()).not.toContain(acct.channelId);

    other!.kill('SIGKILL');
    await once(other!, 'exit');
    const second = await append('Arrived after its death');
    await eventually(async () => mine!.running().includes(acct.channelId), 30_000);
    await eventually(async () => (await stored()).includes(second), 20_000);
    expect(await stored()).toEqual([first, second]);
  }, 60_000);
});
