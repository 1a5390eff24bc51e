import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database } from '../../storage/database.js';
import { tenantReads } from '../../storage/session.js';
import type { Analysis, AnalysisInput, ConversationAi } from '../../hub/ai-stage.js';
import type { AiConfig } from '../../hub/config.js';
import type { LocalProvider } from './local/provider.js';
import type { SecretBox } from '../../storage/secret-box.js';
import { SharedReads } from './local/shared-reads.js';

export type ProviderName = AiConfig['provider'];

/**
 * Chooses the provider per account (`accounts.settings.ai.provider`, and optionally `.model`), with the
 * environment's default. Endpoints come only from the environment: an account can pick a provider the
 * operator allows (HUMMDESK_AI_ACCOUNT_PROVIDERS) and a model, never a URL the hub would call; its own
 * key (sealed in `settings.ai.keySealed`) only when the operator allows tenant keys. A provider that is
 * not configured falls back to local, and the evidence says so.
 */
export class ProviderSelector implements ConversationAi {
  private readonly cache = new Map<string, ConversationAi>();
  /** Analyses of one account running together (a batch) read its provider choice once. */
  private readonly reads = new SharedReads();

  constructor(private readonly deps: { db: Database; local: LocalProvider; config: AiConfig; log?: Logger; box?: SecretBox }) {}

  async analyze(input: AnalysisInput): Promise<Analysis> {
    // One statement as the tenant: one round trip, no BEGIN or COMMIT.
    const s = await this.reads.get(input.accountId, async () =>
      (await tenantReads(this.deps.db, input.accountId).query<{ provider: string | null; model: string | null; keySealed: string | null }>(
        `SELECT settings->'ai'->>'provider' AS provider, settings->'ai'->>'model' AS model, settings->'ai'->>'keySealed' AS "keySealed" FROM accounts WHERE id = $1`, [input.accountId])).rows[0]);
    const c = this.deps.config;
    // A choice the operator no longer allows is the operator's default again.
    const chosen = s?.provider && c.accountProviders.includes(s.provider as ProviderName) ? (s.provider as ProviderName) : undefined;
    const name = chosen ?? c.provider;
    const accountKey = chosen && c.tenantKeys && s?.keySealed && this.deps.box ? this.deps.box.open(s.keySealed).apiKey : undefined;
    const provider = await this.provider(name, chosen ? s?.model ?? undefined : undefined, accountKey);
    if (provider) return provider.analyze(input);
    const analysis = await this.deps.local.analyze(input);
    return name === 'local' ? analysis : { ...analysis, evidence: { ...analysis.evidence, fallback: { from: name, code: 'not_configured' } } };
  }

  // A provider's SDK (Anthropic's, undici) is imported when an account first uses it, not by every process.
  private async provider(name: ProviderName, model: string | undefined, accountKey?: string): Promise<ConversationAi | undefined> {
    const c = this.deps.config;
    const key = `${name}:${model ?? ''}:${accountKey ? createHash('sha256').update(accountKey).digest('hex') : ''}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const deps = { db: this.deps.db, local: this.deps.local, log: this.deps.log };
    let p: ConversationAi | undefined;
    const anthropicKey = accountKey ?? c.anthropicApiKey;
    if (name === 'anthropic' && anthropicKey) {
      const { AnthropicProvider } = await import('./anthropic/provider.js');
      p = new AnthropicProvider(deps, { apiKey: anthropicKey, model: model ?? c.anthropicModel, baseURL: c.anthropicBaseUrl, timeoutMs: c.timeoutMs, maxRetries: c.maxRetries });
    } else if (name === 'openai-compatible' && c.openaiBaseUrl && (model ?? c.openaiModel)) {
      const { OpenAiCompatibleProvider } = await import('./openai/provider.js');
      p = new OpenAiCompatibleProvider(deps, { baseUrl: c.openaiBaseUrl, model: (model ?? c.openaiModel)!, apiKey: accountKey ?? c.openaiApiKey, timeoutMs: c.timeoutMs, maxRetries: c.maxRetries });
    }
    if (p) this.cache.set(key, p);
    return p;
  }
}
