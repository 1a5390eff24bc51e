import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type HubConfig } from '../config.js';
import { createHub, type Hub } from '../context.js';
import { buildApp } from '../app.js';
import { installConnectors } from '../connectors.js';
import { installAi } from '../install-ai.js';
import { installSlack } from '../install-slack.js';
import type { SlackAppOptions } from '../slack/app.js';
import { migrate } from '../../storage/migrate.js';
import { openPGlite } from '../../storage/pglite.js';
import { openDatabase } from '../../storage/open.js';
import type { Database } from '../../storage/database.js';
import { withAccount } from '../../storage/session.js';
import { insertUser, type Role } from '../../storage/repositories/users.js';
import { insertChannel } from '../../storage/repositories/channels.js';
import type { ChannelKind } from '../../connectors/core/types.js';
import { createApiKey, hashPassword } from '../services/auth.js';
import { RetryLaterError } from '../queue/jobs.js';
import type { Surface } from '../ai-stage.js';

/** Test support: a fresh database per test file on the real Postgres the test command started. */

export function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run the suite with `npm test`, which starts Postgres');
  return url;
}

/** Creates an empty database next to DATABASE_URL's and returns its URL and a drop function. */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = new URL(databaseUrl());
  const name = `hd_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base.toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base.toString());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base.toString() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface TestHub {
  hub: Hub;
  app: FastifyInstance;
  config: HubConfig;
  close(): Promise<void>;
}

/** Loopback, where the test mail servers listen; tests of the egress guard override it. */
export const TEST_PRIVATE_HOSTS = '127.0.0.1:*,[::1]:*,localhost:*';

/** A hub on a fresh Postgres database (or PGlite with `embedded`), migrated, with no waiting on backoff. */
export async function startTestHub(opts: { embedded?: boolean; redis?: boolean; env?: Record<string, string>; jobs?: boolean; ai?: boolean; slack?: boolean | SlackAppOptions; /** Wraps the hub's database (e.g. to count its round trips). */ wrapDb?: (db: Database) => Database } = {}): Promise<TestHub> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hummdesk-test-'));
  const database = opts.embedded ? undefined : await freshDatabase();
  const config = loadConfig({
    HUMMDESK_DATA_DIR: dataDir,
    HUMMDESK_SECRET_KEY: randomBytes(32).toString('hex'),
    HUMMDESK_JOB_BACKOFF_MS: '0',
    HUMMDESK_JOB_ATTEMPTS: '3',
    // Tests change channel rows directly and expect the next request to see it.
    HUMMDESK_INSTALLATION_CACHE_MS: '0',
    // One AI thread per test hub: each thread loads its own models, and the test machines are shared.
    HUMMDESK_AI_THREADS: '1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // The local Dovecot and SMTP servers the email tests use are on loopback (vitest.config.ts sets the same).
    HUMMDESK_ALLOW_PRIVATE_HOSTS: process.env.HUMMDESK_ALLOW_PRIVATE_HOSTS ?? TEST_PRIVATE_HOSTS,
    ...(database ? { DATABASE_URL: database.url } : {}),
    ...(opts.redis && process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    ...opts.env,
  });
  const log = pino({ level: config.logLevel });
  const opened = opts.embedded ? await openPGlite(undefined) : opts.wrapDb ? await openDatabase({ databaseUrl: config.databaseUrl, poolSize: config.poolSize }) : undefined;
  const db = opened && opts.wrapDb ? opts.wrapDb(opened) : opened;
  const hub = await createHub(config, { log, db });
  await migrate(hub.db);
  installConnectors(hub);
  if (opts.ai) installAi(hub, { warm: false });
  if (opts.slack) installSlack(hub, opts.slack === true ? {} : opts.slack);
  const app = await buildApp(hub);
  await app.ready();
  if (opts.jobs ?? true) await hub.startJobs({ relay: true, work: true });
  return {
    hub,
    app,
    config,
    async close() {
      await app.close();
      await hub.close();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestAccount {
  accountId: string;
  slug: string;
  users: Record<Role, { id: string; email: string; token: string }>;
  apiKeys: Record<'admin' | 'agent' | 'viewer', string>;
  channelId: string;
}

/** An account with one user of every role, one API key per role, and one channel of `kind`. */
export async function createTestAccount(t: TestHub, opts: { slug?: string; channelKind?: ChannelKind; channelKey?: string; secrets?: Record<string, string>; config?: Record<string, unknown> } = {}): Promise<TestAccount> {
  const { hub, app } = t;
  const slug = opts.slug ?? `acct-${randomBytes(4).toString('hex')}`;
  const accountId = (await hub.db.query<{ id: string }>(`INSERT INTO accounts (name, slug) VALUES ($1, $1) RETURNING id`, [slug])).rows[0]!.id;
  const passwordHash = await hashPassword('correct horse battery');
  const users = {} as TestAccount['users'];
  const channelId = await withAccount(hub.db, accountId, async (tx) => {
    for (const role of ['owner', 'admin', 'agent', 'viewer'] as Role[]) {
      const email = `${role}@${slug}.test`;
      const u = await insertUser(tx, { accountId, email, name: `${role} of ${slug}`, role, passwordHash });
      users[role] = { id: u.id, email, token: app.signAccessToken({ userId: u.id, accountId, role }) };
    }
    const ch = await insertChannel(tx, hub.box, {
      accountId, kind: opts.channelKind ?? 'webchat', name: 'test channel', externalKey: opts.channelKey ?? `key-${slug}`,
      secrets: opts.secrets ?? { identitySecret: randomBytes(16).toString('hex'), sessionSecret: randomBytes(16).toString('hex') },
      config: opts.config ?? {},
    });
    return ch.id;
  });
  const apiKeys = {} as TestAccount['apiKeys'];
  for (const role of ['admin', 'agent', 'viewer'] as const) apiKeys[role] = (await createApiKey(hub.db, accountId, { name: role, role }, { kind: 'system', id: null })).key;
  return { accountId, slug, users, apiKeys, channelId };
}

/**
 * Polls until `check` returns a truthy value; for effects of background jobs. The default wait is what an
 * AI job needs on a machine other tests share (an analysis took over 10 s under load 30); a met condition
 * returns at once, so only a failing test waits that long.
 */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Runs a surface sync the way the job queue does: when the platform says "later" (a 429 with
 * Retry-After), waits that long and runs it again, so a test sees the sync's effect and not a rate limit.
 */
export async function syncSurface(surface: Surface, accountId: string, conversationId: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await surface.sync(accountId, conversationId);
    } catch (err) {
      if (!(err instanceof RetryLaterError) || Date.now() + err.delayMs > deadline) throw err;
      await new Promise((r) => setTimeout(r, err.delayMs));
    }
  }
}

/** Imports knowledge-base articles through the API and waits for the `kb.import` job; the final status. */
export async function importKb(t: TestHub, apiKey: string, articles: object[], timeoutMs = 120_000): Promise<{ statusCode: number; status: Record<string, unknown> }> {
  const r = await t.app.inject({ method: 'POST', url: '/api/v1/kb/import', headers: { authorization: `Bearer ${apiKey}` }, payload: { articles } });
  if (r.statusCode !== 202) return { statusCode: r.statusCode, status: r.json() };
  const id = r.json<{ id: string }>().id;
  const status = await eventually(async () => {
    const s = (await t.app.inject({ method: 'GET', url: `/api/v1/kb/imports/${id}`, headers: { authorization: `Bearer ${apiKey}` } })).json<Record<string, unknown>>();
    return s.state === 'done' || s.state === 'failed' ? s : undefined;
  }, timeoutMs);
  return { statusCode: r.statusCode, status };
}
