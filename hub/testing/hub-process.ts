import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_PRIVATE_HOSTS } from './harness.js';

/** A hub started as a user starts it (`hummdesk start` in its own process) on a fresh embedded store. */
export interface HubProcess {
  /** The address the hub printed ("HummDesk is running at …"). */
  url: string;
  /** The first login it printed for the account a fresh start creates. */
  login: { email: string; password: string };
  /** Everything the process wrote, for a failing test's message. */
  output(): string;
  stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Runs `node bin/hummdesk.js start` with no database or Redis settings (the embedded default a fresh
 * `npm start` uses) and waits for the lines it prints for a new user. `env` adds settings; loopback mail
 * servers need `HUMMDESK_ALLOW_PRIVATE_HOSTS`, which this sets as the tests' mail servers live there.
 */
export async function startHubProcess(env: Record<string, string> = {}, timeoutMs = 180_000): Promise<HubProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hummdesk-process-'));
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DATABASE_URL|REDIS_URL|HUMMDESK_|PORT$|HOST$|VITEST|NODE_ENV)/.test(k)));
  const child: ChildProcess = spawn(process.execPath, ['bin/hummdesk.js', 'start'], {
    cwd: ROOT,
    env: {
      ...inherited,
      PORT: '0',
      HUMMDESK_DATA_DIR: dataDir,
      HUMMDESK_AI_THREADS: '1',
      HUMMDESK_ALLOW_PRIVATE_HOSTS: TEST_PRIVATE_HOSTS,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 30_000))]);
      if (!done) child.kill('SIGKILL');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const url = /HummDesk is running at (\S+)/.exec(out)?.[1];
    const login = /Demo agent login: (\S+) \/ (\S+)/.exec(out);
    if (url && login) return { url, login: { email: login[1]!, password: login[2]! }, output: () => out, stop };
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`hummdesk start did not come up (exit ${child.exitCode}):\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
