/**
 * Backlog benchmark: the embedded default (PGlite, in-process runner, local AI) draining a backlog of
 * AI jobs while it serves HTTP. Three runs of `hummdesk start` on one data folder:
 *   0. jobs on: the demo account and its knowledge base are written (so AI jobs search a real KB);
 *   1. jobs off: web chat ingest of `--backlog` messages as fast as `--connections` allow: the jobs-off
 *      rate, and each message leaves an `ai.classify` job behind;
 *   2. jobs on, the backlog draining (once the local models are loaded): `/health` (every 20 ms) and the
 *      conversation list (every 250 ms) probed alone for `--seconds`, then under web chat ingest for `--seconds`;
 *   3. jobs off again, ingest for `--seconds`: the jobs-off rate is the mean of runs 1 and 3 (the load of a
 *      shared machine drifts).
 * Prints figures; the last line is one JSON object (`health_p99_ms`, `ingest_ratio`, the raw rates).
 * Usage: npm run bench -- backlog [--backlog 2000] [--seconds 10] [--connections 16] [--visitors 200]
 * (HUB_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles the hub process of run 2)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { customerMessages, demoVisitors, freePort, machine, startProcess, stopProcess, type BenchVisitor } from '../support.js';

const { values } = parseArgs({
  options: {
    backlog: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
    visitors: { type: 'string', default: '200' },
  },
});
const backlog = Number(values.backlog);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const visitorCount = Number(values.visitors);
const HEALTH_EVERY_MS = 20;
const LIST_EVERY_MS = 250;
// A probe not answered by then counts as this slow (and unanswered): the benchmark stays bounded.
const PROBE_TIMEOUT_MS = 30_000;

const pct = (sorted: number[], p: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dataDir = mkdtempSync(join(tmpdir(), 'hummdesk-backlog-'));
const env: Record<string, string> = {
  HUMMDESK_DATA_DIR: dataDir,
  HUMMDESK_RATE_LIMIT: '100000000',
  HUMMDESK_PUBLIC_RATE_LIMIT: '100000000',
  LOG_LEVEL: 'info',
  // The embedded default: no PostgreSQL, no Redis, whatever the bench script started.
  DATABASE_URL: '',
  REDIS_URL: '',
};

const children: ChildProcess[] = [];

async function startHub(jobs: boolean, nodeArgs: string[] = []) {
  const port = await freePort();
  const hub = await startProcess('node', [...nodeArgs, 'bin/hummdesk.js', 'start'], { ...env, PORT: String(port), HUMMDESK_RUN_JOBS: String(jobs) }, /"hub started"/, 120_000);
  children.push(hub.child);
  return { ...hub, url: `http://127.0.0.1:${port}` };
}

/** A figure from /metrics; a hub too busy to answer within a minute gives NaN rather than ending the benchmark. */
async function metric(url: string, pattern: RegExp): Promise<number> {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    try {
      const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(60_000) })).text();
      return Number(pattern.exec(text)?.[1] ?? 0);
    } catch {
      // Not even accepted (connect timeout): ask again.
    }
  }
  return Number.NaN;
}
const aiDone = (url: string) => metric(url, /^hummdesk_jobs_total\{topic="ai\.classify",result="done"\} (\S+)$/m);

interface Probe {
  count: number;
  unanswered: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Requests `path` every `everyMs` on a fixed schedule (never waiting for the previous answer) until `stop` resolves. */
async function probe(url: string, path: string, everyMs: number, stop: Promise<unknown>, headers: Record<string, string> = {}): Promise<Probe> {
  const latencies: number[] = [];
  let unanswered = 0;
  const pending: Promise<void>[] = [];
  let done = false;
  void stop.then(() => (done = true));
  const began = performance.now();
  for (let i = 0; !done; i++) {
    const sent = performance.now();
    pending.push(
      fetch(`${url}${path}`, { headers, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) }).then(
        async (r) => {
          await r.arrayBuffer();
          if (!r.ok) throw new Error(`${path}: ${r.status}`);
          latencies.push(performance.now() - sent);
        },
        () => {
          unanswered++;
          latencies.push(PROBE_TIMEOUT_MS);
        },
      ),
    );
    // The schedule, not the answers, sets the pace: a stalled server shows as long latencies, not as fewer probes.
    const next = began + (i + 1) * everyMs;
    await sleep(Math.max(0, next - performance.now()));
  }
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  return { count: latencies.length, unanswered, p50: pct(latencies, 50), p95: pct(latencies, 95), p99: pct(latencies, 99), max: Math.round(latencies.at(-1) ?? 0) };
}

interface Load {
  rate: number;
  ok: number;
  errors: number;
  p50: number;
  p99: number;
}

/** Web chat ingest with `connections` in flight, for `amount` messages or `duration` seconds. */
async function ingest(url: string, visitors: BenchVisitor[], tag: string, limit: { amount?: number; duration?: number }): Promise<Load> {
  const latencies: number[] = [];
  const began = performance.now();
  const instance = autocannon({
    url,
    connections,
    ...(limit.amount ? { amount: limit.amount } : { duration: limit.duration }),
    requests: [customerMessages(visitors, tag, (i) => `Hello, my order ${i} has not arrived yet and I was charged twice. Can you check it?`)],
  }) as unknown as NodeJS.EventEmitter & Promise<autocannon.Result>;
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status < 300) latencies.push(ms);
  });
  const result = await instance;
  const elapsed = (performance.now() - began) / 1000;
  latencies.sort((a, b) => a - b);
  return { rate: Math.round(latencies.length / elapsed), ok: latencies.length, errors: result.non2xx + result.errors + result.timeouts, p50: pct(latencies, 50), p99: pct(latencies, 99) };
}

try {
  // Run 0: a fresh store; the demo's knowledge base is written once the local models are in.
  const seed = await startHub(true);
  const apiKey = /API key \(admin\):\s+(\S+)/.exec(seed.output())?.[1];
  if (!apiKey) throw new Error(`no demo API key in the output:\n${seed.output()}`);
  const auth = { 'x-api-key': apiKey };
  for (const deadline = Date.now() + 180_000; ; await sleep(500)) {
    const r = await fetch(`${seed.url}/api/v1/kb/articles?limit=1`, { headers: auth });
    if (r.ok && ((await r.json()) as { items: unknown[] }).items.length > 0) break;
    if (Date.now() > deadline) throw new Error('the demo knowledge base was not written in 180 s');
  }
  await stopProcess(seed.child);

  // Run 1: jobs off. The rate of ingest alone, and the backlog it leaves.
  const off = await startHub(false);
  const visitors = await demoVisitors(off.url, visitorCount);
  const jobsOff = await ingest(off.url, visitors, 'off', { amount: backlog });
  await stopProcess(off.child);

  // Run 2: jobs on, the backlog draining.
  const on = await startHub(true, (process.env.HUB_NODE_ARGS ?? '').split(' ').filter(Boolean));
  // Loading the models is start-up work (a few seconds of CPU), not the backlog's: measure after it.
  for (const deadline = Date.now() + 180_000; !/local AI models loaded/.test(on.output()); await sleep(100))
    if (Date.now() > deadline) throw new Error('the local AI models did not load in 180 s');
  const doneAtStart = await aiDone(on.url);
  const quiet = sleep(seconds * 1000);
  const [health, list] = await Promise.all([probe(on.url, '/health', HEALTH_EVERY_MS, quiet), probe(on.url, '/api/v1/conversations?limit=20', LIST_EVERY_MS, quiet, auth)]);
  const doneQuiet = await aiDone(on.url);
  const loading = ingest(on.url, visitors, 'on', { duration: seconds });
  const [jobsOn, healthUnderLoad] = await Promise.all([loading, probe(on.url, '/health', HEALTH_EVERY_MS, loading)]);
  const doneLoaded = await aiDone(on.url);
  const waiting = await metric(on.url, /^hummdesk_queue_depth\{state="waiting"\} (\S+)$/m);
  await stopProcess(on.child);

  // Run 3: jobs off again. On a shared machine the load drifts; the jobs-off rate is the mean of before and after.
  const offAgain = await startHub(false);
  const jobsOffAfter = await ingest(offAgain.url, visitors, 'after', { duration: seconds });
  await stopProcess(offAgain.child);
  const offRate = Math.round((jobsOff.rate + jobsOffAfter.rate) / 2);

  const ratio = offRate ? Math.round((jobsOn.rate / offRate) * 100) / 100 : 0;
  const drainQuiet = Math.round(((doneQuiet - doneAtStart) / seconds) * 10) / 10;
  const drainLoaded = Math.round(((doneLoaded - doneQuiet) / seconds) * 10) / 10;
  process.stdout.write(
    `machine: ${machine()}\nbacklog: ${backlog} messages, connections: ${connections}, ${seconds}s per phase, visitors: ${visitorCount}\n` +
      `ingest, jobs off:            ${jobsOff.rate} msgs/s  p50 ${jobsOff.p50} ms  p99 ${jobsOff.p99} ms  errors ${jobsOff.errors}; ` +
      `after: ${jobsOffAfter.rate} msgs/s  p50 ${jobsOffAfter.p50} ms  p99 ${jobsOffAfter.p99} ms  errors ${jobsOffAfter.errors}\n` +
      `draining, /health alone:     p50 ${health.p50} ms  p95 ${health.p95} ms  p99 ${health.p99} ms  max ${health.max} ms  unanswered ${health.unanswered}/${health.count}\n` +
      `draining, conversation list: p50 ${list.p50} ms  p95 ${list.p95} ms  p99 ${list.p99} ms  max ${list.max} ms  unanswered ${list.unanswered}/${list.count}\n` +
      `draining, ingest:            ${jobsOn.rate} msgs/s  p50 ${jobsOn.p50} ms  p99 ${jobsOn.p99} ms  errors ${jobsOn.errors}  (ratio ${ratio})\n` +
      `draining, /health under ingest: p50 ${healthUnderLoad.p50} ms  p95 ${healthUnderLoad.p95} ms  p99 ${healthUnderLoad.p99} ms  max ${healthUnderLoad.max} ms\n` +
      `AI jobs done: ${drainQuiet}/s alone, ${drainLoaded}/s under ingest; ${waiting} jobs still waiting at the end\n`,
  );
  process.stdout.write(
    `${JSON.stringify({
      bench: 'backlog', backlog, health_p99_ms: health.p99, health_p50_ms: health.p50, health_p95_ms: health.p95, health_max_ms: health.max, health_unanswered: health.unanswered,
      list_p99_ms: list.p99, ingest_ratio: ratio, ingest_jobs_off_msgs_per_s: offRate, ingest_jobs_off_before_msgs_per_s: jobsOff.rate, ingest_jobs_off_after_msgs_per_s: jobsOffAfter.rate, ingest_jobs_on_msgs_per_s: jobsOn.rate, ingest_jobs_on_p99_ms: jobsOn.p99,
      health_under_ingest_p99_ms: healthUnderLoad.p99, ai_jobs_per_s_alone: drainQuiet, ai_jobs_per_s_under_ingest: drainLoaded, jobs_waiting_at_end: waiting,
      errors: jobsOff.errors + jobsOn.errors + jobsOffAfter.errors, connections, seconds,
    })}\n`,
  );
} finally {
  // A hub stalled by its jobs may not even take SIGTERM in time: never leave one behind.
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
}
