import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'hummdesk-cli-'));
const children = new Set<ChildProcess>();

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** `npm start` on a bare machine: the embedded store and the in-process runner, nothing from the test's services. */
async function start(port: number) {
  const env: NodeJS.ProcessEnv = { ...process.env, HUMMDESK_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  delete env.HUMMDESK_SECRET_KEY;
  const began = Date.now();
  const child = spawn(process.execPath, ['bin/hummdesk.js', 'start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`hummdesk start exited early:\n${out}`);
    const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    if (ok && /API key/.test(out)) break;
    if (Date.now() - began > 60_000) throw new Error(`not ready in 60 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, url, output: () => out, exited };
}

describe('hummdesk start (embedded default)', () => {
  let login: string | undefined;

  it('migrates, seeds the demo, prints URL, login and API key, and serves', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const hub = await start(port);
    const out = hub.output();
    expect(out).toContain(`HummDesk is running at http://127.0.0.1:${port}`);
    login = /Demo agent login: (\S+ \/ \S+)/.exec(out)?.[1];
    expect(login).toMatch(/^demo@hummdesk\.local \/ \S+$/);
    const apiKey = /API key \(admin\):\s+(hd_\S+)/.exec(out)?.[1];
    expect(apiKey).toBeDefined();
    // Start-up time is a benchmark figure (npm run bench -- startup), not a test assertion.

    // The printed credentials work against the running hub.
    const [email, password] = login!.split(' / ');
    const auth = await fetch(`${hub.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
    expect(auth.status).toBe(200);
    const list = await fetch(`${hub.url}/api/v1/conversations`, { headers: { 'x-api-key': apiKey! } });
    expect(list.status).toBe(200);
    const ready = await fetch(`${hub.url}/ready`);
    expect(await ready.json()).toEqual({ status: 'ready', database: 'ok', queue: 'ok' });

    hub.child.kill('SIGTERM');
    expect(await hub.exited).toBe(0);
  });

  it('keeps its data and credentials: a second start prints the same login', { timeout: 60_000 }, async () => {
    expect(login).toBeDefined();
    const hub = await start(await freePort());
    expect(hub.output()).toContain(`Demo agent login: ${login}`);
    hub.child.kill('SIGTERM');
    expect(await hub.exited).toBe(0);
  });
});
