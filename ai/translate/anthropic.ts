import Anthropic from '@anthropic-ai/sdk';
import { DEFAULT_ANTHROPIC_MODEL, asProviderError, type AnthropicOptions } from '../providers/anthropic/provider.js';
import { emptyUsage, ProviderError, type TokenUsage } from '../providers/external/provider.js';
import type { TranslationModel } from './translate.js';

/** Claude as translator: one Messages API call, plain text back (the SDK's timeout and retries). */
export class AnthropicTranslation implements TranslationModel {
  readonly provider = 'anthropic' as const;
  readonly model: string;
  private readonly client: Anthropic;

  constructor(o: AnthropicOptions) {
    this.model = o.model ?? DEFAULT_ANTHROPIC_MODEL;
    this.client = new Anthropic({ apiKey: o.apiKey, baseURL: o.baseURL, timeout: o.timeoutMs ?? 30_000, maxRetries: o.maxRetries ?? 2 });
  }

  async complete(system: string, user: string): Promise<{ text: string; usage: TokenUsage }> {
    let res: Anthropic.Message;
    try {
      res = await this.client.messages.create({ model: this.model, max_tokens: 4096, system, messages: [{ role: 'user', content: user }] });
    } catch (err) {
      throw asProviderError(err);
    }
    if (res.stop_reason === 'max_tokens') throw new ProviderError('bad_output', 'the translation was cut off (max_tokens)');
    const usage = emptyUsage();
    usage.requests = 1;
    usage.inputTokens = res.usage.input_tokens;
    usage.outputTokens = res.usage.output_tokens;
    usage.cacheReadTokens = res.usage.cache_read_input_tokens ?? 0;
    usage.cacheWriteTokens = res.usage.cache_creation_input_tokens ?? 0;
    return { text: res.content.filter((b): b is Anthropic.TextBlock => b.type === 'text').map((b) => b.text).join(''), usage };
  }
}
