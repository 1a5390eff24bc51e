import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';

let t: TestHub;
let acct: TestAccount;
let other: TestAccount;
const WIDGET = 'help-widget';

beforeAll(async () => {
  t = await startTestHub({ ai: true, jobs: false, env: { HUMMDESK_PUBLIC_RATE_LIMIT: '6' } });
  acct = await createTestAccount(t, { channelKey: WIDGET, config: { allowedOrigins: ['https://help.example'] } });
  other = await createTestAccount(t, { channelKey: 'other-help-widget' });
  const article = (token: string, a: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: '/api/v1/kb/articles', headers: { authorization: `Bearer ${token}` }, payload: a });
  for (const [token, a] of [
    [acct.users.admin.token, { title: 'Returning a parcel', body: 'To return a parcel, print the return label from your order page and drop the parcel at any post office within 30 days. The refund arrives in five days.', url: 'https://help.example/returns' }],
    [acct.users.admin.token, { title: 'Opening hours', body: 'Our shop is open on weekdays from nine to five.' }],
    [acct.users.admin.token, { title: 'Secret parcel return policy draft', body: 'Internal draft: parcel return refunds for VIPs only.', status: 'draft' }],
    [other.users.admin.token, { title: 'Another shop returns parcel', body: 'Parcel returns of another company go to its warehouse.' }],
  ] as const) {
    const res = await article(token, a);
    expect(res.statusCode, res.body).toBe(201);
  }
}, 120_000);
afterAll(() => t?.close());

const search = (q: string, widget = WIDGET, origin?: string) =>
  t.app.inject({ method: 'GET', url: `/webchat/${widget}/kb/search?q=${encodeURIComponent(q)}`, headers: origin ? { origin } : {} });

describe('public help center search', () => {
  it("finds only published articles of the widget's account, as title, snippet and url, without login", async () => {
    const res = await search('how do I return a parcel', WIDGET, 'https://help.example');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('https://help.example');
    const { items } = res.json() as { items: { title: string; snippet: string; url: string | null }[] };
    expect(items[0]).toEqual({ title: 'Returning a parcel', snippet: expect.stringContaining('return label'), url: 'https://help.example/returns' });
    const titles = items.map((i) => i.title);
    expect(titles).not.toContain('Secret parcel return policy draft');
    expect(titles).not.toContain('Another shop returns parcel');
    expect(new Set(titles).size).toBe(titles.length);
    expect(Object.keys(items[0]!).sort()).toEqual(['snippet', 'title', 'url']);
  }, 60_000);

  it('refuses other origins, unknown widgets and empty queries, and limits each address', async () => {
    expect((await search('parcel', WIDGET, 'https://evil.example')).statusCode).toBe(403);
    expect((await search('parcel', 'no-such-widget')).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: `/webchat/${WIDGET}/kb/search?q=` })).statusCode).toBe(400);
    let last = 0;
    for (let i = 0; i < 8 && last !== 429; i++) last = (await search('opening hours')).statusCode;
    expect(last).toBe(429);
  }, 60_000);
});
