/**
 * Ingest benchmark: web chat messages through verify → ingest (group commit) → 202 on real Postgres,
 * jobs off, against the ceiling of a bare Fastify route doing one INSERT per request.
 * Usage: npm run bench -- ingest [--seconds 10] [--connections 32] [--visitors 200]
 * (HUB_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles the hub process)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import autocannon from 'autocannon';
import pg from 'pg';
import { cpuMeter, createDatabase, customerMessages, demoVisitors, freePort, machine, startProcess, stopProcess } from '../support.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '32' }, visitors: { type: 'string', default: '200' } },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const visitorCount = Number(values.visitors);
const baseUrl = process.env.DATABASE_URL;
if (!baseUrl) throw new Error('DATABASE_URL is required (npm run bench -- ingest starts Postgres)');

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

interface Load {
  rps: number;
  ok: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
}

async function load(url: string, request: autocannon.Request): Promise<Load> {
  const latencies: number[] = [];
  // Without a callback autocannon returns its tracker, an emitter that is also a promise of the result.
  const instance = autocannon({ url, connections, duration: seconds, requests: [request] }) as unknown as NodeJS.EventEmitter & Promise<autocannon.Result>;
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status < 300) latencies.push(ms);
  });
  const result = await instance;
  latencies.sort((a, b) => a - b);
  return {
    rps: Math.round(latencies.length / seconds),
    ok: latencies.length,
    errors: result.non2xx + result.errors + result.timeouts,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
  };
}

const db = await createDatabase(baseUrl);
const dataDir = mkdtempSync(join(tmpdir(), 'hummdesk-bench-'));
const env = {
  DATABASE_URL: db.url,
  HUMMDESK_DATA_DIR: dataDir,
  HUMMDESK_RUN_JOBS: 'false',
  HUMMDESK_RATE_LIMIT: '100000000',
  HUMMDESK_PUBLIC_RATE_LIMIT: '100000000',
  LOG_LEVEL: 'warn',
  REDIS_URL: '',
};
try {
  execFileSync('node', ['bin/hummdesk.js', 'seed-demo'], { env: { ...process.env, ...env }, stdio: 'ignore' });
  const port = await freePort();
  const hub = await startProcess('node', [...(process.env.HUB_NODE_ARGS ?? '').split(' ').filter(Boolean), 'bin/hummdesk.js', 'start'], { ...env, PORT: String(port) }, /HummDesk is running/);
  const url = `http://127.0.0.1:${port}`;
  const visitors = await demoVisitors(url, visitorCount);
  const ingestCpu = await cpuMeter(db.url, hub.child.pid!);
  const ingest = await load(url, customerMessages(visitors, 'bench', (i) => `Hello, my order ${i} has not arrived yet. Can you check it?`));
  const ingestUsed = await ingestCpu.stop();
  // Calls per ingest transaction (group commit), from the hub's own metrics.
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? 0);
  const batchMean = Math.round((metric('hummdesk_ingest_batch_size_sum') / (metric('hummdesk_ingest_batch_size_count') || 1)) * 10) / 10;
  await stopProcess(hub.child);

  // Every acknowledged message must be in the store: acknowledged means committed.
  const check = new pg.Client({ connectionString: db.url });
  await check.connect();
  const stored = Number((await check.query<{ n: string }>(`SELECT count(*) n FROM messages`)).rows[0]!.n);
  await check.end();

  const ceilingPort = await freePort();
  const ceiling = await startProcess('node', ['--import', 'tsx', 'bench/ingest/ceiling-server.ts'], { DATABASE_URL: db.url, PORT: String(ceilingPort) }, /ceiling ready/);
  const ceilingCpu = await cpuMeter(db.url, ceiling.child.pid!);
  const bare = await load(`http://127.0.0.1:${ceilingPort}`, {
    method: 'POST',
    path: '/insert',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'Hello, my order has not arrived yet. Can you check it?' }),
  });
  const ceilingUsed = await ceilingCpu.stop();
  await stopProcess(ceiling.child);
  // CPU per acknowledged message (µs): where the time goes, and steadier than throughput on a busy machine.
  const perMessage = (ms: number, count: number) => (count ? Math.round((ms * 1000) / count) : 0);

  const ratio = bare.rps ? Math.round((ingest.rps / bare.rps) * 100) / 100 : 0;
  process.stdout.write(
    `machine: ${machine()}\nconnections: ${connections}, duration: ${seconds}s each, visitors: ${visitorCount}\n` +
      `ingest:  ${ingest.rps} msgs/s  p50 ${ingest.p50} ms  p95 ${ingest.p95} ms  p99 ${ingest.p99} ms  errors ${ingest.errors}  acknowledged ${ingest.ok}  stored ${stored}\n` +
      `ceiling: ${bare.rps} inserts/s  p50 ${bare.p50} ms  p95 ${bare.p95} ms  p99 ${bare.p99} ms  errors ${bare.errors}\n` +
      `calls per ingest transaction: ${batchMean}\n` +
      `cpu per message: hub ${perMessage(ingestUsed.processMs, ingest.ok)} µs, postgres ${perMessage(ingestUsed.postgresMs, ingest.ok)} µs; ` +
      `ceiling server ${perMessage(ceilingUsed.processMs, bare.ok)} µs, postgres ${perMessage(ceilingUsed.postgresMs, bare.ok)} µs\n`,
  );
  if (stored < ingest.ok) process.stdout.write(`LOSS: ${ingest.ok - stored} acknowledged messages are missing from the store\n`);
  process.stdout.write(
    `${JSON.stringify({ bench: 'ingest', msgs_per_s: ingest.rps, p50_ms: ingest.p50, p95_ms: ingest.p95, p99_ms: ingest.p99, ceiling_msgs_per_s: bare.rps, ratio, hub_cpu_us_per_msg: perMessage(ingestUsed.processMs, ingest.ok), pg_cpu_us_per_msg: perMessage(ingestUsed.postgresMs, ingest.ok), ceiling_cpu_us_per_msg: perMessage(ceilingUsed.processMs + ceilingUsed.postgresMs, bare.ok), batch_mean: batchMean, acknowledged: ingest.ok, stored, errors: ingest.errors, connections, seconds })}\n`,
  );
} finally {
  await db.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
