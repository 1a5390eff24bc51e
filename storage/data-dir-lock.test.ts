import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir } from './data-dir-lock.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dirs: string[] = [];
const children = new Set<ChildProcess>();
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'hummdesk-lock-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('lockDataDir', () => {
  it('lets one holder at a time have a folder, and tells the next who holds it', async () => {
    const dir = join(tempDir(), 'pglite');
    const lock = await lockDataDir(dir, { command: 'start' });
    const refused = await lockDataDir(dir).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(DataDirLockedError);
    expect(refused).toMatchObject({ code: 'data_dir_locked', holder: { pid: process.pid, command: 'start' } });
    expect((refused as Error).message).toMatch(/stop that process first.*API.*DATABASE_URL/is);
    await lock.release();
    const again = await lockDataDir(dir);
    await again.release();
  });

  it('takes over a socket file whose process was killed', { timeout: 60_000 }, async () => {
    const dir = join(tempDir(), 'pglite');
    const file = `${dir}.lock`;
    // A holder killed outright leaves its socket file behind; the kernel closed the socket itself.
    const holder = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(file)}, () => console.log('listening'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(holder);
    await new Promise((resolve) => holder.stdout!.once('data', resolve));
    await expect(lockDataDir(dir)).rejects.toBeInstanceOf(DataDirLockedError);
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    expect(lstatSync(file).isSocket()).toBe(true);
    const lock = await lockDataDir(dir);
    await lock.release();
  });
});

/** `hummdesk …` as a process of its own on `dataDir`, with the embedded store. */
function hummdesk(dataDir: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, HUMMDESK_DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env };
  delete childEnv.DATABASE_URL;
  delete childEnv.REDIS_URL;
  delete childEnv.HUMMDESK_SECRET_KEY;
  const child = spawn(process.execPath, ['bin/hummdesk.js', ...args], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr, done: async () => ({ code: await exited, stdout, stderr }) };
}

describe('two processes on one data folder', () => {
  it('refuses a second process with data_dir_locked while the hub runs, keeps the hub whole, and frees the folder when the hub dies', { timeout: 300_000 }, async () => {
    const dataDir = tempDir();
    const hub = hummdesk(dataDir, ['start'], { PORT: '0' });
    // The banner prints the URL once the hub serves.
    for (;;) {
      if (hub.child.exitCode !== null) throw new Error(`hummdesk start exited early:\n${hub.out()}${hub.err()}`);
      if (/HummDesk is running at (\S+)/.test(hub.out())) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const url = /HummDesk is running at (\S+)/.exec(hub.out())![1]!;

    const second = await hummdesk(dataDir, ['account', 'create', '--name', 'Acme', '--slug', 'acme', '--owner-email', 'owner@acme.test']).done();
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`^hummdesk: data_dir_locked: another HummDesk process \\(pid ${hub.child.pid}, hummdesk start\\) is using the embedded store in `));
    expect(second.stderr).toMatch(/Stop that process first.*API.*DATABASE_URL/);
    expect(second.stderr.trimEnd().split('\n')).toHaveLength(1);
    // No password or key was printed for an account that would not exist.
    expect(second.stdout).toBe('');

    // A command that needs no store works beside the hub.
    const eml = join(dataDir, 'hello.eml');
    writeFileSync(eml, ['From: a@example.com', 'To: support@example.com', 'Subject: hi', 'Message-ID: <x1@example.com>', '', 'Hello', ''].join('\r\n'));
    const parsed = await hummdesk(dataDir, ['email', 'parse', eml]).done();
    expect(parsed.code, parsed.stderr).toBe(0);
    expect(JSON.parse(parsed.stdout).messageId).toBe('x1@example.com');

    // The running hub lost nothing and still answers.
    expect((await fetch(`${url}/ready`)).status).toBe(200);

    // Killed outright, the hub leaves its socket file behind, but no process holds it: the next one may open the store.
    hub.child.kill('SIGKILL');
    await hub.exited;
    expect(existsSync(join(dataDir, 'pglite.lock'))).toBe(true);
    const after = await hummdesk(dataDir, ['account', 'create', '--name', 'Acme', '--slug', 'acme', '--owner-email', 'owner@acme.test']).done();
    expect(after.code, after.stderr).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ ownerEmail: 'owner@acme.test', apiKey: expect.stringMatching(/^hd_/) });
    // And the account is in the store, for the next process to find.
    const key = await hummdesk(dataDir, ['api-key', 'create', '--account', 'acme', '--name', 'ci']).done();
    expect(key.code, key.stderr).toBe(0);
    expect(key.stdout).toMatch(/^hd_/);
  });
});
