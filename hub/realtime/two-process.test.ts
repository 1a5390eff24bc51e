import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { findInstallation } from '../../storage/repositories/channels.js';
import { withAccount } from '../../storage/session.js';
import { migrate } from '../../storage/migrate.js';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { createHub, type Hub } from '../context.js';
import { createTestAccount, eventually, freshDatabase, type TestAccount } from '../testing/harness.js';
import { openConversation, openEventStream } from '../testing/test-channel.js';

/**
 * Scale-out for real: process A serves the API and the event stream but runs no jobs; process B is
 * a `hummdesk worker`. A reply posted to A is delivered by B (web chat's connector, installed in
 * every hub), and B's `message.updated … sent` reaches the client connected to A through Redis.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const children: { name: string; child: ChildProcess; out: () => string; exited: Promise<number | null> }[] = [];
let database: Awaited<ReturnType<typeof freshDatabase>>;
let dataDir: string;
let env: NodeJS.ProcessEnv;
let setup: { hub: Hub; app: FastifyInstance };
let acct: TestAccount;
let apiUrl: string;

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

function run(name: string, args: string[], extra: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ['bin/hummdesk.js', ...args], { cwd: ROOT, env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const p = { name, child, out: () => out, exited: new Promise<number | null>((r) => child.on('exit', (code) => r(code))) };
  children.push(p);
  return p;
}

beforeAll(async () => {
  database = await freshDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'hummdesk-2p-'));
  env = {
    ...process.env,
    DATABASE_URL: database.url,
    REDIS_URL: process.env.REDIS_URL,
    HUMMDESK_SECRET_KEY: randomBytes(32).toString('hex'),
    HUMMDESK_DATA_DIR: dataDir,
    HUMMDESK_JOB_BACKOFF_MS: '0',
    LOG_LEVEL: 'info',
  };
  // The test's own view of the same database, to create the tenant and a customer conversation.
  const hub = await createHub(loadConfig(env), { log: pino({ level: 'silent' }) });
  await migrate(hub.db);
  setup = { hub, app: await buildApp(hub) };
  acct = await createTestAccount({ ...setup, config: hub.config, close: async () => undefined });

  const port = await freePort();
  apiUrl = `http://127.0.0.1:${port}`;
  const a = run('A (api only)', ['start'], { PORT: String(port), HUMMDESK_RUN_JOBS: 'false' });
  const b = run('B (worker)', ['worker'], {});
  await eventually(async () => {
    if (a.child.exitCode !== null || b.child.exitCode !== null) throw new Error(`a process exited:\n${a.out()}\n${b.out()}`);
    return /"msg":"worker started"/.test(b.out()) && (await fetch(`${apiUrl}/ready`).then((r) => r.ok, () => false));
  }, 30_000);
}, 60_000);

afterAll(async () => {
  // Killed even when the test failed: a stray hub would hold the port and the database.
  for (const p of children) if (p.child.exitCode === null) p.child.kill('SIGTERM');
  await Promise.race([Promise.all(children.map((p) => p.exited)), new Promise((r) => setTimeout(r, 10_000))]);
  for (const p of children) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await setup?.app.close();
  await setup?.hub.close();
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describe('two hub processes sharing Postgres and Redis', () => {
  it("delivers to a client on the API process an event the worker process raised", { timeout: 30_000 }, async () => {
    const channel = (await findInstallation(setup.hub.db, setup.hub.box, { kind: 'webchat', id: acct.channelId }))!;
    const conversationId = await openConversation(setup.hub.ingest, channel);
    const stream = await openEventStream(`${apiUrl}/api/v1/events?access_token=${encodeURIComponent(acct.users.agent.token)}`);
    expect(stream.status).toBe(200);
    try {
      const res = await fetch(`${apiUrl}/api/v1/conversations/${conversationId}/reply`, {
        method: 'POST',
        headers: { authorization: `Bearer ${acct.users.agent.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'Hello from process A' }),
      });
      expect(res.status).toBe(202);
      const { id: messageId } = (await res.json()) as { id: string };

      // Raised by A itself…
      await stream.waitFor((e) => e.event === 'message.created' && e.data.messageId === messageId);
      // …and by B, which alone runs jobs.
      const sent = await stream.waitFor((e) => e.event === 'message.updated' && e.data.messageId === messageId && e.data.deliveryStatus === 'sent', 20_000);
      expect(sent.data).toMatchObject({ conversationId });
      const stored = await withAccount(setup.hub.db, acct.accountId, async (tx) => (await tx.query<{ s: string }>(`SELECT delivery_status s FROM messages WHERE id = $1`, [messageId])).rows[0]!.s);
      expect(stored).toBe('sent');
      expect(children[0]!.out()).not.toMatch(/"msg":"job /);
    } finally {
      stream.close();
    }
  });

  it('both processes shut down cleanly on SIGTERM', { timeout: 20_000 }, async () => {
    for (const p of children) p.child.kill('SIGTERM');
    expect(await Promise.all(children.map((p) => p.exited))).toEqual([0, 0]);
  });
});
