/**
 * The AI stage end to end on PostgreSQL (`hummdesk start`, in-process jobs, local AI in its threads):
 *   1. ceiling: the same local analysis (language, embedding, category, sentiment) in batches of 32 on
 *      one thread of this process, measured first: `ceiling_msgs_per_s`;
 *   2. a backlog of `--backlog` web chat messages ingested with jobs off, then drained with jobs on:
 *      `msgs_per_s` is analyses stored per second (ai_results), first to last;
 *   3. messages offered at `--offered` per second for `--seconds`: `queue_delay_p95_ms` is message commit
 *      → analysis stored (both database times).
 * Targets: msgs_per_s ≥ 0.8 × ceiling_msgs_per_s, queue_delay_p95_ms < 2000 at 50 messages/s.
 * While the backlog drains (from when the models are loaded), CPU per analysed message is measured (hub
 * process, its main thread, and the database's PostgreSQL processes): on a shared machine that, and the
 * ratio, say more than wall-clock time.
 * HUB_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) is passed to the hub's node.
 * Every phase has a time limit: one that does not end prints what it waited for and the job queue, and
 * the run ends with a JSON line `{"error":"stalled",…}` instead of hanging.
 * `--profile DIR` profiles the jobs-on hub (every thread) and prints where each thread's time went.
 * `--statements`: the drain's statements from pg_stat_statements, per analysed message (the server must
 * preload it: `shared_preload_libraries = 'pg_stat_statements'`), and `statements_per_msg` in the JSON line.
 * Usage: npm run bench -- ai-stage [--backlog 2000] [--offered 50] [--seconds 30] [--ceiling 640] [--profile DIR] [--statements]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import pg from 'pg';
import { cpuMeter, createDatabase, customerMessages, demoVisitors, exited, freePort, machine, mainThreadMs, startProcess, stopProcess } from '../support.js';
import { onSchedule, pct, queueState, Stalled, timeout, within } from '../ai-load.js';
import { profileReport } from '../profile.js';
import { readStatements, startStatements, statementReport } from '../statements.js';
import { AiKernel } from '../../ai/workers/kernel.js';
import { defaultExamples } from '../../ai/classify/store.js';

const { values } = parseArgs({ options: {
  backlog: { type: 'string', default: '2000' }, offered: { type: 'string', default: '50' }, seconds: { type: 'string', default: '30' }, ceiling: { type: 'string', default: '640' },
  profile: { type: 'string' }, statements: { type: 'boolean', default: false },
} });
const backlog = Number(values.backlog);
const offered = Number(values.offered);
const seconds = Number(values.seconds);
const baseUrl = process.env.DATABASE_URL;
if (!baseUrl) throw new Error('DATABASE_URL is required (npm run bench -- ai-stage starts PostgreSQL)');
const log = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const r1 = (n: number) => Math.round(n * 10) / 10;

const TEXTS = [
  'Hello, my order {i} has not arrived yet and I was charged twice. Can you check it?',
  'I cannot log in, the password reset link {i} never arrives',
  'Hei, tilaukseni {i} ei ole vieläkään tullut perille. Voitteko tarkistaa?',
  'Hej, jag har blivit debiterad två gånger för order {i}, kan ni hjälpa mig?',
  'Thanks a lot for the quick help with ticket {i}!',
  'The app crashes every time I open the invoice {i} page',
];
const text = (i: number) => TEXTS[i % TEXTS.length]!.replace('{i}', String(i));

/** The local models alone in batches of 32 on this thread. */
async function ceiling(n: number): Promise<number> {
  const kernel = new AiKernel();
  const model = await kernel.run({ kind: 'train-categories', examples: defaultExamples() });
  const batch = (from: number, models?: Record<string, { kind: 'category'; model: typeof model }>) =>
    kernel.run({ kind: 'analyze', items: Array.from({ length: 32 }, (_, j) => ({ text: text(from + j), languages: [], category: 'c', sentiment: null })), models });
  await batch(0, { c: { kind: 'category', model } });
  const t = performance.now();
  for (let i = 0; i < n; i += 32) await batch(i);
  return Math.ceil(n / 32) * 32 / ((performance.now() - t) / 1000);
}

const dataDir = mkdtempSync(join(tmpdir(), 'hummdesk-ai-stage-'));
const children: ChildProcess[] = [];
const database = await createDatabase(baseUrl);
const admin = new pg.Client({ connectionString: database.url });
const env = { HUMMDESK_DATA_DIR: dataDir, DATABASE_URL: database.url, REDIS_URL: '', HUMMDESK_RATE_LIMIT: '100000000', HUMMDESK_PUBLIC_RATE_LIMIT: '100000000', LOG_LEVEL: 'info' };

async function startHub(jobs: boolean) {
  const port = await freePort();
  const nodeArgs = process.env.HUB_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  if (jobs && values.profile) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${values.profile}`);
  const hub = await startProcess('node', [...nodeArgs, 'bin/hummdesk.js', 'start'], { ...env, PORT: String(port), HUMMDESK_RUN_JOBS: String(jobs) }, /"hub started"/, 120_000);
  children.push(hub.child);
  return { ...hub, url: `http://127.0.0.1:${port}` };
}

/** Analyses stored for messages whose text starts with `tag`, with their database times. */
async function analysed(tag: string) {
  const { rows } = await admin.query<{ committed: Date; stored: Date }>(
    `/* bench */ SELECT m.created_at AS committed, min(r.created_at) AS stored FROM messages m JOIN ai_results r ON r.message_id = m.id
     WHERE m.text LIKE $1 GROUP BY m.id, m.created_at`, [`${tag}%`]);
  return rows;
}

/** Until `n` are analysed, `limitMs` pass, or none more is stored for `stuckMs` (then it throws Stalled). */
async function waitAnalysed(tag: string, n: number, limitMs: number, stuckMs = Infinity) {
  let seen = -1;
  let movedAt = Date.now();
  for (const deadline = Date.now() + limitMs; ; await sleep(500)) {
    const rows = await analysed(tag);
    if (rows.length >= n || Date.now() > deadline) return rows;
    if (rows.length !== seen) [seen, movedAt] = [rows.length, Date.now()];
    else if (Date.now() - movedAt > stuckMs) throw new Stalled(`no analysis stored for ${Math.round(stuckMs / 1000)} s (${rows.length}/${n} of "${tag}")`);
  }
}

const load = () => loadavg().map((n) => n.toFixed(1)).join(' ');

try {
  log(`machine: ${machine()}; load average ${load()}`);
  log('ceiling: the local models alone, batches of 32, one thread…');
  const ceilingRate = await ceiling(Number(values.ceiling));
  log(`ceiling: ${r1(ceilingRate)} msgs/s`);
  await admin.connect();
  const seeded = await startProcess('node', ['bin/hummdesk.js', 'seed-demo'], env, /apiKey|exists/, 120_000);
  // It may have exited already: a listener added after its exit would wait for ever (a run stalled here once).
  await within('seed-demo to exit', 120_000, exited(seeded.child));
  const apiKey = /"apiKey":\s*"([^"]+)"/.exec(seeded.output())?.[1];
  if (!apiKey) throw new Error(`no demo API key:\n${seeded.output()}`);

  // Run 1: jobs off: the backlog, and a small knowledge base for the drafts to search.
  const off = await startHub(false);
  const visitors = await within('web chat sessions', 120_000, demoVisitors(off.url, 200));
  log(`backlog: ingesting ${backlog} messages with jobs off…`);
  await within('the backlog ingest', 600_000, autocannon({ url: off.url, connections: 16, amount: backlog, timeout: 30, requests: [customerMessages(visitors, 'backlog', (i) => `backlog ${text(i)}`)] }));
  await within('the jobs-off hub to stop', 60_000, stopProcess(off.child));

  // Run 2: jobs on: the backlog drains, then messages arrive at the offered rate.
  const on = await startHub(true);
  // Measured from when the models are loaded: a thread's start-up is not a cost per message.
  for (const deadline = Date.now() + 180_000; !/local AI models loaded/.test(on.output()) && Date.now() < deadline; ) await sleep(100);
  const counting: { ok: boolean; why?: string } = values.statements ? await startStatements(admin) : { ok: false };
  if (values.statements && !counting.ok) log(`--statements: pg_stat_statements is not available (${counting.why})`);
  const meter = await cpuMeter(database.url, on.child.pid!);
  const mainBefore = mainThreadMs(on.child.pid!);
  const loadBefore = load();
  const analysedBefore = (await analysed('backlog')).length;
  const auth = { 'x-api-key': apiKey, 'content-type': 'application/json' };
  const kb = await fetch(`${on.url}/api/v1/kb/import`, { method: 'POST', headers: auth, signal: timeout(), body: JSON.stringify({ articles: Array.from({ length: 20 }, (_, i) => ({ title: `Help ${i}`, body: `${text(i)} Here is how we handle it: ${TEXTS[(i + 1) % TEXTS.length]}`, externalId: `kb-${i}` })) }) });
  if (kb.status !== 202) throw new Error(`kb import: ${kb.status} ${await kb.text()}`);
  const progress = async (tag: string, n: number) => `${(await analysed(tag)).length}/${n} analysed; ${await queueState(on.url)}`;
  // Not stalled while analyses keep being stored: the limit is for a drain that stopped moving.
  const drained = await within('the backlog to drain', 960_000, waitAnalysed('backlog', backlog, 900_000, 120_000), () => progress('backlog', backlog));
  const times = drained.map((r) => r.stored.getTime()).sort((a, b) => a - b);
  const drainRate = times.length > 1 ? (times.length - 1) / ((times.at(-1)! - times[0]!) / 1000) : 0;
  const cpu = await meter.stop();
  const mainMs = mainThreadMs(on.child.pid!) - mainBefore;
  const per = (ms: number) => r1(ms / Math.max(1, drained.length - analysedBefore));
  const loadDrain = `${loadBefore} → ${load()}`;
  log(`drain: ${drained.length}/${backlog} analysed, ${r1(drainRate)} msgs/s; CPU per message: hub ${per(cpu.processMs)} ms (main thread ${per(mainMs)} ms), PostgreSQL ${per(cpu.postgresMs)} ms; load ${loadDrain}`);
  // The drain's statements (the knowledge-base import's few included), per analysed message.
  const statements = counting.ok ? await readStatements(admin) : undefined;
  if (statements) log(statementReport(statements, Math.max(1, drained.length - analysedBefore), 'analysed message'));

  log(`offered: ${offered} msgs/s for ${seconds} s…`);
  const post = (i: number) => {
    const v = visitors[i % visitors.length]!;
    return fetch(`${on.url}/webchat/demo-widget/messages`, {
      method: 'POST', signal: timeout(),
      headers: { 'content-type': 'application/json', authorization: `Visitor ${v.visitorToken}`, 'x-visitor-id': v.visitorId },
      body: JSON.stringify({ clientMessageId: `offered-${i}`, text: `offered ${text(i)}` }),
    });
  };
  const sent = await onSchedule(1000 / offered, sleep(seconds * 1000), post);
  const offeredRows = await within('the offered messages to be analysed', 660_000, waitAnalysed('offered', sent.count - sent.failed, 600_000, 120_000), () => progress('offered', sent.count - sent.failed));
  const delays = offeredRows.map((r) => r.stored.getTime() - r.committed.getTime()).sort((a, b) => a - b);
  await within('the hub to stop', 60_000, stopProcess(on.child));
  if (values.profile) log(`profile of the jobs-on hub (${values.profile}):\n${profileReport(values.profile)}`);

  const ratio = ceilingRate ? drainRate / ceilingRate : 0;
  const p95 = pct(delays, 95);
  process.stdout.write(
    `machine: ${machine()}\n` +
      `ceiling (models alone, batches of 32, one thread): ${r1(ceilingRate)} msgs/s\n` +
      `backlog of ${backlog} drained at ${r1(drainRate)} msgs/s (${Math.round(ratio * 100)} % of the ceiling); CPU per message: hub ${per(cpu.processMs)} ms (main thread ${per(mainMs)} ms), PostgreSQL ${per(cpu.postgresMs)} ms; load average ${loadDrain}\n` +
      `offered ${offered} msgs/s for ${seconds} s: ${offeredRows.length}/${sent.count} analysed; commit → analysis p50 ${pct(delays, 50)} ms p95 ${p95} ms max ${delays.at(-1) ?? 0} ms; ingest p99 ${sent.p99} ms\n` +
      `targets (≥ 0.8 of the ceiling, p95 < 2 s): ${ratio >= 0.8 && p95 < 2000 ? 'met' : 'NOT met'}\n`,
  );
  process.stdout.write(`${JSON.stringify({
    bench: 'ai-stage', msgs_per_s: r1(drainRate), ceiling_msgs_per_s: r1(ceilingRate), ratio: Math.round(ratio * 100) / 100,
    queue_delay_p50_ms: pct(delays, 50), queue_delay_p95_ms: p95, queue_delay_max_ms: delays.at(-1) ?? 0, offered_msgs_per_s: offered,
    offered_analysed: offeredRows.length, offered_sent: sent.count, ingest_p99_ms: sent.p99, backlog, analysed: drained.length,
    hub_cpu_ms_per_msg: per(cpu.processMs), ...(statements ? { statements_per_msg: per(statements.total.calls), statement_ms_per_msg: per(statements.total.execMs + statements.total.planMs) } : {}), main_thread_cpu_ms_per_msg: per(mainMs), postgres_cpu_ms_per_msg: per(cpu.postgresMs), load_drain: loadDrain, load_end: load(),
  })}\n`);
} catch (err) {
  // A phase that stalled (or failed) still ends the run with one JSON line saying where.
  log(String(err instanceof Error ? err.stack : err));
  process.stdout.write(`${JSON.stringify({ bench: 'ai-stage', error: err instanceof Stalled ? 'stalled' : 'failed', message: err instanceof Error ? err.message : String(err), load_end: load() })}\n`);
  process.exitCode = 1;
} finally {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await admin.end().catch(() => undefined);
  await database.drop().catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
}
// Polls still pending after a failure must not keep the run alive.
process.exit();
