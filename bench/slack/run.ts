/**
 * Slack benchmark with Slack's real limits: the local emulator answers every Web API call after
 * 50–300 ms and refuses what Slack refuses (about one post a second per channel with short bursts,
 * per-method tiers per workspace) with HTTP 429 + Retry-After. Customers of 4 brands write in their
 * brands' Slack workspaces; signed Events API requests go to a hub on a fresh Postgres database
 * (BullMQ on Redis, no AI), which mirrors every conversation into its brand team's triage channel
 * of the support workspace (4 triage channels). Two phases:
 *  - Steady: 2 customer messages a second over 40 conversations for 60 s (half of Slack's posting
 *    budget): message → first post showing it, p50/p95/p99.
 *  - Overload: 100 messages a second over 200 new conversations in the same 4 channels for 30 s:
 *    is every message shown in a post, none in two posts, and how long until the last one is (the
 *    wait is capped: `drained: false` says it was cut off, `lost` counts what was never shown by then,
 *    `jobs_pending_at_stop` whether the hub was still working on it, `jobs_failed` what it gave up on).
 * CPU of hub, PostgreSQL and Redis over the overload phase and its drain, idle subtracted, is divided
 * by the customer messages mirrored. "Shown" is what the emulator saw in a post or its update
 * (connectors/slack/testing/shown.ts): a root card showing the first message counts.
 *
 * Usage: npm run bench -- slack [--smoke] [--steady-seconds 60] [--steady-rate 2] [--steady-conversations 40]
 *   [--overload-seconds 30] [--overload-rate 100] [--overload-conversations 200] [--channels 4]
 *   [--drain-cap 300] [--idle-seconds 5] [--posts-per-second 1] [--burst 3] [--latency 50-300] [--no-limits]
 *   [--profile DIR] (the hub runs with node --cpu-prof, its profile written to DIR when it stops)
 *   [--no-ai-jobs] (ingest queues no ai.classify jobs; without it they run as no-ops, the hub having no AI)
 *   [--statements] (the overload phase's and drain's statements from pg_stat_statements, per message mirrored, and
 *   `statements_per_message` in the JSON line; the server must preload it: `shared_preload_libraries = 'pg_stat_statements'`)
 * `--smoke` (or BENCH_SMOKE=1) shortens it to 10 s steady, 5 s overload, drain capped at 60 s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import pg from 'pg';
import { SlackEmulator, type EmulatedWorkspace } from '../../connectors/slack/testing/emulator.js';
import { SlackDriver, envelope } from '../../connectors/slack/testing/driver.js';
import { ShownMessages } from '../../connectors/slack/testing/shown.js';
import { cpuMs, createDatabase, freePort, machine, startProcess, stopProcess } from '../support.js';
import { PostgresCpu } from '../postgres-cpu.js';
import { readStatements, startStatements, statementReport } from '../statements.js';
import type { BenchSetup } from './hub.js';

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: process.env.BENCH_SMOKE === '1' },
    'steady-seconds': { type: 'string' }, 'steady-rate': { type: 'string' }, 'steady-conversations': { type: 'string' },
    'overload-seconds': { type: 'string' }, 'overload-rate': { type: 'string' }, 'overload-conversations': { type: 'string' },
    channels: { type: 'string' }, 'drain-cap': { type: 'string' }, 'idle-seconds': { type: 'string' },
    'posts-per-second': { type: 'string' }, burst: { type: 'string' }, latency: { type: 'string' }, 'no-limits': { type: 'boolean', default: false },
    profile: { type: 'string' },
    // The hub has no AI provider either way; this also keeps ingest from queueing its no-op ai.classify jobs.
    'no-ai-jobs': { type: 'boolean', default: false },
    statements: { type: 'boolean', default: false },
  },
});
const smoke = values.smoke;
const num = (name: keyof typeof values, full: number, short = full): number => {
  const v = values[name];
  const n = typeof v === 'string' ? Number(v) : smoke ? short : full;
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
};
const steady = { seconds: num('steady-seconds', 60, 10), rate: num('steady-rate', 2), conversations: num('steady-conversations', 40) };
const overload = { seconds: num('overload-seconds', 30, 5), rate: num('overload-rate', 100), conversations: num('overload-conversations', 200) };
const channels = num('channels', 4);
const drainCapMs = num('drain-cap', 300, 60) * 1000;
const idleMs = num('idle-seconds', 5, 2) * 1000;
const [latencyMin, latencyMax = latencyMin] = (values.latency ?? '50-300').split('-').map(Number) as [number, number?];
const limitsOn = !values['no-limits'];
const baseUrl = process.env.DATABASE_URL;
const redisUrl = process.env.REDIS_URL;
if (!baseUrl || !redisUrl) throw new Error('DATABASE_URL and REDIS_URL are required (npm run bench -- slack starts Postgres and Redis)');

const SIGNING = randomBytes(16).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted: number[], p: number) => (sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10 : null);
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

const emulator = await SlackEmulator.start({
  limits: { enabled: limitsOn, postsPerSecondPerChannel: num('posts-per-second', 1), postBurst: num('burst', 3), latencyMs: { min: latencyMin, max: latencyMax } },
});
const triageChannels = Array.from({ length: channels }, (_, i) => `C0TRIAGE${i + 1}`);
const support = emulator.addWorkspace({ teamId: 'T0SUPPORT', teamName: 'Support', channels: triageChannels.map((id, i) => ({ id, name: `triage-brand-${i + 1}`, isMember: true })) });
const brands: (EmulatedWorkspace & { customerChannel: string })[] = Array.from({ length: channels }, (_, i) => ({
  ...emulator.addWorkspace({ teamId: `T0BRAND${i + 1}`, teamName: `Brand ${i + 1}`, channels: [{ id: `C0CUST${i + 1}`, name: 'customers', isMember: true, isExtShared: true }] }),
  customerChannel: `C0CUST${i + 1}`,
}));
const driver = new SlackDriver(SIGNING);
// Every customer message carries a token (bm<n>x); a post that shows the message carries it too.
const shown = new ShownMessages(emulator, { channels: (c) => triageChannels.includes(c), token: /bm\d+x/g });

const db = await createDatabase(baseUrl);
const dataDir = mkdtempSync(join(tmpdir(), 'hummdesk-bench-slack-'));
const port = await freePort();
const setup: BenchSetup = {
  support: { team: support.teamId, botToken: support.botToken, botUserId: support.botUserId, triageChannels },
  brands: brands.map((b) => ({ team: b.teamId, botToken: b.botToken, botUserId: b.botUserId, customerChannel: b.customerChannel })),
};
const hub = await startProcess('node', [...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : []), '--import', 'tsx', 'bench/slack/hub.ts'], {
  DATABASE_URL: db.url,
  REDIS_URL: redisUrl,
  HUMMDESK_DATA_DIR: dataDir,
  HUMMDESK_SECRET_KEY: randomBytes(32).toString('hex'),
  HUMMDESK_RATE_LIMIT: '100000000',
  HUMMDESK_JOB_BACKOFF_MS: '100',
  LOG_LEVEL: 'warn',
  PORT: String(port),
  SLACK_API_URL: emulator.apiUrl,
  SLACK_SIGNING_SECRET: SIGNING,
  BENCH_SETUP: JSON.stringify(setup),
  ...(values['no-ai-jobs'] ? { BENCH_NO_AI_JOBS: '1' } : {}),
}, /slack bench hub ready/, 120_000);
const url = `http://127.0.0.1:${port}/webhooks/slack`;
// The hub's BullMQ queue is named after its database (hub/queue/bullmq.ts).
const queueName = `hummdesk-jobs-${new URL(db.url).pathname.slice(1).replace(/[^A-Za-z0-9_-]/g, '_')}`;
const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
const queue = new Queue(queueName, { connection: redis });
const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);

const postgresCpu = await PostgresCpu.start(db.url);

/** CPU (ms) of the hub, this database's PostgreSQL processes (exited backends included) and Redis so far. */
async function cpuNow(): Promise<{ hub: number; postgres: number; postgresExited: number; redis: number }> {
  const pgNow = await postgresCpu.read();
  return { hub: cpuMs([hub.child.pid!]), postgres: pgNow.totalMs, postgresExited: pgNow.exitedMs, redis: redisPid ? cpuMs([redisPid]) : 0 };
}
function cpuSince(before: Awaited<ReturnType<typeof cpuNow>>, after: Awaited<ReturnType<typeof cpuNow>>) {
  return { hub: after.hub - before.hub, postgres: after.postgres - before.postgres, postgresExited: after.postgresExited - before.postgresExited, redis: after.redis - before.redis };
}

interface Conversation { brand: number; user: string; rootTs?: string }
let tokenSeq = 0;
let ackErrors = 0;
const sentAt = new Map<string, number>();

/** Sends `rate` messages a second for `seconds` round-robin over new conversations, on schedule whatever the hub's pace. */
async function phase(name: string, p: { seconds: number; rate: number; conversations: number }): Promise<{ tokens: string[]; started: number; lastSent: number }> {
  const conversations: Conversation[] = Array.from({ length: p.conversations }, (_, i) => ({ brand: i % channels, user: `U${name.toUpperCase()}${i}` }));
  const total = Math.round(p.seconds * p.rate);
  const tokens: string[] = [];
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  for (let k = 0; k < total; k++) {
    const wait = started + (k * 1000) / p.rate - performance.now();
    if (wait > 0) await sleep(wait);
    while (inFlight.size >= 256) await Promise.race(inFlight);
    const c = conversations[k % conversations.length]!;
    const brand = brands[c.brand]!;
    const token = `bm${tokenSeq++}x`;
    tokens.push(token);
    const text = `Hello, order ${k % p.conversations} of ${name} has not arrived yet (${token}). Can you check it?`;
    const m = emulator.postAsUser(brand.teamId, brand.customerChannel, c.user, text, c.rootTs);
    c.rootTs ??= m.ts;
    const signed = driver.event(envelope(brand.teamId, {
      type: 'message', channel: brand.customerChannel, channel_type: 'channel', user: c.user, user_profile: { real_name: `Customer ${c.user}`, display_name: c.user.toLowerCase() },
      text, ts: m.ts, ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
    }, { is_ext_shared_channel: true }));
    sentAt.set(token, performance.now());
    const sending = fetch(url, { method: 'POST', headers: signed.headers, body: signed.body.toString('utf8') })
      .then(async (res) => {
        const body = (await res.json()) as { results?: string[] };
        if (res.status !== 200 || body.results?.[0] !== 'created') ackErrors++;
      })
      .catch(() => void ackErrors++)
      .finally(() => inFlight.delete(sending));
    inFlight.add(sending);
  }
  await Promise.all(inFlight);
  return { tokens, started, lastSent: Math.max(...tokens.map((t) => sentAt.get(t)!)) };
}

/** Waits until every token is shown or the cap passes; true when all were. */
async function drain(tokens: string[], capMs: number): Promise<boolean> {
  const deadline = performance.now() + capMs;
  while (performance.now() < deadline) {
    if (shown.tally(tokens).shown === tokens.length) return true;
    await sleep(50);
  }
  return shown.tally(tokens).shown === tokens.length;
}

/** Waits until the hub's queue has nothing waiting, active or delayed (at most `capMs`). */
async function queueIdle(capMs: number): Promise<void> {
  const deadline = Date.now() + capMs;
  while (Date.now() < deadline) {
    const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    if (Object.values(c).every((n) => n === 0)) return;
    await sleep(200);
  }
}

/** Outbox rows (one queue job each, however often it was sent back) by topic so far. */
async function jobCounts(): Promise<Record<string, number>> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    const { rows } = await c.query<{ topic: string; n: number }>(`SELECT topic, count(*)::int AS n FROM outbox GROUP BY topic ORDER BY topic`);
    return Object.fromEntries(rows.map((r) => [r.topic, r.n]));
  } finally {
    await c.end();
  }
}

const callsFrom = (from: number, to = emulator.calls.length) => emulator.calls.slice(from, to);
const count429 = (from: number, to?: number) => callsFrom(from, to).filter((c) => c.status === 429).length;
const byMethod = (from: number, to?: number) => {
  const m = new Map<string, [number, number, number]>();
  for (const c of callsFrom(from, to)) {
    const row = m.get(c.method) ?? [0, 0, 0];
    row[c.status === 429 ? 1 : c.error ? 2 : 0]++;
    m.set(c.method, row);
  }
  return [...m].map(([method, [ok, limited, refused]]) => `${method} ${ok}/${limited}/${refused}`).join(', ');
};

try {
  // Steady.
  const steadyCalls = emulator.calls.length;
  const s = await phase('steady', steady);
  const steadyDrained = await drain(s.tokens, drainCapMs);
  const steadyTally = shown.tally(s.tokens);
  const latencies = s.tokens.flatMap((t) => (shown.shownAt(t) === undefined ? [] : [shown.shownAt(t)! - sentAt.get(t)!])).sort((a, b) => a - b);
  await queueIdle(30_000);
  const steadyEnd = emulator.calls.length;

  // Idle: what the three processes use doing nothing, to subtract.
  const idleBefore = await cpuNow();
  const idleStarted = performance.now();
  await sleep(idleMs);
  const idle = cpuSince(idleBefore, await cpuNow());
  const idleRate = (idle.hub + idle.postgres + idle.redis) / (performance.now() - idleStarted);

  // Overload. The statements' client resets before the first CPU reading and reads after the last: its own work is outside them.
  const admin = values.statements ? new pg.Client({ connectionString: db.url }) : undefined;
  await admin?.connect();
  const counting: { ok: boolean; why?: string } = admin ? await startStatements(admin) : { ok: false };
  if (admin && !counting.ok) process.stdout.write(`--statements: pg_stat_statements is not available (${counting.why})\n`);
  const overloadCalls = emulator.calls.length;
  const cpuBefore = await cpuNow();
  const o = await phase('overload', overload);
  const overloadDrained = await drain(o.tokens, drainCapMs);
  const overloadEnded = performance.now();
  const cpu = cpuSince(cpuBefore, await cpuNow());
  const overloadTally = shown.tally(o.tokens);
  const statements = admin && counting.ok ? await readStatements(admin, 25) : undefined;
  await admin?.end();
  const jobs = await jobCounts();
  const overloadEnd = emulator.calls.length;
  // Messages not shown yet but still queued are late, not dropped: say which.
  const pendingJobs = Object.values(await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')).reduce((a, b) => a + b, 0);
  // Jobs that failed for good: their messages are dropped unless a later sync of the conversation posts them.
  const failed = await queue.getFailed(0, 10_000);
  const failures = new Map<string, number>();
  for (const j of failed) failures.set(`${j.name}: ${(j.failedReason ?? '?').slice(0, 120)}`, (failures.get(`${j.name}: ${(j.failedReason ?? '?').slice(0, 120)}`) ?? 0) + 1);

  const posts = callsFrom(overloadCalls, overloadEnd).filter((c) => c.method === 'chat.postMessage' && c.status === 200 && !c.error).length;
  const updates = callsFrom(overloadCalls, overloadEnd).filter((c) => c.method === 'chat.update' && c.status === 200 && !c.error).length;
  const cpuTotal = cpu.hub + cpu.postgres + cpu.redis - idleRate * (overloadEnded - o.started);
  const perMirrored = (n: number) => (overloadTally.shown ? round(n / overloadTally.shown) : null);
  const drainS = overloadDrained && overloadTally.lastShownAt !== undefined ? round(Math.max(0, overloadTally.lastShownAt - o.lastSent) / 1000, 1) : null;
  const eventsPerS = overloadTally.lastShownAt !== undefined ? Math.round(overloadTally.shown / ((overloadTally.lastShownAt - o.started) / 1000)) : 0;
  const steadyLost = s.tokens.length - steadyTally.shown;
  const overloadLost = o.tokens.length - overloadTally.shown;
  const http429 = count429(steadyCalls, overloadEnd);

  process.stdout.write(
    `machine: ${machine()}\n` +
      `emulator: limits ${limitsOn ? 'on' : 'OFF'} (${num('posts-per-second', 1)} post/s per channel, burst ${num('burst', 3)}; tiers per workspace), latency ${latencyMin}–${latencyMax} ms; ${channels} triage channels; hub: BullMQ, no AI${values['no-ai-jobs'] ? ', no ai.classify jobs' : ' (its ai.classify jobs run as no-ops)'}\n` +
      `steady: ${s.tokens.length} messages (${steady.rate}/s over ${steady.conversations} conversations, ${steady.seconds} s): shown ${steadyTally.shown}, lost ${steadyLost}, doubled ${steadyTally.doubled}${steadyDrained ? '' : ' (drain cut off)'}; message → post p50 ${percentile(latencies, 50)} ms  p95 ${percentile(latencies, 95)} ms  p99 ${percentile(latencies, 99)} ms; 429s ${count429(steadyCalls, steadyEnd)}\n` +
      `overload: ${o.tokens.length} messages (${overload.rate}/s over ${overload.conversations} conversations, ${overload.seconds} s): shown ${overloadTally.shown}, ${overloadDrained ? 'lost' : 'not shown when the wait stopped (lost, or late if jobs are still queued)'} ${overloadLost}, doubled ${overloadTally.doubled}; ` +
      (overloadDrained ? `drained ${drainS} s after the last message` : `NOT drained: stopped waiting ${drainCapMs / 1000} s after the last message, ${pendingJobs} jobs still queued`) +
      `; ${posts} posts + ${updates} updates (${perMirrored(posts)} posts per message mirrored); 429s ${count429(overloadCalls, overloadEnd)} of ${overloadEnd - overloadCalls} calls\n` +
      (failed.length ? `jobs failed for good: ${failed.length} (${[...failures].map(([r, n]) => `${n}× ${r}`).join('; ')})\n` : '') +
      `Slack calls in overload + drain (ok/429/refused): ${byMethod(overloadCalls, overloadEnd)}\n` +
      `queue jobs (both phases): ${Object.entries(jobs).map(([t, n]) => `${t} ${n}`).join(', ')} for ${s.tokens.length + o.tokens.length} messages\n` +
      (statements ? `${statementReport(statements, Math.max(1, overloadTally.shown), 'message mirrored')}\n` : '') +
      `CPU over overload + drain: hub ${Math.round(cpu.hub)} ms, PostgreSQL ${Math.round(cpu.postgres)} ms (${Math.round(cpu.postgresExited)} of it by backends that exited), Redis ${Math.round(cpu.redis)} ms, idle ${round(idleRate * 1000, 1)} ms/s subtracted → ${perMirrored(cpuTotal)} ms per message mirrored; acknowledgement errors ${ackErrors}\n`,
  );
  process.stdout.write(
    `${JSON.stringify({
      bench: 'slack', emulator_limits: limitsOn,
      p50_ms: percentile(latencies, 50), p95_ms: percentile(latencies, 95), p99_ms: percentile(latencies, 99),
      events_per_s: eventsPerS,
      events: s.tokens.length + o.tokens.length, posted: steadyTally.shown + overloadTally.shown, lost: steadyLost + overloadLost, doubled: steadyTally.doubled + overloadTally.doubled,
      http_429: http429, posts_per_message: perMirrored(posts), updates_per_message: perMirrored(updates), drain_s: drainS, drained: overloadDrained, drain_cap_s: drainCapMs / 1000, jobs_pending_at_stop: pendingJobs, jobs_failed: failed.length,
      cpu_ms_per_message: perMirrored(cpuTotal), hub_cpu_ms_per_message: perMirrored(cpu.hub), pg_cpu_ms_per_message: perMirrored(cpu.postgres), pg_exited_cpu_ms: Math.round(cpu.postgresExited), redis_cpu_ms_per_message: perMirrored(cpu.redis),
      ...(statements ? { statements_per_message: perMirrored(statements.total.calls), statement_ms_per_message: perMirrored(statements.total.execMs + statements.total.planMs) } : {}),
      steady_events: s.tokens.length, steady_posted: steadyTally.shown, steady_lost: steadyLost, steady_doubled: steadyTally.doubled, steady_http_429: count429(steadyCalls, steadyEnd),
      overload_events: o.tokens.length, overload_posted: overloadTally.shown, overload_lost: overloadLost, overload_doubled: overloadTally.doubled, overload_http_429: count429(overloadCalls, overloadEnd),
      ai_jobs: !values['no-ai-jobs'], surface_sync_jobs: jobs['surface.sync'] ?? 0, ai_classify_jobs: jobs['ai.classify'] ?? 0,
      ack_errors: ackErrors, steady_seconds: steady.seconds, overload_seconds: overload.seconds, channels,
    })}\n`,
  );
} finally {
  await stopProcess(hub.child);
  await postgresCpu.close();
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  redis.disconnect();
  await emulator.close();
  await db.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
