import { emptyUsage, ProviderError, type TokenUsage } from '../providers/external/provider.js';
import { postChat, type OpenAiCompatibleOptions } from '../providers/openai/provider.js';
import { retryingDispatcher, type LazyDispatcher } from '../providers/openai/http.js';
import type { TranslationModel } from './translate.js';

/** An OpenAI-compatible server (vLLM, Ollama, llama.cpp) as translator: one /chat/completions call, temperature 0. */
export class OpenAiTranslation implements TranslationModel {
  readonly provider = 'openai-compatible' as const;
  readonly model: string;
  private readonly dispatcher: LazyDispatcher;

  constructor(private readonly o: OpenAiCompatibleOptions) {
    this.model = o.model;
    this.dispatcher = retryingDispatcher(o);
  }

  async complete(system: string, user: string): Promise<{ text: string; usage: TokenUsage }> {
    const res = await postChat(this.o, this.dispatcher, { model: this.model, temperature: 0, messages: [{ role: 'system', content: system }, { role: 'user', content: user }] });
    const choice = res.choices?.[0] as { message?: { content?: string | null }; finish_reason?: string } | undefined;
    if (choice?.finish_reason === 'length') throw new ProviderError('bad_output', 'the translation was cut off (length)');
    const usage = emptyUsage();
    usage.requests = 1;
    usage.inputTokens = res.usage?.prompt_tokens ?? 0;
    usage.outputTokens = res.usage?.completion_tokens ?? 0;
    usage.cacheReadTokens = res.usage?.prompt_tokens_details?.cached_tokens ?? 0;
    return { text: choice?.message?.content ?? '', usage };
  }
}
