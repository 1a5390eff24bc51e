import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideAutoSend, type AutoSendPolicy } from '../../ai/autosend/policy.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { call } from '../testing/seed.js';

/** GET/PATCH /api/v1/ai/settings: what the operator allows, what an account chooses, and what is refused. */
let t: TestHub;
let open: TestHub;

beforeAll(async () => {
  // The operator holds a Claude key, allows local and Claude only, and takes no tenant keys.
  t = await startTestHub({ jobs: false, env: { ANTHROPIC_API_KEY: 'sk-operator-key', HUMMDESK_AI_PROVIDER: 'local', HUMMDESK_AI_ACCOUNT_PROVIDERS: 'local,anthropic' } });
  // Another operator: an OpenAI-compatible endpoint without a key of its own, and tenant keys allowed.
  open = await startTestHub({ jobs: false, env: { HUMMDESK_AI_PROVIDER: 'local', HUMMDESK_OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', HUMMDESK_OPENAI_MODEL: 'llama', HUMMDESK_AI_TENANT_KEYS: 'true' } });
}, 60_000);
afterAll(async () => {
  await t?.close();
  await open?.close();
});

interface Settings {
  provider: { chosen: string | null; model: string | null; effective: string; accountKey: boolean };
  providers: { name: string; configured: boolean; defaultModel: string | null }[];
  tenantKeys: boolean;
  autoSend: { enabled: boolean; minConfidence: number | null; categories: string[] };
  categories: { name: string; builtIn: boolean; examples: number; corrections: number; samples: string[] }[];
}

const settings = async (hub: TestHub, acct: TestAccount) => {
  const res = await call(hub, acct.users.admin.token, 'GET', '/api/v1/ai/settings');
  expect(res.statusCode, res.body).toBe(200);
  return res.json<Settings>();
};
const patch = (hub: TestHub, acct: TestAccount, body: unknown) => call(hub, acct.users.admin.token, 'PATCH', '/api/v1/ai/settings', body);
const storedAi = async (hub: TestHub, acct: TestAccount) =>
  (await hub.hub.db.query<{ ai: Record<string, unknown> | null }>(`SELECT settings->'ai' AS ai FROM accounts WHERE id = $1`, [acct.accountId])).rows[0]!.ai;

describe('AI settings', () => {
  it('shows the operator default, the providers the operator allows, and the categories with their examples', async () => {
    const acct = await createTestAccount(t);
    const s = await settings(t, acct);
    expect(s.provider).toEqual({ chosen: null, model: null, effective: 'local', accountKey: false });
    expect(s.providers.map((p) => p.name)).toEqual(['local', 'anthropic']);
    expect(s.providers.find((p) => p.name === 'anthropic')!.configured).toBe(true);
    expect(s.tenantKeys).toBe(false);
    expect(s.autoSend).toEqual({ enabled: false, minConfidence: null, categories: [] });
    const billing = s.categories.find((c) => c.name === 'billing')!;
    expect(billing.builtIn).toBe(true);
    expect(billing.samples.length).toBeGreaterThan(0);
    // Settings are for admins.
    expect((await call(t, acct.users.agent.token, 'GET', '/api/v1/ai/settings')).statusCode).toBe(403);
  });

  it("an account's own examples count under their category, new categories included", async () => {
    const acct = await createTestAccount(t);
    const res = await call(t, acct.users.admin.token, 'POST', '/api/v1/ai/examples', { examples: [{ category: 'returns', text: 'How do I send the parcel back?' }] });
    expect(res.statusCode, res.body).toBe(202);
    const returns = (await settings(t, acct)).categories.find((c) => c.name === 'returns')!;
    expect(returns).toMatchObject({ builtIn: false, examples: 1, samples: ['How do I send the parcel back?'] });
  });

  it('saves a provider and a model the operator allows, and back to the default with null', async () => {
    const acct = await createTestAccount(t);
    const res = await patch(t, acct, { provider: 'anthropic', model: 'claude-haiku-5' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<Settings>().provider).toEqual({ chosen: 'anthropic', model: 'claude-haiku-5', effective: 'anthropic', accountKey: false });
    expect(await storedAi(t, acct)).toMatchObject({ provider: 'anthropic', model: 'claude-haiku-5' });
    const back = await patch(t, acct, { provider: null });
    expect(back.json<Settings>().provider).toEqual({ chosen: null, model: null, effective: 'local', accountKey: false });
  });

  it('refuses, with a stable code and nothing changed, what the operator does not allow', async () => {
    const acct = await createTestAccount(t);
    expect((await patch(t, acct, { autoSend: { enabled: true, minConfidence: 0.8, categories: ['billing'] } })).statusCode).toBe(200);
    const before = await storedAi(t, acct);
    const refused: [unknown, string][] = [
      [{ provider: 'openai-compatible' }, 'provider_not_allowed'],
      [{ apiKey: 'sk-tenant-key-123' }, 'tenant_keys_not_allowed'],
      [{ model: 'gpt-5' }, 'model_not_allowed'],
      [{ autoSend: { enabled: true, minConfidence: null, categories: ['billing'] } }, 'auto_send_incomplete'],
      [{ autoSend: { enabled: true, minConfidence: 0.9, categories: [] } }, 'auto_send_incomplete'],
      [{ autoSend: { enabled: true, minConfidence: 0.9, categories: ['no-such-category'] } }, 'unknown_category'],
      // A valid part beside a refused one is not saved either.
      [{ provider: 'anthropic', autoSend: { enabled: true, minConfidence: 0.9, categories: ['nope'] } }, 'unknown_category'],
    ];
    for (const [body, code] of refused) {
      const res = await patch(t, acct, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code, JSON.stringify(body)).toBe(code);
    }
    const bad = await patch(t, acct, { autoSend: { enabled: true, minConfidence: 1.5, categories: ['billing'] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('validation_failed');
    expect(await storedAi(t, acct)).toEqual(before);
  });

  it('stores the auto-send policy where the AI stage reads it, and audits the change', async () => {
    const acct = await createTestAccount(t);
    const res = await patch(t, acct, { autoSend: { enabled: true, minConfidence: 0.7, categories: ['account', 'billing'] } });
    expect(res.statusCode, res.body).toBe(200);
    const policy = (await storedAi(t, acct))!.autoSend as AutoSendPolicy;
    const message = { autoReply: false, isLatestInbound: true, answered: false };
    const draft = { text: 'Open the login page.', citations: [] } as never;
    expect(decideAutoSend(policy, { classification: { category: 'account', confidence: 0.75, sentiment: 'neutral', priority: 'normal' } as never, draft, message }).send).toBe(true);
    expect(decideAutoSend(policy, { classification: { category: 'account', confidence: 0.6, sentiment: 'neutral', priority: 'normal' } as never, draft, message }).send).toBe(false);
    expect(decideAutoSend(policy, { classification: { category: 'shipping', confidence: 0.9, sentiment: 'neutral', priority: 'normal' } as never, draft, message }).send).toBe(false);
    const off = await patch(t, acct, { autoSend: { enabled: false, minConfidence: 0.7, categories: ['account'] } });
    expect(off.json<Settings>().autoSend.enabled).toBe(false);
    const audited = await t.hub.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log WHERE account_id = $1 AND action = 'ai.settings_updated'`, [acct.accountId]);
    expect(audited.rows[0]!.n).toBe(2);
  });

  it("takes an account's own key where the operator allows it: sealed, never shown, and needed for an unconfigured provider", async () => {
    const acct = await createTestAccount(open);
    const s = await settings(open, acct);
    expect(s.tenantKeys).toBe(true);
    expect(s.providers.map((p) => [p.name, p.configured])).toEqual([['local', true], ['anthropic', false], ['openai-compatible', true]]);
    const noKey = await patch(open, acct, { provider: 'anthropic' });
    expect(noKey.statusCode).toBe(400);
    expect(noKey.json().error.code).toBe('provider_not_configured');
    const res = await patch(open, acct, { provider: 'anthropic', apiKey: 'sk-ant-tenant-secret' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).not.toContain('sk-ant-tenant-secret');
    expect(res.json<Settings>().provider).toEqual({ chosen: 'anthropic', model: null, effective: 'anthropic', accountKey: true });
    const stored = await storedAi(open, acct);
    expect(JSON.stringify(stored)).not.toContain('sk-ant-tenant-secret');
    expect(open.hub.box.open(stored!.keySealed as string).apiKey).toBe('sk-ant-tenant-secret');
    // Forgetting the key leaves a provider the hub cannot use: refused, the key kept.
    const forget = await patch(open, acct, { apiKey: null });
    expect(forget.json().error.code).toBe('provider_not_configured');
    expect((await settings(open, acct)).provider.accountKey).toBe(true);
  });
});
