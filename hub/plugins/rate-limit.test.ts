import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';

const LIMIT = 20;
let t: TestHub;
let a: TestAccount;

beforeAll(async () => {
  t = await startTestHub({ jobs: false, env: { HUMMDESK_RATE_LIMIT: String(LIMIT) } });
  a = await createTestAccount(t);
});
afterAll(() => t?.close());

const list = (headers: Record<string, string>, remoteAddress: string) =>
  t.app.inject({ method: 'GET', url: '/api/v1/conversations', headers, remoteAddress });

describe('the global rate limit', () => {
  it('counts requests with made-up credentials against the address they come from, not a bucket each', async () => {
    const address = '198.51.100.7';
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) statuses.push((await list({ authorization: `Bearer junk-${i}` }, address)).statusCode);
    expect(statuses.slice(0, LIMIT).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(LIMIT).every((s) => s === 429)).toBe(true);
    const refused = await list({ authorization: 'Bearer one-more' }, address);
    expect(refused.json().error.code).toBe('rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Junk API keys too, and a request with no credential at all.
    expect((await list({ 'x-api-key': `hd_00000000_${'A'.repeat(32)}` }, address)).statusCode).toBe(429);
    expect((await t.app.inject({ method: 'GET', url: '/no-such-route', remoteAddress: address })).statusCode).toBe(429);

    // A verified user and a verified API key from the same address keep buckets of their own.
    expect((await list({ authorization: `Bearer ${a.users.agent.token}` }, address)).statusCode).toBe(200);
    expect((await list({ authorization: `Bearer ${a.apiKeys.viewer}` }, address)).statusCode).toBe(200);
    // Another address is untouched.
    expect((await list({ authorization: 'Bearer junk' }, '198.51.100.8')).statusCode).toBe(401);
  });

  it('groups IPv6 clients by their /64', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await list({}, `2001:db8:1:2::${(i + 1).toString(16)}`)).statusCode).toBe(401);
    expect((await list({}, '2001:db8:1:2:ffff:ffff:ffff:ffff')).statusCode).toBe(429);
    expect((await list({}, '2001:db8:1:3::1')).statusCode).toBe(401);
  });

  it('gives each user or API key one bucket, however many tokens it holds', async () => {
    const address = '198.51.100.20';
    const b = await createTestAccount(t);
    const tokens = Array.from({ length: LIMIT }, (_, i) => t.app.signAccessToken({ userId: b.users.viewer.id, accountId: b.accountId, role: 'viewer' }, 'access', 900 + i));
    for (const token of tokens) expect((await list({ authorization: `Bearer ${token}` }, address)).statusCode).toBe(200);
    const fresh = t.app.signAccessToken({ userId: b.users.viewer.id, accountId: b.accountId, role: 'viewer' }, 'access', 2000);
    expect((await list({ authorization: `Bearer ${fresh}` }, address)).statusCode).toBe(429);
    // Its address and its colleagues are not charged for it.
    expect((await list({ authorization: `Bearer ${b.users.agent.token}` }, address)).statusCode).toBe(200);
    expect((await list({}, address)).statusCode).toBe(401);
  });
});

describe('platform webhooks', () => {
  const WEBHOOK_LIMIT = 8;
  let w: TestHub;
  beforeAll(async () => {
    w = await startTestHub({ jobs: false, env: { HUMMDESK_RATE_LIMIT: '5', HUMMDESK_WEBHOOK_RATE_LIMIT: String(WEBHOOK_LIMIT), HUMMDESK_META_APP_SECRET: 's', HUMMDESK_META_VERIFY_TOKEN: 'v' } });
  });
  afterAll(() => w?.close());
  const webhook = (platform: string, remoteAddress: string) =>
    w.app.inject({ method: 'POST', url: `/webhooks/${platform}`, payload: '{"object":"page","entry":[]}', headers: { 'content-type': 'application/json' }, remoteAddress });

  it('each platform\'s URL has its own budget per address, beside the address limit of everything else', async () => {
    const address = '203.0.113.9';
    // Beyond the address limit (5): a platform posts a busy hub's traffic from few addresses.
    for (let i = 0; i < WEBHOOK_LIMIT; i++) expect((await webhook('whatsapp', address)).statusCode).toBe(401);
    const limited = await webhook('whatsapp', address);
    expect([limited.statusCode, limited.json().error.code]).toEqual([429, 'rate_limited']);
    // Another platform from the same address is not charged for it, nor is the rest of the API.
    expect((await webhook('messenger', address)).statusCode).toBe(401);
    expect((await webhook('teams', address)).statusCode).toBe(401);
    const api = [];
    for (let i = 0; i < 6; i++) api.push((await w.app.inject({ method: 'GET', url: '/api/v1/conversations', remoteAddress: address })).statusCode);
    expect(api).toEqual([401, 401, 401, 401, 401, 429]);
  });
});
