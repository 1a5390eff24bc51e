import { randomBytes, randomUUID } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';

const TOOL = 'https://tools.example';
const DESK = 'https://desk.example:8443';
const SHOP = 'https://shop.example';
const PREFLIGHT = { 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' };

const corsHeadersOf = (headers: Record<string, unknown>) => Object.keys(headers).filter((h) => h.startsWith('access-control-'));

/** The response headers of the event stream, read from a real connection (the stream never ends by itself). */
function streamHeaders(url: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
      req.destroy();
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HUMMDESK_API_ORIGINS', () => {
  const load = (origins?: string) => loadConfig({ HUMMDESK_SECRET_KEY: randomBytes(32).toString('hex'), ...(origins === undefined ? {} : { HUMMDESK_API_ORIGINS: origins }) });

  it('is empty when unset or blank, so no other origin may call the API', () => {
    expect(load().apiOrigins).toEqual([]);
    expect(load(' , ').apiOrigins).toEqual([]);
  });

  it('holds origins as browsers send them: lower-case host, no default port, no trailing slash', () => {
    expect(load(' https://Tools.Example:443/ ,http://localhost:5173,https://tools.example').apiOrigins).toEqual(['https://tools.example', 'http://localhost:5173']);
  });

  it.each(['tools.example', 'https://tools.example/app', 'https://*.example.com', '*', 'null', 'ftp://tools.example', 'https://user@tools.example', 'https://tools.example?x'])(
    'refuses to start with "%s", naming the variable and the value',
    (bad) => {
      let err: unknown;
      try {
        load(`https://ok.example,${bad}`);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect(err).toMatchObject({ code: 'invalid_api_origin' });
      expect((err as Error).message).toContain('HUMMDESK_API_ORIGINS');
      expect((err as Error).message).toContain(`"${bad}"`);
    },
  );
});

describe('CORS on /api/v1', () => {
  let t: TestHub;
  let closed: TestHub;
  let a: TestAccount;
  let base: string;

  beforeAll(async () => {
    [t, closed] = await Promise.all([
      startTestHub({ jobs: false, env: { HUMMDESK_API_ORIGINS: `${TOOL}, ${DESK}/` } }),
      startTestHub({ jobs: false }),
    ]);
    a = await createTestAccount(t, { config: { allowedOrigins: [SHOP] } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await t?.close();
    await closed?.close();
  });

  const list = (origin: string, app = t.app) =>
    app.inject({ method: 'GET', url: '/api/v1/conversations', headers: { origin, authorization: `Bearer ${a.users.agent.token}` } });

  it('echoes an allowed origin on an API call, with Vary: Origin and no credentials', async () => {
    for (const origin of [TOOL, DESK]) {
      const res = await list(origin);
      expect(res.statusCode).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe(origin);
      expect(res.headers.vary).toMatch(/\borigin\b/i);
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
      expect(res.headers['access-control-expose-headers']).toBe('Retry-After');
    }
  });

  it('echoes it on a refusal too, so the page can read the error code', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/conversations', headers: { origin: TOOL } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['access-control-allow-origin']).toBe(TOOL);
    expect(res.json()).toMatchObject({ error: { code: 'unauthorized' } });
  });

  it('answers a preflight from an allowed origin with the methods and headers the API uses', async () => {
    const res = await t.app.inject({
      method: 'OPTIONS',
      url: `/api/v1/users/${a.users.viewer.id}`,
      headers: { origin: TOOL, 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'authorization' },
    });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(res.headers['access-control-allow-origin']).toBe(TOOL);
    expect(String(res.headers['access-control-allow-methods']).split(', ')).toEqual(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
    expect(String(res.headers['access-control-allow-headers']).toLowerCase().split(', ')).toEqual(['authorization', 'content-type', 'x-api-key', 'last-event-id']);
    expect(res.headers['access-control-max-age']).toBe('7200');
    expect(res.headers.vary).toMatch(/\borigin\b/i);
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('sends no CORS header to another origin, and otherwise answers as before', async () => {
    const allowed = await list(TOOL);
    for (const origin of ['https://evil.example', 'http://tools.example', 'https://tools.example.evil', 'https://desk.example', 'null']) {
      const res = await list(origin);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual(allowed.json());
      expect(corsHeadersOf(res.headers)).toEqual([]);
    }
    const noOrigin = await t.app.inject({ method: 'GET', url: '/api/v1/conversations', headers: { authorization: `Bearer ${a.users.agent.token}` } });
    expect(corsHeadersOf(noOrigin.headers)).toEqual([]);
  });

  it("refuses another origin's preflight without CORS headers and without running the route", async () => {
    const res = await t.app.inject({ method: 'OPTIONS', url: `/api/v1/conversations/${randomUUID()}/notes`, headers: { origin: 'https://evil.example', ...PREFLIGHT } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: { code: 'route_not_found' } });
    expect(corsHeadersOf(res.headers)).toEqual([]);
  });

  it('answers an unknown /api/v1 route with the same JSON 404, and the CORS header for an allowed origin only', async () => {
    const unknown = (method: 'GET' | 'POST' | 'DELETE', url: string, origin: string) => t.app.inject({ method, url, headers: { origin } });
    for (const method of ['GET', 'POST', 'DELETE'] as const) {
      const res = await unknown(method, '/api/v1/no-such-report?from=2025-01-01', TOOL);
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.json()).toEqual({ error: { code: 'route_not_found', message: `no route ${method} /api/v1/no-such-report` } });
      expect(res.headers['access-control-allow-origin']).toBe(TOOL);
      expect(res.headers.vary).toMatch(/\borigin\b/i);
      expect(res.headers['access-control-expose-headers']).toBe('Retry-After');
    }
    // A known path with a method it lacks is unknown too.
    expect((await unknown('DELETE', '/api/v1/conversations', DESK)).headers['access-control-allow-origin']).toBe(DESK);
    const other = await unknown('GET', '/api/v1/no-such-report', 'https://evil.example');
    expect(other.statusCode).toBe(404);
    expect(other.json()).toMatchObject({ error: { code: 'route_not_found' } });
    expect(corsHeadersOf(other.headers)).toEqual([]);
    // Outside /api/v1 the root's handler answers as before, with no CORS header for anyone.
    for (const url of ['/no-such-page', '/api/v2/conversations', '/api/v1x']) {
      const res = await unknown('GET', url, TOOL);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: { code: 'route_not_found', message: `no route GET ${url}` } });
      expect(corsHeadersOf(res.headers)).toEqual([]);
    }
  });

  it('sends nothing to any origin when HUMMDESK_API_ORIGINS is unset', async () => {
    const acct = await createTestAccount(closed);
    const res = await closed.app.inject({ method: 'GET', url: '/api/v1/conversations', headers: { origin: TOOL, authorization: `Bearer ${acct.users.agent.token}` } });
    expect(res.statusCode).toBe(200);
    expect(corsHeadersOf(res.headers)).toEqual([]);
    const preflight = await closed.app.inject({ method: 'OPTIONS', url: '/api/v1/conversations', headers: { origin: TOOL, ...PREFLIGHT } });
    expect(preflight.statusCode).toBe(404);
    expect(corsHeadersOf(preflight.headers)).toEqual([]);
    const unknown = await closed.app.inject({ method: 'GET', url: '/api/v1/no-such-report', headers: { origin: TOOL } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { code: 'route_not_found' } });
    expect(corsHeadersOf(unknown.headers)).toEqual([]);
  });

  it('sends the header on the event stream, which writes its own head', async () => {
    const allowed = await streamHeaders(`${base}/api/v1/events?access_token=${encodeURIComponent(a.users.viewer.token)}`, { origin: TOOL });
    expect(allowed.status).toBe(200);
    expect(allowed.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(allowed.headers['access-control-allow-origin']).toBe(TOOL);
    expect(allowed.headers.vary).toMatch(/\borigin\b/i);
    const other = await streamHeaders(`${base}/api/v1/events`, { origin: 'https://evil.example', 'x-api-key': a.apiKeys.viewer });
    expect(other.status).toBe(200);
    expect(corsHeadersOf(other.headers)).toEqual([]);
    const preflight = await t.app.inject({ method: 'OPTIONS', url: '/api/v1/events', headers: { origin: TOOL, 'access-control-request-method': 'GET', 'access-control-request-headers': 'last-event-id' } });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(TOOL);
  });

  it("leaves the web chat's per-channel CORS as it was", async () => {
    const widget = `/webchat/key-${a.slug}`;
    const shopPreflight = await t.app.inject({ method: 'OPTIONS', url: `${widget}/messages`, headers: { origin: SHOP, ...PREFLIGHT } });
    expect(shopPreflight.statusCode).toBe(204);
    expect(shopPreflight.headers).toMatchObject({
      'access-control-allow-origin': SHOP,
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'authorization, content-type, x-visitor-id',
      'access-control-max-age': '600',
    });
    // An origin allowed on the API is not thereby allowed on a widget.
    const tool = await t.app.inject({ method: 'POST', url: `${widget}/sessions`, headers: { origin: TOOL }, payload: {} });
    expect(tool.statusCode).toBe(403);
    expect(tool.json()).toMatchObject({ error: { code: 'origin_not_allowed' } });
    expect(corsHeadersOf(tool.headers)).toEqual([]);
  });

  it('adds nothing outside /api/v1 (health, webhooks)', async () => {
    const health = await t.app.inject({ method: 'GET', url: '/health', headers: { origin: TOOL } });
    expect(health.statusCode).toBe(200);
    expect(corsHeadersOf(health.headers)).toEqual([]);
    const webhook = await t.app.inject({ method: 'OPTIONS', url: '/webhooks/slack', headers: { origin: TOOL, ...PREFLIGHT } });
    expect(corsHeadersOf(webhook.headers)).toEqual([]);
  });
});
