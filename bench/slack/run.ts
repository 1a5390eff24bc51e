/**
 * Slack benchmark: customer messages in a Slack Connect channel, delivered as signed Events API
 * requests to a hub on a fresh Postgres database, through verify → ingest (ack after COMMIT) →
 * outbox → surface job → chat.postMessage against the local Slack emulator (root card for a
 * thread's first message, thread reply for the others). Measures events/s end to end (last post
 * minus first send) and the latency from a customer's message to its post in the triage thread.
 * The emulator's per-channel rate limit is lifted: Slack's own (about 1 post/s per channel) would
 * measure Slack, not the hub.
 * Usage: npm run bench -- slack [--conversations 100] [--messages 5] [--connections 16]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SlackEmulator } from '../../connectors/slack/testing/emulator.js';
import { SlackDriver, envelope } from '../../connectors/slack/testing/driver.js';
import { createDatabase, freePort, machine, startProcess, stopProcess } from '../support.js';

const { values } = parseArgs({
  options: { conversations: { type: 'string', default: '100' }, messages: { type: 'string', default: '5' }, connections: { type: 'string', default: '16' }, timeout: { type: 'string', default: '120' } },
});
const conversations = Number(values.conversations);
const perConversation = Number(values.messages);
const connections = Number(values.connections);
const baseUrl = process.env.DATABASE_URL;
if (!baseUrl) throw new Error('DATABASE_URL is required (npm run bench -- slack starts Postgres)');

const TEAM = 'T0BENCH';
const SIGNING = randomBytes(16).toString('hex');
const percentile = (sorted: number[], p: number) => Math.round((sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0) * 10) / 10;

const emulator = await SlackEmulator.start({ messagesPerSecondPerChannel: 1_000_000 });
const customers = Array.from({ length: Math.min(50, conversations) }, (_, i) => ({ id: `UCUST${i}`, name: `customer${i}`, realName: `Customer ${i}` }));
const ws = emulator.addWorkspace({
  teamId: TEAM,
  users: customers,
  channels: [
    { id: 'C0CUST', name: 'shared-customers', isMember: true, isExtShared: true },
    { id: 'C0TRIAGE', name: 'support-triage', isMember: true },
  ],
});
const driver = new SlackDriver(SIGNING);

// Every customer message carries a token; the post that mirrors it (card or thread reply) shows it.
const sentAt = new Map<string, number>();
const postedAt = new Map<string, number>();
let lastPost = 0;
emulator.onMessage((m) => {
  if (m.channel !== 'C0TRIAGE') return;
  const at = performance.now();
  for (const token of `${m.text} ${JSON.stringify(m.blocks ?? [])}`.match(/bm\d+x/g) ?? []) {
    if (sentAt.has(token) && !postedAt.has(token)) {
      postedAt.set(token, at);
      lastPost = at;
    }
  }
});

const db = await createDatabase(baseUrl);
const dataDir = mkdtempSync(join(tmpdir(), 'hummdesk-bench-slack-'));
const port = await freePort();
const hub = await startProcess('npx', ['tsx', 'bench/slack/hub.ts'], {
  DATABASE_URL: db.url,
  REDIS_URL: process.env.REDIS_URL ?? '',
  HUMMDESK_DATA_DIR: dataDir,
  HUMMDESK_SECRET_KEY: randomBytes(32).toString('hex'),
  HUMMDESK_RATE_LIMIT: '100000000',
  HUMMDESK_JOB_BACKOFF_MS: '100',
  LOG_LEVEL: 'warn',
  PORT: String(port),
  SLACK_API_URL: emulator.apiUrl,
  SLACK_SIGNING_SECRET: SIGNING,
  BENCH_TEAM: TEAM,
  BENCH_BOT_TOKEN: ws.botToken,
  BENCH_SLACK_CONFIG: JSON.stringify({ botUserId: ws.botUserId, customerChannels: ['C0CUST'], defaultTriageChannel: 'C0TRIAGE', threadReplies: 'notes' }),
}, /slack bench hub ready/, 60_000);
const url = `http://127.0.0.1:${port}/webhooks/slack`;

try {
  // Round by round: every conversation's first message (a new thread), then each one's next reply.
  const roots: string[] = [];
  const work: { token: string; conversation: number; round: number }[] = [];
  for (let round = 0; round < perConversation; round++)
    for (let c = 0; c < conversations; c++) work.push({ token: `bm${round * conversations + c}x`, conversation: c, round });
  const acks: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      for (;;) {
        const item = work[next++];
        if (!item) return;
        // A reply can only follow its thread's root; rounds are in order, so wait for the root's ts.
        while (item.round > 0 && !roots[item.conversation]) await new Promise((r) => setTimeout(r, 1));
        const customer = customers[item.conversation % customers.length]!;
        const text = `Hello, order ${item.conversation} has not arrived yet (${item.token}). Can you check it?`;
        const m = emulator.postAsUser(TEAM, 'C0CUST', customer.id, text, item.round > 0 ? roots[item.conversation] : undefined);
        if (item.round === 0) roots[item.conversation] = m.ts;
        const signed = driver.event(
          envelope(TEAM, { type: 'message', channel: 'C0CUST', channel_type: 'channel', user: customer.id, user_profile: { real_name: customer.realName, display_name: customer.name }, text, ts: m.ts, ...(m.threadTs ? { thread_ts: m.threadTs } : {}) }, { is_ext_shared_channel: true }),
        );
        const t0 = performance.now();
        sentAt.set(item.token, t0);
        const res = await fetch(url, { method: 'POST', headers: signed.headers, body: signed.body.toString('utf8') });
        const body = (await res.json()) as { results?: string[] };
        acks.push(performance.now() - t0);
        if (res.status !== 200 || body.results?.[0] !== 'created') errors++;
      }
    }),
  );
  const acked = performance.now();
  const deadline = Date.now() + Number(values.timeout) * 1000;
  while (postedAt.size < sentAt.size - errors && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

  const latencies = [...postedAt].map(([token, at]) => at - sentAt.get(token)!).sort((a, b) => a - b);
  const ackSorted = acks.sort((a, b) => a - b);
  const total = work.length;
  const endToEndSeconds = (lastPost - started) / 1000;
  const eventsPerSecond = Math.round(postedAt.size / endToEndSeconds);
  const ackPerSecond = Math.round(total / ((acked - started) / 1000));
  const calls = emulator.calls.length;
  process.stdout.write(
    `machine: ${machine()}\nconversations: ${conversations}, messages each: ${perConversation}, connections: ${connections}, queue: ${process.env.REDIS_URL ? 'bullmq' : 'in-process'}\n` +
      `acknowledged: ${total - errors}/${total} at ${ackPerSecond} events/s  ack p50 ${percentile(ackSorted, 50)} ms  p95 ${percentile(ackSorted, 95)} ms  p99 ${percentile(ackSorted, 99)} ms  errors ${errors}\n` +
      `posted in triage: ${postedAt.size}/${total} at ${eventsPerSecond} events/s end to end  message → thread post p50 ${percentile(latencies, 50)} ms  p95 ${percentile(latencies, 95)} ms  p99 ${percentile(latencies, 99)} ms\n` +
      `Slack API calls: ${calls} (${(calls / Math.max(1, postedAt.size)).toFixed(2)} per message)\n`,
  );
  if (postedAt.size < total - errors) process.stdout.write(`MISSING: ${total - errors - postedAt.size} acknowledged messages never reached the triage channel\n`);
  process.stdout.write(
    `${JSON.stringify({
      bench: 'slack', events_per_s: eventsPerSecond, p50_ms: percentile(latencies, 50), p95_ms: percentile(latencies, 95), p99_ms: percentile(latencies, 99),
      ack_events_per_s: ackPerSecond, ack_p95_ms: percentile(ackSorted, 95), events: total, posted: postedAt.size, errors, conversations, connections,
      api_calls_per_message: Math.round((calls / Math.max(1, postedAt.size)) * 100) / 100,
    })}\n`,
  );
} finally {
  await stopProcess(hub.child);
  await emulator.close();
  await db.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
