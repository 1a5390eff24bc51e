/**
 * Teams benchmark with Teams' limits on: the Bot Connector emulator answers every call after 50–300 ms and
 * refuses what Teams refuses (per thread 7/1 s, 8/2 s, 60/30 s, 1,800/h) with 429 + Retry-After. A hub on a
 * fresh Postgres database (in-process jobs, no AI) with its Teams surface; one Teams team claimed by an
 * account, cards in one standard channel. Two phases:
 *  - Clicks: 20 linked agents click "Assign to me" at once (signed `adaptiveCard/action` invokes to
 *    POST /webhooks/teams), each on another conversation's card, for several rounds: invoke p50/p95/p99.
 *  - Messages: customers write 20 messages a second over 50 conversations: message → the thread reply
 *    showing it, p50/p95/p99; `lost` (never shown by the end of the drain) and `doubled` (shown in two posts).
 *
 * Usage: npm run bench -- teams [--smoke] [--agents 20] [--rounds 5] [--rate 20] [--conversations 50] [--seconds 30] [--drain-cap 120] [--latency 50-300]
 *   [--profile DIR] (CPU profiles of this process, hub and emulator, during the measured clicks and during the messages:
 *   DIR/teams-clicks.cpuprofile, DIR/teams-messages.cpuprofile, for Chrome DevTools or speedscope)
 * The last line is one JSON object.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createTestAccount, eventually, startTestHub } from '../../hub/testing/harness.js';
import { ChannelEmulator, TestChannelConnector } from '../../hub/testing/test-channel.js';
import { installTeams } from '../../hub/install-teams.js';
import { withAccount } from '../../storage/session.js';
import { findInstallation } from '../../storage/repositories/channels.js';
import { insertUser } from '../../storage/repositories/users.js';
import { BotConnectorEmulator, type EmulatedActivity, type EmulatedMember } from '../../connectors/teams/testing/emulator.js';
import { TeamsDriver } from '../../connectors/teams/testing/driver.js';
import type { Activity } from '../../connectors/teams/activity.js';
import pg from 'pg';
import { loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { machine } from '../support.js';
import { subscribe } from 'node:diagnostics_channel';
import { invokePhases, type InvokePhase } from '../../hub/teams/phases.js';

// Figures that survive a loaded machine: this process's CPU and its database statements (round trips;
// a tenant transaction's BEGIN carries its tenant switch) per invoke and per message.
let statements = 0;
const pgQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  statements++;
  return (pgQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.query;
// Database connections opened (a burst after a quiet spell finds the pool shrunk: each new one is a fresh backend).
let connections = 0;
const pgConnect = pg.Client.prototype.connect;
pg.Client.prototype.connect = function (this: pg.Client, ...args: unknown[]) {
  connections++;
  return (pgConnect as (...a: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.connect;
// How long each pool checkout waited (a free connection, or a new one opened), while the measured clicks ran.
let acquireWaits: number[] | undefined;
const poolConnect = pg.Pool.prototype.connect;
pg.Pool.prototype.connect = function (this: pg.Pool, ...args: unknown[]) {
  const started = performance.now();
  const out = (poolConnect as (...a: unknown[]) => unknown).apply(this, args);
  const waits = acquireWaits;
  if (waits && out instanceof Promise) out.then(() => waits.push(performance.now() - started), () => undefined);
  return out;
} as typeof pg.Pool.prototype.connect;
// Where each measured invoke was when each phase ended (hub/teams/phases.ts), by activity id.
const phaseAt = new Map<string, Map<string, number>>();
subscribe(invokePhases.name, (m) => {
  const p = m as InvokePhase;
  (phaseAt.get(p.activityId) ?? phaseAt.set(p.activityId, new Map()).get(p.activityId)!).set(p.phase, p.at);
});
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: process.env.BENCH_SMOKE === '1' },
    agents: { type: 'string' }, rounds: { type: 'string' }, rate: { type: 'string' }, conversations: { type: 'string' },
    seconds: { type: 'string' }, 'drain-cap': { type: 'string' }, latency: { type: 'string' }, profile: { type: 'string' },
  },
});
const smoke = values.smoke;
const num = (name: keyof typeof values, full: number, short = full): number => {
  const v = values[name];
  const n = typeof v === 'string' ? Number(v) : smoke ? short : full;
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
};
const agents = num('agents', 20);
const rounds = num('rounds', 5, 2);
const rate = num('rate', 20);
const conversations = num('conversations', 50, 20);
const seconds = num('seconds', 30, 5);
const drainCapMs = num('drain-cap', 120, 60) * 1000;
const [latencyMin, latencyMax = latencyMin] = (values.latency ?? '50-300').split('-').map(Number) as [number, number?];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted: number[], p: number) => (sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!) : null);
const log = (msg: string) => process.stderr.write(`[bench teams] ${msg}\n`);
/** CPU profile of what runs between start and the returned stop (all of this process: hub, emulator, bench). */
async function profiling(name: string): Promise<() => Promise<void>> {
  const dir = values.profile;
  if (!dir) return async () => undefined;
  mkdirSync(dir, { recursive: true });
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(join(dir, `teams-${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
    log(`profile written to ${join(dir, `teams-${name}.cpuprofile`)}`);
  };
}

const emulator = await BotConnectorEmulator.start({ latencyMs: [latencyMin, latencyMax], limits: true });
const platform = await ChannelEmulator.start();
const t = await startTestHub({ env: { ...emulator.hubEnv(), LOG_LEVEL: 'silent' } });
try {
  installTeams(t.hub);
  // How long each surface.sync job holds one of the runner's slots (they wait on Teams most of that time).
  const syncJobMs: number[] = [];
  const syncHandler = t.hub.handlers['surface.sync']!;
  t.hub.handlers['surface.sync'] = async (job) => {
    const started = performance.now();
    try {
      await syncHandler(job);
    } finally {
      syncJobMs.push(performance.now() - started);
    }
  };
  const acct = await createTestAccount(t, { channelKind: 'whatsapp', secrets: {} });
  t.hub.connectors.set('whatsapp', new TestChannelConnector(platform));
  const customers = (await findInstallation(t.hub.db, t.hub.box, { kind: 'whatsapp', id: acct.channelId }))!;
  const team = emulator.addTeam({ name: 'Support' });
  const channel = emulator.addChannel(team.id, { name: 'Cards' });
  const driver = new TeamsDriver(emulator);
  const members: EmulatedMember[] = [];
  for (let i = 0; i < agents; i++) {
    const email = `agent${i}@bench.test`;
    members.push(emulator.addMember(team.id, { name: `Agent ${i}`, email }));
    await withAccount(t.hub.db, acct.accountId, (tx) => insertUser(tx, { accountId: acct.accountId, email, name: `Agent ${i}`, role: 'agent', passwordHash: 'x' }));
  }
  const deliver = (a: Activity) => {
    const s = driver.sign(a);
    return t.app.inject({ method: 'POST', url: '/webhooks/teams', headers: s.headers, payload: s.body });
  };
  const admin = { authorization: `Bearer ${acct.users.admin.token}` };
  await deliver(driver.installed(team));
  const code = /([A-Z2-9]{4}-[A-Z2-9]{4})/.exec(emulator.roots(team.id).find((a) => /code/.test(a.text ?? ''))!.text!)![1]!;
  const install = (await t.app.inject({ method: 'POST', url: '/api/v1/msteams/installs', headers: admin, payload: { code } })).json() as { id: string };
  await t.app.inject({ method: 'PUT', url: `/api/v1/msteams/installs/${install.id}/routing`, headers: admin, payload: { defaultChannel: channel.id } });

  const ingest = (customer: string, text: string) => t.hub.ingest.ingest(customers, [{
    type: 'message',
    message: {
      channel: { kind: customers.kind, channelId: customers.id }, externalId: `in-${randomBytes(6).toString('hex')}`, threadKey: `${customers.kind}:${customers.id}:${customer}`,
      direction: 'inbound', sender: { externalId: customer, displayName: customer, address: customer, isBot: false }, sentAt: new Date().toISOString(), text, attachments: [], raw: {},
    },
  }]);
  // Root cards by conversation, each root read once: serializing every card on every poll cost this process
  // (which is also the hub's) more CPU than the hub itself.
  const cards = new Map<string, EmulatedActivity>();
  const indexed = new Set<string>();
  const cardOf = (conversationId: string) => {
    for (const a of emulator.roots(channel.id)) {
      if (indexed.has(a.id) || !a.fromBot) continue;
      indexed.add(a.id);
      const id = /"conversationId":"([0-9a-f-]{36})"/.exec(JSON.stringify(a.attachments ?? []))?.[1];
      if (id) cards.set(id, a);
    }
    return cards.get(conversationId);
  };
  const buttonOf = (card: EmulatedActivity, hd: string) => {
    let found: Record<string, unknown> | undefined;
    const walk = (v: unknown) => {
      if (found || !v || typeof v !== 'object') return;
      const o = v as Record<string, unknown>;
      if (o.type === 'Action.Execute' && (o.data as { hd?: string } | undefined)?.hd === hd) found = o.data as Record<string, unknown>;
      for (const x of Object.values(o)) walk(x);
    };
    walk(card.attachments);
    return found;
  };

  // ---------- clicks ----------
  log(`clicks: ${agents} agents × ${rounds} rounds`);
  const clickMs: number[] = [];
  let clickFailures = 0;
  let clickCpuMs = 0;
  let clickStatements = 0;
  let clicksMeasured = 0;
  let clickConnections = 0;
  // Per measured invoke: ms from its request to the end of each phase, and to its answer.
  const PHASES = ['authenticated', 'context', 'read', 'acted', 'answered'] as const;
  const phaseMs = new Map<string, number[]>([...PHASES, 'answer'].map((p) => [p, []]));
  const acquireMs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const convs: string[] = [];
    for (let i = 0; i < agents; i++) convs.push((await ingest(`click-${r}-${i}`, `Round ${r}, card ${i}`))[0]!.conversationId!);
    const cards = await eventually(async () => {
      const found = convs.map(cardOf);
      return found.every(Boolean) ? (found as EmulatedActivity[]) : undefined;
    }, 300_000);
    // Linked on their first action in the warm-up round; measured from the second round on (profiled: the first of them).
    const profiled = r === 1 || rounds === 1;
    const stopProfile = profiled ? await profiling('clicks') : undefined;
    // Bot Framework signs its requests: signed before the clock starts, so only the hub's work is timed.
    const signed = cards.map((card, i) => driver.sign(driver.invoke(team, channel.id, card.id, card.id, 'assignMe', buttonOf(card, 'assignMe')!, members[i]!)));
    const cpu0 = cpuNow();
    const st0 = statements;
    const conn0 = connections;
    const measured = r > 0 || rounds === 1;
    acquireWaits = measured ? acquireMs : undefined;
    const results = await Promise.all(signed.map(async (s) => {
      const started = performance.now();
      const res = await t.app.inject({ method: 'POST', url: '/webhooks/teams', headers: s.headers, payload: s.body });
      const ms = performance.now() - started;
      const ok = res.statusCode === 200 && (res.json() as { type?: string }).type === 'application/vnd.microsoft.card.adaptive';
      const at = phaseAt.get(s.activity.id!);
      if (measured) {
        for (const p of PHASES) if (at?.has(p)) phaseMs.get(p)!.push(at.get(p)! - started);
        phaseMs.get('answer')!.push(ms);
      }
      return { ms, ok };
    }));
    acquireWaits = undefined;
    // The invokes alone (their answers), not the shared card's syncs they queue.
    await stopProfile?.();
    if (r > 0 || rounds === 1) {
      clickCpuMs += cpuNow() - cpu0;
      clickStatements += statements - st0;
      clickConnections += connections - conn0;
      clicksMeasured += results.length;
    }
    for (const x of results) {
      if (!x.ok) clickFailures++;
      if (r > 0 || rounds === 1) clickMs.push(x.ms);
    }
  }
  clickMs.sort((a, b) => a - b);

  // ---------- customer messages ----------
  log(`messages: ${rate}/s over ${conversations} conversations for ${seconds} s`);
  const customersList = Array.from({ length: conversations }, (_, i) => `cust-${i}`);
  for (const c of customersList) await ingest(c, `Opening message of ${c}`);
  await eventually(async () => {
    const ids = (await withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<{ n: number }>(`SELECT count(*)::int n FROM surface_threads WHERE surface = 'teams'`)).rows[0]!.n));
    return ids >= conversations + agents * rounds;
  }, 600_000);
  const sentAt = new Map<string, number>();
  const seenAt = new Map<string, number>();
  const seenIn = new Map<string, Set<string>>();
  // Only activities posted since the last scan (thread posts showing messages are never edited into new tokens):
  // rescanning all of them every 50 ms cost this process more CPU than the hub, and grew with the run.
  let scanned = 0;
  const scan = () => {
    const fresh = emulator.activities.slice(scanned);
    scanned += fresh.length;
    for (const a of fresh) {
      if (!a.fromBot || a.rootId === a.id || !a.text) continue;
      for (const m of a.text.matchAll(/bm\d+x/g)) {
        const token = m[0];
        if (!seenAt.has(token)) seenAt.set(token, performance.now());
        (seenIn.get(token) ?? seenIn.set(token, new Set()).get(token)!).add(a.id);
      }
    }
  };
  const scanner = setInterval(scan, 50);
  const stopMessageProfile = await profiling('messages');
  const syncJobs0 = syncJobMs.length;
  const msgCpu0 = cpuNow();
  const msgSt0 = statements;
  let n = 0;
  const started = performance.now();
  const total = rate * seconds;
  while (n < total) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    while (n < Math.min(due, total)) {
      const token = `bm${n}x`;
      sentAt.set(token, performance.now());
      void ingest(customersList[n % conversations]!, `Message ${token}`);
      n++;
    }
    await sleep(10);
  }
  const drainStart = performance.now();
  while (seenAt.size < total && performance.now() - drainStart < drainCapMs) await sleep(100);
  clearInterval(scanner);
  scan();
  await stopMessageProfile();
  const msgCpuMs = cpuNow() - msgCpu0;
  const msgStatements = statements - msgSt0;
  const latencies = [...sentAt].filter(([k]) => seenAt.has(k)).map(([k, at]) => seenAt.get(k)! - at).sort((a, b) => a - b);
  const doubled = [...seenIn.values()].filter((s) => s.size > 1).length;
  const result = {
    bench: 'teams',
    machine: machine(),
    limits: 'Teams per thread 7/1 s, 8/2 s, 60/30 s, 1800/h',
    latency_ms: [latencyMin, latencyMax],
    load_average: loadavg().map((l) => Math.round(l * 10) / 10),
    invoke: {
      agents, rounds, p50_ms: percentile(clickMs, 50), p95_ms: percentile(clickMs, 95), p99_ms: percentile(clickMs, 99), failures: clickFailures,
      // Hub process CPU and database statements while the invokes ran, per invoke (background work included).
      cpu_ms_per_invoke: clicksMeasured ? Math.round((clickCpuMs / clicksMeasured) * 10) / 10 : null,
      statements_per_invoke: clicksMeasured ? Math.round((clickStatements / clicksMeasured) * 10) / 10 : null,
      // Database connections the measured rounds opened (fresh backends warm their caches on their first statements).
      connections_opened: clickConnections,
      // ms from an invoke's request to the end of each phase (hub/teams/phases.ts), p50 / p95 over the measured invokes.
      phases_ms: Object.fromEntries([...phaseMs].map(([p, ms]) => {
        ms.sort((a, b) => a - b);
        return [p, [percentile(ms, 50), percentile(ms, 95)]];
      })),
      // Pool checkouts during the measured invokes (theirs and any job's): how long they waited, p50 / p95 / max.
      pool_acquire_ms: (() => {
        const ms = [...acquireMs].sort((a, b) => a - b);
        return { n: ms.length, p50: percentile(ms, 50), p95: percentile(ms, 95), max: ms.length ? Math.round(ms.at(-1)!) : null };
      })(),
    },
    messages: {
      rate, conversations, seconds, sent: total,
      p50_ms: percentile(latencies, 50), p95_ms: percentile(latencies, 95), p99_ms: percentile(latencies, 99),
      lost: total - seenAt.size, doubled, drained: seenAt.size === total,
      // Everything the hub process did from the first message to the end of the drain (ingest included), per message.
      cpu_ms_per_message: Math.round((msgCpuMs / total) * 10) / 10,
      statements_per_message: Math.round((msgStatements / total) * 10) / 10,
      // surface.sync jobs run meanwhile (requests an earlier run covered included) and how long each held its slot.
      sync_jobs: syncJobMs.length - syncJobs0,
      sync_job_ms: (() => {
        const ms = syncJobMs.slice(syncJobs0).sort((a, b) => a - b);
        return { p50: percentile(ms, 50), p95: percentile(ms, 95), mean: ms.length ? Math.round(ms.reduce((a, b) => a + b, 0) / ms.length) : null };
      })(),
    },
    teams_429: emulator.calls.filter((c) => c.status === 429).length,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await t.close();
  await emulator.close();
  await platform.close();
}
