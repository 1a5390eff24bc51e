/**
 * Inbox benchmark: one large account on PostgreSQL (50,000 conversations, ~500,000 messages, seeded
 * through hub.ingest with jobs off, then agents' replies, statuses, teams and assignees; a few small
 * accounts beside it), then GET /api/v1/conversations for every inbox view and for search, and
 * GET /conversations/counts, each at `--connections` for `--seconds`, as one of the account's agents,
 * beside a bare Fastify route reading one conversation by primary key (the ceiling).
 * Last line: one JSON object (`max_p95_ms` over the views and searches, `ceiling_p95_ms`, each figure).
 * Usage: npm run bench -- api [--conversations 50000] [--seconds 10] [--connections 20] [--limit 50]
 *        [--keep] (keep the database and print its URL) [--db URL] (measure a kept database, no seeding)
 *        [--only open,resolved] (measure only these views, by name; counts only when named)
 *        [--view summary|full] (the page's fields: `summary`, the default, is what the desk's inbox asks for)
 * A smoke run: BENCH_API_CONVERSATIONS=2000 npm run bench -- api --seconds 3
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { cpuMeter, createDatabase, freePort, machine, startProcess, stopProcess } from '../support.js';
import { PASSWORD, WORDS, seed } from './seed.js';

const { values } = parseArgs({
  options: {
    conversations: { type: 'string', default: process.env.BENCH_API_CONVERSATIONS ?? '50000' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '20' },
    limit: { type: 'string', default: '50' },
    keep: { type: 'boolean', default: false },
    db: { type: 'string' },
    only: { type: 'string' },
    view: { type: 'string', default: 'summary' },
  },
});
const conversations = Number(values.conversations);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const limit = Number(values.limit);
const baseUrl = process.env.DATABASE_URL;
if (!baseUrl && !values.db) throw new Error('DATABASE_URL is required (npm run bench -- api starts Postgres)');

const percentile = (sorted: number[], p: number) => Math.round((sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0) * 10) / 10;
const log = (s: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);

interface Load { rps: number; ok: number; errors: number; p50: number; p95: number; p99: number; hubCpuMs?: number; pgCpuMs?: number }

async function load(url: string, path: string, headers: Record<string, string>, duration = seconds): Promise<Load> {
  const latencies: number[] = [];
  const instance = autocannon({ url: `${url}${path}`, connections, duration, headers }) as unknown as NodeJS.EventEmitter & Promise<autocannon.Result>;
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status < 300) latencies.push(ms);
  });
  const result = await instance;
  latencies.sort((a, b) => a - b);
  return { rps: Math.round(latencies.length / duration), ok: latencies.length, errors: result.non2xx + result.errors + result.timeouts, p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) };
}

/** What the views need to know about the seeded account, read back from the store (also for a kept one). */
async function describe(url: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const one = async <T>(sql: string, params: unknown[] = []) => (await c.query(sql, params)).rows[0] as T;
    const { accountId } = await one<{ accountId: string }>(`SELECT id AS "accountId" FROM accounts WHERE slug = 'bench-large'`);
    const { otherAgentId } = await one<{ otherAgentId: string }>(`SELECT id AS "otherAgentId" FROM users WHERE account_id = $1 AND email = 'agent1@bench-large.test'`, [accountId]);
    const { teamId } = await one<{ teamId: string }>(`SELECT id AS "teamId" FROM teams WHERE account_id = $1 AND name = 'Billing'`, [accountId]);
    const figures = await one<Record<string, string>>(
      `SELECT (SELECT count(*) FROM conversations WHERE account_id = $1) AS conversations, (SELECT count(*) FROM messages WHERE account_id = $1) AS messages,
              (SELECT count(*) FROM conversations WHERE account_id <> $1) AS other_conversations,
              (SELECT count(*) FROM accounts WHERE id <> $1) AS other_accounts`,
      [accountId],
    );
    const words: Record<string, number> = {};
    for (const [k, w] of Object.entries(WORDS)) {
      words[k] = Number((await one<{ n: string }>(`SELECT count(*) AS n FROM messages WHERE account_id = $1 AND search @@ to_tsquery('simple', $2)`, [accountId, w])).n);
    }
    const statuses = Object.fromEntries((await c.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM conversations WHERE account_id = $1 GROUP BY 1 ORDER BY 1`, [accountId])).rows.map((r) => [r.status, Number(r.n)]));
    return { accountId, otherAgentId, teamId, figures, words, statuses };
  } finally {
    await c.end();
  }
}

const db = values.db ? { url: values.db, drop: async () => {} } : await createDatabase(baseUrl!);
const dataDir = mkdtempSync(join(tmpdir(), 'hummdesk-bench-api-'));
let seedSeconds: number | null = null;
try {
  if (!values.db) {
    log(`seeding ${conversations} conversations through ingest into ${db.url}`);
    const s = await seed(db.url, dataDir, { conversations, inboundPer: 8, repliesPer: 2, smallAccounts: 3, smallConversations: 300 }, log);
    seedSeconds = s.seconds;
    log(`seeded in ${s.seconds} s`);
  }
  const info = await describe(db.url);
  log(`account: ${JSON.stringify(info.figures)} words ${JSON.stringify(info.words)} statuses ${JSON.stringify(info.statuses)}`);

  const port = await freePort();
  const env = {
    DATABASE_URL: db.url,
    HUMMDESK_DATA_DIR: dataDir,
    HUMMDESK_SECRET_KEY: randomBytes(32).toString('hex'),
    HUMMDESK_RUN_JOBS: 'false',
    HUMMDESK_RATE_LIMIT: '100000000',
    HUMMDESK_PUBLIC_RATE_LIMIT: '100000000',
    LOG_LEVEL: 'warn',
    REDIS_URL: '',
    PORT: String(port),
  };
  const hub = await startProcess('node', [...(process.env.HUB_NODE_ARGS ?? '').split(' ').filter(Boolean), 'bin/hummdesk.js', 'start'], env, /HummDesk is running/, 120_000);
  const url = `http://127.0.0.1:${port}`;
  const login = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'agent0@bench-large.test', password: PASSWORD }) });
  if (!login.ok) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  const auth = { authorization: `Bearer ${((await login.json()) as { accessToken: string }).accessToken}` };

  if (values.view !== 'summary' && values.view !== 'full') throw new Error(`--view: summary or full, not ${values.view}`);
  const list = (query: string) => `/api/v1/conversations?limit=${limit}&view=${values.view}${query ? `&${query}` : ''}`;
  const views: Record<string, string> = {
    mine: list('status=open&assignee=me'),
    unassigned: list('status=open&assignee=none'),
    open: list('status=open'),
    snoozed: list('status=snoozed'),
    resolved: list('status=resolved'),
    team: list(`status=resolved&team=${info.teamId}`),
    assignee: list(`status=open&assignee=${info.otherAgentId}`),
    search_common: list(`q=${WORDS.common}`),
    search_medium: list(`q=${WORDS.medium}`),
    search_rare: list(`q=${WORDS.rare}`),
  };
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
  if (only) {
    const unknown = only.filter((name) => name !== 'counts' && !(name in views));
    if (unknown.length) throw new Error(`--only: no view named ${unknown.join(', ')} (views: ${Object.keys(views).join(', ')}, counts)`);
    for (const name of Object.keys(views)) if (!only.includes(name)) delete views[name];
  }
  for (const [name, path] of Object.entries(views)) {
    const r = await fetch(`${url}${path}`, { headers: auth });
    if (!r.ok) throw new Error(`${name}: ${r.status} ${await r.text()}`);
    const body = (await r.json()) as { items: unknown[] };
    log(`${name}: ${body.items.length} rows on the first page`);
  }

  const ceilingPort = await freePort();
  const ceiling = await startProcess('node', ['--import', 'tsx', 'bench/api/ceiling-server.ts'], { DATABASE_URL: db.url, PORT: String(ceilingPort) }, /ceiling ready/);
  const ceilingUrl = `http://127.0.0.1:${ceilingPort}`;
  // Warm both servers (JIT, pools, caches) before anything is measured.
  await load(ceilingUrl, '/conversation', {}, 2);
  for (const path of Object.values(views)) await load(url, path, auth, 1);

  const results: Record<string, Load> = {};
  // The ceiling before and after the views: a shared machine's load drifts; the mean is reported.
  const ceilingBefore = await load(ceilingUrl, '/conversation', {});
  // CPU per answered request (ms): what a request costs, steadier than latency on a shared machine.
  const measure = async (path: string) => {
    const meter = await cpuMeter(db.url, hub.child.pid!);
    const l = await load(url, path, auth);
    const used = await meter.stop();
    const per = (ms: number) => (l.ok ? Math.round((ms / l.ok) * 100) / 100 : 0);
    return { ...l, hubCpuMs: per(used.processMs), pgCpuMs: per(used.postgresMs) };
  };
  for (const [name, path] of Object.entries(views)) {
    results[name] = await measure(path);
    log(`${name}: p50 ${results[name]!.p50} ms  p95 ${results[name]!.p95} ms  p99 ${results[name]!.p99} ms  ${results[name]!.rps}/s  errors ${results[name]!.errors}`);
  }
  if (!only || only.includes('counts')) results.counts = await measure('/api/v1/conversations/counts');
  const ceilingAfter = await load(ceilingUrl, '/conversation', {});
  await stopProcess(ceiling.child);
  await stopProcess(hub.child);

  const ceilingP95 = Math.round(((ceilingBefore.p95 + ceilingAfter.p95) / 2) * 10) / 10;
  const measured = Object.keys(views);
  const maxP95 = Math.max(...measured.map((k) => results[k]!.p95));
  const slowest = measured.find((k) => results[k]!.p95 === maxP95);
  const row = (name: string, l: Load) => `${name.padEnd(14)} p50 ${String(l.p50).padStart(6)} ms  p95 ${String(l.p95).padStart(6)} ms  p99 ${String(l.p99).padStart(6)} ms  ${String(l.rps).padStart(5)}/s  errors ${l.errors}${l.pgCpuMs === undefined ? '' : `  cpu/request: hub ${l.hubCpuMs} ms, postgres ${l.pgCpuMs} ms`}\n`;
  process.stdout.write(
    `machine: ${machine()}\n` +
      `account: ${info.figures.conversations} conversations, ${info.figures.messages} messages (${JSON.stringify(info.statuses)}); ` +
      `${info.figures.other_accounts} other accounts with ${info.figures.other_conversations} conversations; seeded in ${seedSeconds ?? '(kept database)'} s\n` +
      `search words: ${Object.entries(WORDS).map(([k, w]) => `${k} "${w}" in ${info.words[k]} messages`).join(', ')}\n` +
      `connections: ${connections}, ${seconds} s each, page ${limit} (view=${values.view})\n` +
      Object.entries(results).map(([k, l]) => row(k, l)).join('') +
      row('ceiling', ceilingBefore) + row('ceiling again', ceilingAfter) +
      `slowest: ${slowest} p95 ${maxP95} ms = ${(maxP95 / ceilingP95).toFixed(1)}× the ceiling's p95 ${ceilingP95} ms\n`,
  );
  if (values.keep) process.stdout.write(`kept database: ${db.url}\n`);
  const figures: Record<string, number> = {};
  for (const [k, l] of Object.entries(results)) Object.assign(figures, { [`${k}_p50_ms`]: l.p50, [`${k}_p95_ms`]: l.p95, [`${k}_p99_ms`]: l.p99, [`${k}_rps`]: l.rps, [`${k}_errors`]: l.errors, ...(l.pgCpuMs === undefined ? {} : { [`${k}_pg_cpu_ms`]: l.pgCpuMs, [`${k}_hub_cpu_ms`]: l.hubCpuMs }) });
  process.stdout.write(`${JSON.stringify({
    bench: 'api', max_p95_ms: maxP95, slowest, ceiling_p95_ms: ceilingP95, ratio: Math.round((maxP95 / ceilingP95) * 10) / 10,
    ceiling_p50_ms: Math.round(((ceilingBefore.p50 + ceilingAfter.p50) / 2) * 10) / 10, ceiling_rps: Math.round((ceilingBefore.rps + ceilingAfter.rps) / 2),
    ...figures, conversations: Number(info.figures.conversations), messages: Number(info.figures.messages),
    word_messages: info.words, connections, seconds, page: limit, view: values.view, seed_s: seedSeconds,
  })}\n`);
} finally {
  if (!values.keep && !values.db) await db.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
