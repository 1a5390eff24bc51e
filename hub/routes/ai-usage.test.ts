import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withAccount } from '../../storage/session.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { call } from '../testing/seed.js';

let t: TestHub;
let acct: TestAccount;
let other: TestAccount;

const usage = (a: TestAccount, rows: [provider: string, model: string, daysAgo: number, input: number, output: number, cacheRead: number, cacheWrite: number][]) =>
  withAccount(t.hub.db, a.accountId, async (tx) => {
    for (const [provider, model, daysAgo, input, output, cacheRead, cacheWrite] of rows)
      await tx.query(
        `INSERT INTO ai_usage (account_id, provider, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - make_interval(days => $8) + interval '1 hour')`,
        [a.accountId, provider, model, input, output, cacheRead, cacheWrite, daysAgo],
      );
  });

const utcDay = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  acct = await createTestAccount(t);
  other = await createTestAccount(t);
  await usage(acct, [
    ['anthropic', 'claude-sonnet-5-5', 0, 1000, 200, 5000, 0],
    ['anthropic', 'claude-sonnet-5-5', 0, 800, 150, 5000, 0],
    ['anthropic', 'claude-sonnet-5-5', 1, 1200, 300, 0, 5000],
    ['openai-compatible', 'llama-3.1-8b-instruct', 1, 400, 90, 0, 0],
    ['anthropic', 'claude-sonnet-5-5', 40, 99999, 99999, 0, 0],
  ]);
  await usage(other, [['anthropic', 'claude-sonnet-5-5', 0, 777, 777, 777, 777]]);
});
afterAll(() => t?.close());

describe('GET /api/v1/ai/usage', () => {
  it('sums the account’s tokens per UTC day, provider and model within the window', async () => {
    const res = await call(t, acct.users.admin.token, 'GET', '/api/v1/ai/usage?days=30');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      days: 30,
      items: [
        { day: utcDay(0), provider: 'anthropic', model: 'claude-sonnet-5-5', requests: 2, inputTokens: 1800, outputTokens: 350, cacheReadTokens: 10000, cacheWriteTokens: 0 },
        { day: utcDay(1), provider: 'anthropic', model: 'claude-sonnet-5-5', requests: 1, inputTokens: 1200, outputTokens: 300, cacheReadTokens: 0, cacheWriteTokens: 5000 },
        { day: utcDay(1), provider: 'openai-compatible', model: 'llama-3.1-8b-instruct', requests: 1, inputTokens: 400, outputTokens: 90, cacheReadTokens: 0, cacheWriteTokens: 0 },
      ],
      totals: { requests: 4, inputTokens: 3400, outputTokens: 740, cacheReadTokens: 10000, cacheWriteTokens: 5000 },
    });
  });

  it('days=1 is today only', async () => {
    const res = await call(t, acct.users.admin.token, 'GET', '/api/v1/ai/usage?days=1');
    expect(res.json<{ items: { day: string }[] }>().items.map((i) => i.day)).toEqual([utcDay(0)]);
  });

  it('is for admins: an agent gets 403, a bad window 400', async () => {
    expect((await call(t, acct.users.agent.token, 'GET', '/api/v1/ai/usage')).statusCode).toBe(403);
    expect((await call(t, acct.users.admin.token, 'GET', '/api/v1/ai/usage?days=0')).statusCode).toBe(400);
  });
});
