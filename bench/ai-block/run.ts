/**
 * AI never blocks the hub: the embedded default (`hummdesk start`: PGlite, in-process jobs, local AI in its
 * threads) serving `/health` (every 20 ms) and web chat ingest (`--rate` messages/s on a fixed schedule)
 * while a 1 MB knowledge-base import and a 5,000-example category retrain run. First the same probes for
 * `--quiet` seconds with nothing else running, for comparison.
 * Targets: /health p99 < 50 ms, ingest p99 < 100 ms while the import and the retrain run.
 * The load phase ends when both are done, or after `--limit` seconds (default 900): then the figures so far
 * are printed with what had not finished (`unfinished`, the import's progress, the job queue), never a hang.
 * Beside the latencies (inflated on a shared machine) it reports CPU: the hub's process and its main
 * thread during the load phase, the event loop's delay as the hub measures it, and how long the main thread
 * waited for a CPU while ready to run (`main_thread_cpu_wait_s`: contention, as opposed to a stall of its own).
 * `--profile DIR` profiles the hub (every thread) and prints where each thread's time went and the main
 * thread's longest busy stretches during the load phase.
 * Usage: npm run bench -- ai-block [--rate 10] [--examples 5000] [--import-kb 1000]   (the request body limit is 1 MiB) [--quiet 5] [--limit 900] [--profile DIR]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import { cpuMs, demoVisitors, freePort, machine, mainThreadMs, mainThreadSched, startProcess, stopProcess } from '../support.js';
import { onSchedule, queueState, Stalled, timeout, within } from '../ai-load.js';
import { profileReport, stallReport } from '../profile.js';

const { values } = parseArgs({ options: {
  rate: { type: 'string', default: '10' }, examples: { type: 'string', default: '5000' }, 'import-kb': { type: 'string', default: '1000' },
  quiet: { type: 'string', default: '5' }, limit: { type: 'string', default: '900' }, profile: { type: 'string' },
} });
const limitMs = Number(values.limit) * 1000;
const rate = Number(values.rate);
const exampleCount = Number(values.examples);
const importBytes = Number(values['import-kb']) * 1024;
const log = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () => loadavg().map((n) => n.toFixed(1)).join(' ');
/** The hub's event loop delay since the last scrape (prom-client resets its histogram on each), in ms. */
async function loopDelay(url: string): Promise<{ p99: number; max: number }> {
  const text = await (await fetch(`${url}/metrics`, { signal: timeout() })).text();
  const read = (name: string) => Math.round(Number(new RegExp(`^hummdesk_nodejs_eventloop_lag_${name}_seconds (\\S+)`, 'm').exec(text)?.[1] ?? NaN) * 1000);
  return { p99: read('p99'), max: read('max') };
}

const dataDir = mkdtempSync(join(tmpdir(), 'hummdesk-ai-block-'));
const children: ChildProcess[] = [];
const WORDS = 'order parcel delivery refund invoice charge password login account billing tracking carrier warehouse return payment card subscription plan upgrade cancel export report mobile email notification address'.split(' ');
const CATEGORIES = ['shipping', 'billing', 'account', 'technical', 'general'];

/** Articles of about 2 KB each until `bytes` of JSON. */
function articles(bytes: number) {
  const out: { title: string; body: string; externalId: string }[] = [];
  let size = 0;
  for (let i = 0; size < bytes && out.length < 500; i++) {
    const paragraphs = Array.from({ length: 6 }, (_, p) => Array.from({ length: 50 }, (_, w) => WORDS[(i * 31 + p * 7 + w * 13) % WORDS.length]).join(' ') + '.');
    const a = { title: `Help article ${i}: ${WORDS[i % WORDS.length]}`, body: `# ${WORDS[(i + 3) % WORDS.length]}\n\n${paragraphs.join('\n\n')}`, externalId: `bench-${i}` };
    size += JSON.stringify(a).length;
    out.push(a);
  }
  return out;
}

try {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const spawnedAt = performance.now();
  const hub = await startProcess('node', [...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : []), 'bin/hummdesk.js', 'start'], {
    HUMMDESK_DATA_DIR: dataDir, PORT: String(port), HUMMDESK_RATE_LIMIT: '100000000', HUMMDESK_PUBLIC_RATE_LIMIT: '100000000', LOG_LEVEL: 'info',
    DATABASE_URL: '', REDIS_URL: '',
  }, /"hub started"/, 120_000);
  children.push(hub.child);
  const apiKey = /API key \(admin\):\s+(\S+)/.exec(hub.output())?.[1];
  if (!apiKey) throw new Error(`no demo API key in the output:\n${hub.output()}`);
  const auth = { 'x-api-key': apiKey, 'content-type': 'application/json' };
  for (const deadline = Date.now() + 180_000; !/local AI models loaded/.test(hub.output()); await sleep(100))
    if (Date.now() > deadline) throw new Error('the local AI models did not load in 180 s');
  const visitors = await within('web chat sessions', 120_000, demoVisitors(url, 50));
  const ingest = (tag: string) => (i: number) => {
    const v = visitors[i % visitors.length]!;
    return fetch(`${url}/webchat/demo-widget/messages`, {
      method: 'POST', signal: timeout(),
      headers: { 'content-type': 'application/json', authorization: `Visitor ${v.visitorToken}`, 'x-visitor-id': v.visitorId },
      body: JSON.stringify({ clientMessageId: `${tag}-${i}`, text: `Hello, my order ${i} has not arrived yet and I was charged twice. Can you check it?` }),
    });
  };
  const health = () => fetch(`${url}/health`, { signal: timeout() });

  log(`quiet: ${values.quiet} s of probes with nothing else running…`);
  const quietStop = sleep(Number(values.quiet) * 1000);
  const [quietHealth, quietIngest] = await Promise.all([onSchedule(20, quietStop, health), onSchedule(1000 / rate, quietStop, ingest('quiet'))]);

  const kb = articles(importBytes);
  const body = JSON.stringify({ articles: kb });
  const examples = Array.from({ length: exampleCount }, (_, i) => ({ category: CATEGORIES[i % CATEGORIES.length]!, text: `Example ${i}: ${Array.from({ length: 12 }, (_, w) => WORDS[(i * 17 + w * 5) % WORDS.length]).join(' ')}` }));
  log(`load: importing ${kb.length} articles (${Math.round(body.length / 1024)} KB) and retraining on ${exampleCount} examples…`);
  const json = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${url}${path}`, { headers: auth, signal: timeout() });
    if (!r.ok) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  };
  const modelBefore = await within('GET /ai/model before the load', 60_000, json<{ trainedAt: string }>('/api/v1/ai/model'));
  await loopDelay(url).catch(() => undefined);
  const pid = hub.child.pid!;
  const cpuBefore = { process: cpuMs([pid]), main: mainThreadMs(pid) };
  const schedBefore = mainThreadSched(pid);
  const loadBefore = load();
  const began = performance.now();
  const imp = await within('POST /kb/import', 60_000, fetch(`${url}/api/v1/kb/import`, { method: 'POST', headers: auth, body, signal: timeout() }));
  if (imp.status !== 202) throw new Error(`import: ${imp.status} ${await imp.text()}`);
  const importId = ((await imp.json()) as { id: string }).id;
  const ex = await within('POST /ai/examples', 60_000, fetch(`${url}/api/v1/ai/examples`, { method: 'POST', headers: auth, body: JSON.stringify({ examples }), signal: timeout() }));
  if (ex.status !== 202) throw new Error(`examples: ${ex.status} ${await ex.text()}`);
  const acceptedMs = performance.now() - began;
  let importS = NaN;
  let retrainS = NaN;
  let importSeen: { state: string; done: number; total: number } | undefined;
  let pollFailures = 0;
  let importFailed: string | undefined;
  const deadline = Date.now() + limitMs;
  // Ends when both are done or at the limit, never later: a status poll that cannot connect counts and is asked again.
  const finished = (async () => {
    for (; Date.now() < deadline && (Number.isNaN(importS) || Number.isNaN(retrainS)); await sleep(250)) {
      try {
        if (Number.isNaN(importS)) {
          const s = importSeen = await json<{ state: string; done: number; total: number; error: unknown }>(`/api/v1/kb/imports/${importId}`);
          if (s.state === 'done' || s.state === 'failed') importS = (performance.now() - began) / 1000;
          if (s.state === 'failed') importFailed = JSON.stringify(s);
        }
        if (Number.isNaN(retrainS)) {
          const m = await json<{ trainedAt: string; examples: number }>('/api/v1/ai/model');
          if (m.trainedAt !== modelBefore.trainedAt && m.examples >= exampleCount) retrainS = (performance.now() - began) / 1000;
        }
      } catch {
        pollFailures++;
      }
    }
  })();
  const [loadHealth, loadIngest] = await Promise.all([onSchedule(20, finished, health), onSchedule(1000 / rate, finished, ingest('load'))]);
  await finished;
  if (importFailed) throw new Error(`the import failed: ${importFailed}`);
  const loadS = (performance.now() - began) / 1000;
  const cpu = { process: cpuMs([pid]) - cpuBefore.process, main: mainThreadMs(pid) - cpuBefore.main };
  const schedAfter = mainThreadSched(pid);
  // Time the main thread was ready but waited for a CPU: contention, not work of its own.
  const mainWaitS = (schedAfter.waitMs - schedBefore.waitMs) / 1000;
  const loadDuring = `${loadBefore} → ${load()}`;
  const delay = await loopDelay(url).catch(() => ({ p99: NaN, max: NaN }));
  const unfinished = [...(Number.isNaN(importS) ? [`import (${importSeen ? `${importSeen.state}, ${importSeen.done}/${importSeen.total} articles` : 'no status read'})`] : []), ...(Number.isNaN(retrainS) ? ['retrain'] : [])];
  const queue = unfinished.length ? await queueState(url).catch((e: unknown) => `queue unreadable: ${String(e)}`) : '';
  if (unfinished.length) log(`not finished after ${Math.round(limitMs / 1000)} s: ${unfinished.join(', ')}; ${queue}; ${pollFailures} status polls failed`);
  const ok = !unfinished.length && loadHealth.p99 < 50 && loadIngest.p99 < 100 && !loadHealth.failed && !loadIngest.failed;
  process.stdout.write(
    `machine: ${machine()}\n` +
      `quiet:  /health p50 ${quietHealth.p50} ms p99 ${quietHealth.p99} ms max ${quietHealth.max} ms; ingest (${rate}/s) p50 ${quietIngest.p50} ms p99 ${quietIngest.p99} ms\n` +
      `import ${kb.length} articles (${Math.round(body.length / 1024)} KB) done in ${importS.toFixed(1)} s, retrain on ${exampleCount} examples in ${retrainS.toFixed(1)} s (both accepted in ${Math.round(acceptedMs)} ms)\n` +
      `during: /health p50 ${loadHealth.p50} ms p95 ${loadHealth.p95} ms p99 ${loadHealth.p99} ms max ${loadHealth.max} ms (${loadHealth.failed}/${loadHealth.count} failed); ` +
      `ingest p50 ${loadIngest.p50} ms p95 ${loadIngest.p95} ms p99 ${loadIngest.p99} ms max ${loadIngest.max} ms (${loadIngest.failed}/${loadIngest.count} failed)\n` +
      `CPU during the load phase (${loadS.toFixed(1)} s): hub process ${(cpu.process / 1000).toFixed(1)} s, its main thread ${(cpu.main / 1000).toFixed(1)} s (${Math.round(cpu.main / (loadS * 10))} % of one core); event loop delay p99 ${delay.p99} ms max ${delay.max} ms; the main thread waited ${mainWaitS.toFixed(1)} s for a CPU (ready to run); load average ${loadDuring}\n` +
      (unfinished.length ? `NOT finished within ${Math.round(limitMs / 1000)} s: ${unfinished.join(', ')}; ${queue}\n` : '') +
      `targets (/health p99 < 50 ms, ingest p99 < 100 ms): ${ok ? 'met' : 'NOT met'}\n`,
  );
  process.stdout.write(`${JSON.stringify({
    bench: 'ai-block', health_p99_ms: loadHealth.p99, health_p50_ms: loadHealth.p50, health_max_ms: loadHealth.max, ingest_p99_ms: loadIngest.p99, ingest_p50_ms: loadIngest.p50, ingest_max_ms: loadIngest.max,
    failed: loadHealth.failed + loadIngest.failed, import_kb: Math.round(body.length / 1024), import_articles: kb.length, import_s: Math.round(importS * 10) / 10,
    retrain_examples: exampleCount, retrain_s: Math.round(retrainS * 10) / 10, accepted_ms: Math.round(acceptedMs), ingest_rate: rate,
    quiet_health_p99_ms: quietHealth.p99, quiet_ingest_p99_ms: quietIngest.p99, load_s: Math.round(loadS * 10) / 10,
    hub_cpu_s: Math.round(cpu.process / 100) / 10, main_thread_cpu_s: Math.round(cpu.main / 100) / 10, loop_delay_p99_ms: delay.p99, loop_delay_max_ms: delay.max, main_thread_cpu_wait_s: Math.round(mainWaitS * 10) / 10,
    load_during: loadDuring, unfinished, poll_failures: pollFailures, targets_met: ok,
  })}\n`);
  // A profile is written as the process exits: killed, it writes none.
  await stopProcess(hub.child, values.profile ? 180_000 : undefined);
  if (values.profile) {
    log(`profile of the hub (${values.profile}):\n${profileReport(values.profile)}`);
    log(stallReport(values.profile, 15, { fromMs: began - spawnedAt, toMs: began - spawnedAt + loadS * 1000 }));
  }
} catch (err) {
  // A phase that stalled (or failed) still ends the run with one JSON line saying where.
  log(String(err instanceof Error ? err.stack : err));
  process.stdout.write(`${JSON.stringify({ bench: 'ai-block', error: err instanceof Stalled ? 'stalled' : 'failed', message: err instanceof Error ? err.message : String(err), targets_met: false })}\n`);
  process.exitCode = 1;
} finally {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
}
// Probes and polls still pending after a failure must not keep the run alive.
process.exit();
