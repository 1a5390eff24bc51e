import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
    // The first thing a user sees, before any log line: what is happening and where to look.
    expect(out).toMatch(new RegExp(`^HummDesk is starting… then open http://localhost:${port}\n`));
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

/** Runs `hummdesk …` on a data folder of its own, with the embedded store, to the end. */
function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'hummdesk-cli-args-'));
  const childEnv: NodeJS.ProcessEnv = { ...process.env, HUMMDESK_DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'warn', ...env };
  delete childEnv.DATABASE_URL;
  delete childEnv.REDIS_URL;
  const child = spawn(process.execPath, ['bin/hummdesk.js', ...args], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string; touched: boolean }>((resolve) =>
    child.on('exit', (code) => {
      // Whatever the command did to its data folder (a key, a store) shows as files in it.
      const touched = readdirSync(dir).length > 0;
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, stdout, stderr, touched });
    }),
  );
}

/** Every subcommand, as a user might ask for its help. */
const HELP = [['start', '--help'], ['start', '-h'], ['worker', '--help'], ['migrate', '--help'], ['seed-demo', '--help'], ['seed-demo', '-h'], ['account', 'create', '--help'], ['api-key', 'create', '--help'], ['email', 'parse', '--help'], ['eval', 'classify', '--help'], ['teams', 'package', '--help'], ['meta', 'parse', '--help']];

// Each case is a process of its own; a few at a time keep the file short without crowding the machine.
describe.concurrent('hummdesk <command> --help and bad arguments', () => {
  it.each(HELP.map((args) => [args.join(' '), args] as const))('`hummdesk %s` prints usage only and exits 0', { timeout: 120_000 }, async (_name, args) => {
    const r = await run([...args]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^hummdesk ${args[0]}`));
    expect(r.stderr).toBe('');
    // Nothing else happened: no server, no key, no store, no demo account.
    expect(r.touched).toBe(false);
  });

  it.each(
    [
      [['start', '--port', '80'], /^hummdesk start: Unknown option '--port'/],
      [['worker', 'now'], /^hummdesk worker: Unexpected argument 'now'/],
      [['migrate', '--to'], /^hummdesk migrate: Option '--to <value>' argument missing/],
      [['seed-demo', '--force'], /^hummdesk seed-demo: Unknown option '--force'/],
      [['account', 'create', '--name', 'Acme'], /^hummdesk account create: missing --slug, --owner-email/],
      [['account', 'delete'], /^hummdesk account: unknown subcommand "delete"/],
      [['api-key', 'create', '--account', 'acme', '--name', 'ci', '--role', 'root'], /^hummdesk api-key create: --role must be admin, agent or viewer/],
      [['api-key'], /^hummdesk api-key: missing subcommand "create"/],
      [['email', 'parse', '--bogus', 'x.eml'], /^hummdesk email parse: Unknown option '--bogus'/],
      [['email', 'parse'], /^hummdesk email parse: missing FILE\.eml/],
      [['meta'], /^hummdesk meta: missing subcommand \(parse or conformance\)/],
      [['meta', 'parse'], /^hummdesk meta parse: missing FILE/],
      [['meta', 'parse', '--bogus', 'x.json'], /^hummdesk meta parse: Unknown option '--bogus'/],
      [['eval', 'nonsense'], /^hummdesk eval: unknown subcommand "nonsense"/],
      [['teams', 'deploy'], /^hummdesk teams: unknown subcommand "deploy"/],
      [['teams', 'package', '--app-id', 'x'], /^hummdesk teams package: missing --base-url, --out/],
      [['frobnicate'], /^hummdesk: unknown command "frobnicate"/],
    ].map(([args, line]) => [(args as string[]).join(' '), args as string[], line as RegExp] as const),
  )('`hummdesk %s` exits 2 with one line and no stack trace', { timeout: 120_000 }, async (_name, args, line) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(line);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.touched).toBe(false);
  });

  it('stops start-up on an empty secret.key with one line naming the file', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hummdesk-cli-key-'));
    try {
      writeFileSync(join(dir, 'secret.key'), '');
      const r = await run(['start'], { HUMMDESK_DATA_DIR: dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('secret_key_invalid');
      expect(r.stderr).toContain(join(dir, 'secret.key'));
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(readdirSync(dir)).toEqual(['secret.key']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
