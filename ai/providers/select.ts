import type { Logger } from 'pino';
import type { Database } from '../../storage/database.js';
import { withAccount } from '../../storage/session.js';
import type { Analysis, AnalysisInput, ConversationAi } from '../../hub/ai-stage.js';
import type { AiConfig } from '../../hub/config.js';
import type { LocalProvider } from './local/provider.js';

export type ProviderName = AiConfig['provider'];

/**
 * Chooses the provider per account (`accounts.settings.ai.provider`, and optionally `.model`), with the
 * environment's default. Endpoints and keys come only from the environment: an account can pick a
 * provider and a model, never a URL the hub would call. A provider that is not configured falls back
 * to local, and the evidence says so.
 */
export class ProviderSelector implements ConversationAi {
  private readonly cache = new Map<string, ConversationAi>();

  constructor(private readonly deps: { db: Database; local: LocalProvider; config: AiConfig; log?: Logger }) {}

  async analyze(input: AnalysisInput): Promise<Analysis> {
    const s = await withAccount(this.deps.db, input.accountId, async (tx) =>
      (await tx.query<{ provider: string | null; model: string | null }>(`SELECT settings->'ai'->>'provider' AS provider, settings->'ai'->>'model' AS model FROM accounts WHERE id = $1`, [input.accountId])).rows[0]);
    const name = (s?.provider ?? this.deps.config.provider) as ProviderName;
    const provider = await this.provider(name, s?.model ?? undefined);
    if (provider) return provider.analyze(input);
    const analysis = await this.deps.local.analyze(input);
    return name === 'local' ? analysis : { ...analysis, evidence: { ...analysis.evidence, fallback: { from: name, code: 'not_configured' } } };
  }

  // A provider's SDK (Anthropic's, undici) is imported when an account first uses it, not by every process.
  private async provider(name: ProviderName, model: string | undefined): Promise<ConversationAi | undefined> {
    const c = this.deps.config;
    const key = `${name}:${model ?? ''}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const deps = { db: this.deps.db, local: this.deps.local, log: this.deps.log };
    let p: ConversationAi | undefined;
    if (name === 'anthropic' && c.anthropicApiKey) {
      const { AnthropicProvider } = await import('./anthropic/provider.js');
      p = new AnthropicProvider(deps, { apiKey: c.anthropicApiKey, model: model ?? c.anthropicModel, baseURL: c.anthropicBaseUrl, timeoutMs: c.timeoutMs, maxRetries: c.maxRetries });
    } else if (name === 'openai-compatible' && c.openaiBaseUrl && (model ?? c.openaiModel)) {
      const { OpenAiCompatibleProvider } = await import('./openai/provider.js');
      p = new OpenAiCompatibleProvider(deps, { baseUrl: c.openaiBaseUrl, model: (model ?? c.openaiModel)!, apiKey: c.openaiApiKey, timeoutMs: c.timeoutMs, maxRetries: c.maxRetries });
    }
    if (p) this.cache.set(key, p);
    return p;
  }
}
