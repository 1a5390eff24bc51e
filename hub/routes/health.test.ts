import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { findInstallation } from '../../storage/repositories/channels.js';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { createHub } from '../context.js';
import { createTestAccount, startTestHub, type TestHub } from '../testing/harness.js';
import { openConversation } from '../testing/test-channel.js';

let t: TestHub;

beforeAll(async () => {
  t = await startTestHub({ redis: true });
});
afterAll(() => t?.close());

/** A port nothing listens on: bind one, then let it go. */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

describe('operations endpoints', () => {
  it('GET /health answers while the process lives', async () => {
    const res = await t.app.inject({ url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('GET /ready is 200 when the database and the queue answer', async () => {
    const res = await t.app.inject({ url: '/ready' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', database: 'ok', queue: 'ok' });
  });

  it('GET /ready is 503 when the database is unreachable', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hummdesk-ready-'));
    const config = loadConfig({
      HUMMDESK_DATA_DIR: dataDir,
      HUMMDESK_SECRET_KEY: randomBytes(32).toString('hex'),
      DATABASE_URL: `postgres://nobody@127.0.0.1:${await closedPort()}/nothing`,
    });
    const hub = await createHub(config, { log: pino({ level: 'silent' }) });
    const app = await buildApp(hub);
    try {
      const res = await app.inject({ url: '/ready' });
      expect(res.statusCode).toBe(503);
      // A code only: the driver's error names the host, port and user, and /ready is public.
      expect(res.json()).toEqual({ status: 'not_ready', database: 'unreachable', queue: expect.stringMatching(/^(ok|unreachable|timeout)$/) });
      expect(res.body).not.toMatch(/127\.0\.0\.1|nobody|ECONNREFUSED/);
      // Liveness is not readiness: the process itself is fine.
      expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
    } finally {
      await app.close();
      await hub.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('GET /metrics exposes ingest count and latency, queue depth and job failures', async () => {
    const acct = await createTestAccount(t);
    await openConversation(t.hub.ingest, (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: acct.channelId }))!);
    const res = await t.app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toMatch(/^hummdesk_ingest_events_total\{kind="webchat",result="created"\} [1-9]/m);
    expect(res.body).toMatch(/^hummdesk_ingest_duration_seconds_count\{kind="webchat"\} [1-9]/m);
    expect(res.body).toMatch(/^hummdesk_ingest_duration_seconds_bucket\{le="0.1",kind="webchat"\} \d+/m);
    expect(res.body).toMatch(/^hummdesk_queue_depth\{state="waiting"\} \d+$/m);
    expect(res.body).toMatch(/^hummdesk_queue_depth\{state="dead"\} \d+$/m);
    expect(res.body).toMatch(/^# TYPE hummdesk_job_failures_total counter$/m);
    expect(res.body).toMatch(/^hummdesk_process_resident_memory_bytes \d+/m);
  });

  it('GET /metrics with HUMMDESK_METRICS_TOKEN answers only that bearer token', async () => {
    const token = randomBytes(16).toString('hex');
    const locked = await startTestHub({ jobs: false, env: { HUMMDESK_METRICS_TOKEN: token } });
    try {
      for (const authorization of [undefined, 'Bearer wrong', `Basic ${token}`, `Bearer ${token}x`]) {
        const res = await locked.app.inject({ url: '/metrics', headers: authorization ? { authorization } : {} });
        expect(res.statusCode, authorization).toBe(401);
        expect(res.json()).toMatchObject({ error: { code: 'unauthorized' } });
        expect(res.body).not.toMatch(/hummdesk_/);
      }
      const ok = await locked.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}` } });
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toMatch(/^hummdesk_process_resident_memory_bytes \d+/m);
      // Liveness and readiness stay public.
      expect((await locked.app.inject({ url: '/ready' })).statusCode).toBe(200);
    } finally {
      await locked.close();
    }
  });

  it('GET /docs/json is an OpenAPI document of the /api/v1 routes', async () => {
    const res = await t.app.inject({ url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const [path, method] of [
      ['/api/v1/conversations', 'get'],
      ['/api/v1/conversations/{id}/messages', 'get'],
      ['/api/v1/conversations/{id}/reply', 'post'],
      ['/api/v1/jobs/dead', 'get'],
      ['/api/v1/jobs/dead/{id}/retry', 'post'],
      ['/api/v1/events', 'get'],
    ] as const) {
      expect(doc.paths[path], path).toHaveProperty(method);
    }
    // Operations endpoints are documented, the metrics scrape is not.
    expect(doc.paths['/ready']).toBeDefined();
    expect(doc.paths['/metrics']).toBeUndefined();
    // Probes answer without credentials, and the document says so.
    for (const path of ['/health', '/ready']) expect((doc.paths[path] as { get: { security?: unknown } }).get.security, path).toEqual([]);
  });
});
