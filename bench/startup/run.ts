/**
 * Start-up benchmark: `hummdesk start` on the embedded default (PGlite, in-process jobs, local AI), from
 * spawn to /ready answering, on an empty data folder (cold: store image, migrations, demo seed) and again
 * on the same folder (warm); the CPU each used to get there; the resident memory of a full one once its
 * models are loaded, and of an HTTP-only process (HUMMDESK_RUN_JOBS=false, the API processes of a
 * scaled-out deployment: on DATABASE_URL and REDIS_URL, which `npm run bench` provides) idling after
 * start; how long compiling dist/ takes (done at install, and by the CLI after a source changed); and
 * `hummdesk meta parse FILE` from spawn to exit (issue #14: it starts in under a second, no database).
 * Usage: npm run bench -- startup [--runs 3] [--only meta-parse]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { cpuMs, createDatabase, freePort, machine, stopProcess } from '../support.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, settle: { type: 'string', default: '5000' }, only: { type: 'string' } } });
const runs = Number(values.runs);
const settleMs = Number(values.settle);

const rssMb = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Started {
  child: ChildProcess;
  readyMs: number;
  cpuMs: number;
  output: () => string;
}

const services = { DATABASE_URL: process.env.DATABASE_URL, REDIS_URL: process.env.REDIS_URL };

async function start(dataDir: string, env: Record<string, string> = {}): Promise<Started> {
  const port = await freePort();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, HUMMDESK_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info' };
  delete childEnv.DATABASE_URL;
  delete childEnv.REDIS_URL;
  Object.assign(childEnv, env);
  const began = performance.now();
  const child = spawn(process.execPath, ['bin/hummdesk.js', 'start'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  for (;;) {
    if (child.exitCode !== null) throw new Error(`hummdesk start exited early:\n${out}`);
    const ready = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok, () => false);
    if (ready) return { child, readyMs: performance.now() - began, cpuMs: cpuMs([child.pid!]), output: () => out };
    if (performance.now() - began > 120_000) {
      await stopProcess(child);
      throw new Error(`not ready in 120 s:\n${out}`);
    }
    await sleep(25);
  }
}

async function timeBuild(): Promise<number> {
  const began = performance.now();
  const child = spawn(process.execPath, ['scripts/build.js'], { stdio: 'ignore' });
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error('scripts/build.js failed');
  return performance.now() - began;
}

/**
 * `hummdesk meta parse FILE` (issue #14: "starts < 1 s"): spawn to exit, on a compiled dist/ (the first
 * run after a source change compiles it; the build above did), with the CPU the process used.
 */
async function timeMetaParse(n: number): Promise<{ wallMs: number[]; cpuMs: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'hummdesk-meta-parse-'));
  try {
    const body = join(dir, 'webhook.json');
    writeFileSync(body, JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550000000', phone_number_id: '106540352242922' }, contacts: [{ profile: { name: 'Aino' }, wa_id: '358401234567' }], messages: [{ from: '358401234567', id: 'wamid.BENCH', timestamp: '1765000000', type: 'text', text: { body: 'Hei' } }] } }] }] }));
    // The process reports its own CPU as it exits (a child's /proc entry is gone by then).
    const probe = join(dir, 'cpu.mjs');
    writeFileSync(probe, `process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write('\\ncpu-us ' + (u.user + u.system) + '\\n'); });`);
    const wallMs: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < n; i++) {
      const began = performance.now();
      const child = spawn(process.execPath, ['--import', pathToFileURL(probe).href, 'bin/hummdesk.js', 'meta', 'parse', body], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((r) => child.on('close', r));
      if (code !== 0 || !out.includes('wamid.BENCH')) throw new Error(`hummdesk meta parse failed (${code}):\n${out}${err}`);
      wallMs.push(performance.now() - began);
      cpu.push(Number(/cpu-us (\d+)/.exec(err)?.[1] ?? NaN) / 1000);
    }
    return { wallMs, cpuMs: cpu };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const cold: Started[] = [];
const warm: Started[] = [];
const httpOnlyRss: number[] = [];
const fullRss: number[] = [];
const buildMs = await timeBuild();
const metaParse = await timeMetaParse(Math.max(5, runs));
if (values.only === 'meta-parse') {
  const p50 = [...metaParse.wallMs].sort((a, b) => a - b)[Math.floor(metaParse.wallMs.length / 2)]!;
  process.stdout.write(`hummdesk meta parse: ${metaParse.wallMs.map(Math.round).join(', ')} ms spawn to exit, CPU ${metaParse.cpuMs.map(Math.round).join(', ')} ms\n`);
  process.stdout.write(`${JSON.stringify({ bench: 'startup', only: 'meta-parse', runs: metaParse.wallMs.length, meta_parse_p50_ms: Math.round(p50), meta_parse_max_ms: Math.round(Math.max(...metaParse.wallMs)), meta_parse_cpu_p50_ms: Math.round([...metaParse.cpuMs].sort((a, b) => a - b)[Math.floor(metaParse.cpuMs.length / 2)]!), build_ms: Math.round(buildMs) })}\n`);
  process.exit(0);
}
for (let i = 0; i < runs; i++) {
  const dataDir = mkdtempSync(join(tmpdir(), 'hummdesk-startup-'));
  try {
    const first = await start(dataDir);
    cold.push(first);
    await stopProcess(first.child);
    const again = await start(dataDir);
    warm.push(again);
    // A process that runs jobs loads its models once it serves; its memory is measured after that.
    const deadline = Date.now() + 120_000;
    while (!/local AI models loaded/.test(again.output()) && Date.now() < deadline) await sleep(100);
    await sleep(1000);
    fullRss.push(rssMb(again.child.pid!));
    await stopProcess(again.child);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
if (services.DATABASE_URL && services.REDIS_URL) {
  for (let i = 0; i < runs; i++) {
    const database = await createDatabase(services.DATABASE_URL);
    const dataDir = mkdtempSync(join(tmpdir(), 'hummdesk-startup-'));
    try {
      const http = await start(dataDir, { DATABASE_URL: database.url, REDIS_URL: services.REDIS_URL, HUMMDESK_RUN_JOBS: 'false', HUMMDESK_SECRET_KEY: '11'.repeat(32) });
      await sleep(settleMs);
      httpOnlyRss.push(rssMb(http.child.pid!));
      await stopProcess(http.child);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      await database.drop();
    }
  }
} else process.stderr.write('DATABASE_URL and REDIS_URL unset: no HTTP-only figure (run through `npm run bench -- startup`)\n');

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const pct = (xs: number[], p: number) => Math.round(sorted(xs)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!);
const ms = (xs: number[]) => xs.map((x) => Math.round(x)).join(', ');
const coldMs = cold.map((s) => s.readyMs);
const warmMs = warm.map((s) => s.readyMs);
process.stdout.write(
  `machine: ${machine()}\n` +
    `compile dist/: ${Math.round(buildMs)} ms\n` +
    `cold start (empty data folder: store image, migrations, demo seed): ${ms(coldMs)} ms to /ready, CPU ${ms(cold.map((s) => s.cpuMs))} ms\n` +
    `warm start (same folder): ${ms(warmMs)} ms to /ready, CPU ${ms(warm.map((s) => s.cpuMs))} ms\n` +
    `hummdesk meta parse (one webhook body): ${ms(metaParse.wallMs)} ms spawn to exit, CPU ${ms(metaParse.cpuMs)} ms\n` +
    `idle RSS: embedded with jobs, models loaded ${fullRss.join(', ')} MB; HTTP-only process on PostgreSQL + Redis ${httpOnlyRss.join(', ') || '-'} MB (${settleMs} ms after ready)\n`,
);
process.stdout.write(
  `${JSON.stringify({
    bench: 'startup',
    runs,
    p50_ms: pct(coldMs, 50),
    p95_ms: pct(coldMs, 95),
    p99_ms: pct(coldMs, 99),
    first_start_max_ms: Math.round(Math.max(...coldMs)),
    later_start_p50_ms: pct(warmMs, 50),
    cold_ready_p50_ms: pct(coldMs, 50),
    cold_ready_max_ms: Math.round(Math.max(...coldMs)),
    warm_ready_p50_ms: pct(warmMs, 50),
    cold_cpu_p50_ms: pct(cold.map((s) => s.cpuMs), 50),
    warm_cpu_p50_ms: pct(warm.map((s) => s.cpuMs), 50),
    http_only_idle_rss_mb: httpOnlyRss.length ? Math.max(...httpOnlyRss) : null,
    jobs_idle_rss_mb: Math.max(...fullRss),
    build_ms: Math.round(buildMs),
    meta_parse_p50_ms: pct(metaParse.wallMs, 50),
    meta_parse_max_ms: Math.round(Math.max(...metaParse.wallMs)),
    meta_parse_cpu_p50_ms: pct(metaParse.cpuMs, 50),
  })}\n`,
);
