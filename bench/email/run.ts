/**
 * Email benchmark: mails APPENDed into a Dovecot mailbox → the hub's IMAP listener (IDLE) → parse →
 * ingest → committed conversation message, on a fresh Postgres database, jobs off.
 * Latency per mail is from just before its APPEND to the hub's `message.created` event (published
 * after COMMIT) arriving on the SSE stream; both clocks are this process's.
 * Usage: npm run bench -- email [--messages 2000] [--appenders 4] [--jobs]
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ImapFlow } from 'imapflow';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import pg from 'pg';
import { SecretBox } from '../../storage/secret-box.js';
import { insertChannel } from '../../storage/repositories/channels.js';
import { createDatabase, freePort, machine, startProcess, stopProcess } from '../support.js';

const { values } = parseArgs({
  options: { messages: { type: 'string', default: '2000' }, appenders: { type: 'string', default: '4' }, jobs: { type: 'boolean', default: false }, timeout: { type: 'string', default: '600' } },
});
const total = Number(values.messages);
const appenders = Number(values.appenders);
const baseUrl = process.env.DATABASE_URL;
const imapUrl = process.env.IMAP_URL;
if (!baseUrl || !imapUrl) throw new Error('DATABASE_URL and IMAP_URL are required (npm run bench -- email starts Postgres and Dovecot)');
const imap = new URL(imapUrl);
const password = process.env.IMAP_PASSWORD ?? 'hummdesk';

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const round = (n: number) => Math.round(n * 10) / 10;

/** A deterministic mix: 60% short plain text, 25% HTML newsletters-style replies, 15% with attachments. */
type Kind = 'plain' | 'html' | 'attachment';
let seed = 0x9e3779b9;
const rand = () => ((seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
const words = 'router invoice delivery password refund order account reset broken screen printer shipping late charge twice please help thanks update firmware'.split(' ');
const sentence = (n: number) => Array.from({ length: n }, () => words[Math.floor(rand() * words.length)]).join(' ');

async function mail(i: number, run: string, support: string): Promise<{ id: string; kind: Kind; raw: Buffer }> {
  const r = rand();
  const kind: Kind = r < 0.6 ? 'plain' : r < 0.85 ? 'html' : 'attachment';
  const id = `bench-${i}-${run}@customer.example`;
  const from = { name: `Customer ${i % 300}`, address: `customer${i % 300}-${run}@customer.example` };
  const text = `Hello,\n\n${sentence(20 + Math.floor(rand() * 60))}.\n\nOn Mon, Support wrote:\n> ${sentence(30)}\n`;
  const base = { from, to: support, subject: `Order ${i}: ${sentence(4)}`, messageId: `<${id}>`, date: new Date(), text };
  const html = `<html><body><p>Hello,</p>${Array.from({ length: 10 + Math.floor(rand() * 40) }, () => `<p style="font-family:Arial">${sentence(25)}</p>`).join('')}<blockquote>${sentence(40)}</blockquote></body></html>`;
  const attachment = () => ({ filename: `scan-${i}.pdf`, contentType: 'application/pdf', content: randomBytes(20_000 + Math.floor(rand() * 280_000)) });
  const options =
    kind === 'plain' ? base
    : kind === 'html' ? { ...base, html }
    : { ...base, html, attachments: [attachment(), { filename: `photo-${i}.png`, contentType: 'image/png', cid: `img${i}@customer.example`, content: randomBytes(5_000 + Math.floor(rand() * 40_000)) }] };
  return { id, kind, raw: await new MailComposer(options).compile().build() };
}

/** Collects `message.created` events from the hub's SSE stream with their arrival time. */
async function follow(url: string, apiKey: string, signal: AbortSignal, onMessage: (messageId: string, at: number) => void): Promise<void> {
  const res = await fetch(`${url}/api/v1/events`, { headers: { authorization: `Bearer ${apiKey}` }, signal });
  if (res.status !== 200 || !res.body) throw new Error(`event stream: ${res.status}`);
  const decoder = new TextDecoder();
  let buf = '';
  void (async () => {
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const at = performance.now();
        buf += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, end);
          buf = buf.slice(end + 2);
          if (!frame.startsWith('event: message.created')) continue;
          const data = JSON.parse(frame.slice(frame.indexOf('data: ') + 6)) as { messageId: string };
          onMessage(data.messageId, at);
        }
      }
    } catch {
      // aborted at the end of the run
    }
  })();
}

const run = randomBytes(4).toString('hex');
const support = `bench-${run}@example.test`;
const db = await createDatabase(baseUrl);
const dataDir = mkdtempSync(join(tmpdir(), 'hummdesk-bench-email-'));
const secretKey = randomBytes(32).toString('hex');
const env = {
  DATABASE_URL: db.url,
  HUMMDESK_DATA_DIR: dataDir,
  HUMMDESK_SECRET_KEY: secretKey,
  HUMMDESK_RUN_JOBS: values.jobs ? 'true' : 'false',
  LOG_LEVEL: 'warn',
  REDIS_URL: '',
  // The local Dovecot listens on loopback, which the hub refuses unless the operator allows it.
  HUMMDESK_ALLOW_PRIVATE_HOSTS: `${imap.hostname}:*`,
};
let hub: Awaited<ReturnType<typeof startProcess>> | undefined;
const stream = new AbortController();
try {
  // Schema, demo account and API key; then the mailbox channel, so the listener starts with the hub.
  const demo = JSON.parse(execFileSync('node', ['bin/hummdesk.js', 'seed-demo'], { env: { ...process.env, ...env }, encoding: 'utf8' })) as { apiKey: string };
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  const accountId = (await admin.query<{ id: string }>(`SELECT id FROM accounts WHERE slug = 'demo'`)).rows[0]!.id;
  const channel = await insertChannel(admin, new SecretBox(Buffer.from(secretKey, 'hex')), {
    accountId, kind: 'email', name: 'Bench mailbox', externalKey: support,
    config: { address: support, imap: { host: imap.hostname, port: Number(imap.port), secure: false } },
    secrets: { imapPassword: password },
  });

  const mails: { id: string; kind: Kind; raw: Buffer }[] = [];
  for (let i = 0; i < total; i++) mails.push(await mail(i, run, support));
  const bytes = mails.reduce((n, m) => n + m.raw.length, 0);

  const port = await freePort();
  hub = await startProcess('node', ['bin/hummdesk.js', 'start'], { ...env, LOG_LEVEL: 'info', PORT: String(port) }, /channel listener started/);
  const url = `http://127.0.0.1:${port}`;
  const storedAt = new Map<string, number>();
  let done = () => {};
  const allStored = new Promise<void>((r) => (done = r));
  await follow(url, demo.apiKey, stream.signal, (messageId, at) => {
    storedAt.set(messageId, at);
    if (storedAt.size >= total) done();
  });
  // Give the listener its IMAP login and first (empty) sync, so the run measures steady state.
  await new Promise((r) => setTimeout(r, 1000));

  const appendedAt = new Map<string, number>();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: appenders }, async () => {
      const c = new ImapFlow({ host: imap.hostname, port: Number(imap.port), secure: false, auth: { user: support, pass: password }, logger: false });
      await c.connect();
      for (let i = next++; i < total; i = next++) {
        appendedAt.set(mails[i]!.id, performance.now());
        await c.append('INBOX', mails[i]!.raw);
      }
      await c.logout();
    }),
  );
  const appendMs = performance.now() - started;
  const timeout = setTimeout(() => done(), Number(values.timeout) * 1000);
  await allStored;
  clearTimeout(timeout);
  stream.abort();

  const { rows } = await admin.query<{ id: string; externalId: string; parts: string }>(
    `SELECT m.id, m.external_id AS "externalId", (SELECT count(*) FROM attachments a WHERE a.message_id = m.id) AS parts FROM messages m WHERE m.channel_id = $1`,
    [channel.id],
  );
  const kindOf = new Map(mails.map((m) => [m.id, m.kind]));
  const latency: Record<Kind | 'all', number[]> = { all: [], plain: [], html: [], attachment: [] };
  let last = started;
  for (const r of rows) {
    const at = storedAt.get(r.id);
    const t0 = appendedAt.get(r.externalId);
    if (at === undefined || t0 === undefined) continue;
    last = Math.max(last, at);
    latency.all.push(at - t0);
    latency[kindOf.get(r.externalId)!].push(at - t0);
  }
  await admin.end();
  for (const l of Object.values(latency)) l.sort((a, b) => a - b);
  const stored = latency.all.length;
  const seconds = (last - started) / 1000;
  const msgsPerS = Math.round(stored / seconds);
  const line = (k: Kind | 'all') => `${k.padEnd(10)} n=${String(latency[k].length).padEnd(5)} p50 ${round(percentile(latency[k], 50))} ms  p95 ${round(percentile(latency[k], 95))} ms  p99 ${round(percentile(latency[k], 99))} ms`;
  process.stdout.write(
    `machine: ${machine()}\nmails: ${total} (${(bytes / 1e6).toFixed(1)} MB), appenders: ${appenders}, jobs: ${values.jobs ? 'on' : 'off'}\n` +
      `appended in ${(appendMs / 1000).toFixed(1)} s; all stored after ${seconds.toFixed(1)} s: ${msgsPerS} msgs/s\n` +
      `${(['all', 'plain', 'html', 'attachment'] as const).map(line).join('\n')}\n`,
  );
  if (stored < total) process.stdout.write(`MISSING: ${total - stored} mails were not stored within ${values.timeout} s\n`);
  if (rows.length !== stored) process.stdout.write(`UNEXPECTED: ${rows.length} messages in the channel for ${stored} matched\n`);
  process.stdout.write(
    `${JSON.stringify({ bench: 'email', msgs_per_s: msgsPerS, p50_ms: round(percentile(latency.all, 50)), p95_ms: round(percentile(latency.all, 95)), p99_ms: round(percentile(latency.all, 99)), mails: total, stored, mb: Math.round(bytes / 1e5) / 10, appenders, seconds: round(seconds) })}\n`,
  );
} finally {
  stream.abort();
  if (hub) await stopProcess(hub.child);
  await db.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
