import type { Logger } from 'pino';
import type { Database } from '../../../storage/database.js';
import type { LocalProvider } from '../local/provider.js';
import { ExternalProvider, ProviderError, emptyUsage, type Completion, type Prompt, type ToolBox } from '../external/provider.js';
import { AnalysisOutput, jsonSchema } from '../external/schema.js';
import { EndpointError, postJson, retryingDispatcher, type EndpointOptions, type LazyDispatcher } from './http.js';

export interface OpenAiCompatibleOptions extends EndpointOptions {
  model: string;
}

const MAX_TURNS = 2;

export interface ChatResponse {
  choices?: { message?: { content?: string | null } }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; prompt_tokens_details?: { cached_tokens?: number } };
}

/**
 * A self-hosted model behind an OpenAI-compatible /chat/completions endpoint (vLLM, Ollama,
 * llama.cpp server). Tool use is uneven across those servers, so the answer is a JSON object
 * (response_format json_object) checked against AnalysisOutput; an invalid one gets one more turn
 * with the errors. The knowledge-base passages come with the prompt; there is no search tool here.
 */
export class OpenAiCompatibleProvider extends ExternalProvider {
  readonly name = 'openai-compatible' as const;
  readonly model: string;
  private readonly dispatcher: LazyDispatcher;

  constructor(deps: { db: Database; local: LocalProvider; log?: Logger }, private readonly o: OpenAiCompatibleOptions) {
    super(deps);
    this.model = o.model;
    this.dispatcher = retryingDispatcher(o);
  }

  protected async complete(prompt: Prompt, tools: ToolBox): Promise<Completion> {
    const usage = emptyUsage();
    const system = `${prompt.system.replace(/Finish by calling submit_analysis exactly once\./, '')}\nReply with one JSON object only, matching this JSON Schema:\n${JSON.stringify(jsonSchema(AnalysisOutput))}`;
    const messages: { role: 'system' | 'user' | 'assistant'; content: string }[] = [{ role: 'system', content: system }, { role: 'user', content: prompt.user }];
    for (let turn = 0; turn < MAX_TURNS; turn++) {
      const res = await this.post({ model: this.model, messages, temperature: 0, response_format: { type: 'json_object' } });
      usage.requests++;
      usage.inputTokens += res.usage?.prompt_tokens ?? 0;
      usage.outputTokens += res.usage?.completion_tokens ?? 0;
      usage.cacheReadTokens += res.usage?.prompt_tokens_details?.cached_tokens ?? 0;
      const content = res.choices?.[0]?.message?.content ?? '';
      let parsed: unknown;
      try {
        parsed = JSON.parse(content.replace(/^```(?:json)?\s*|\s*```$/g, ''));
      } catch {
        parsed = undefined;
      }
      const problems = parsed === undefined ? ['the reply is not JSON'] : await tools.check(parsed);
      if (!problems.length) return { output: parsed as AnalysisOutput, usage };
      messages.push({ role: 'assistant', content }, { role: 'user', content: `That JSON is invalid: ${problems.join('; ')}. Reply with the corrected JSON object only.` });
    }
    throw new ProviderError('bad_output', `no valid JSON answer after ${MAX_TURNS} turns`);
  }

  /** One chat completion, retried as providers/openai/http.ts does for every call to such a server. */
  private async post(body: unknown): Promise<ChatResponse> {
    return postChat(this.o, this.dispatcher, body);
  }
}

/** One call of `/chat/completions`; every failure is a ProviderError with a stable code (translation uses it too). */
export async function postChat(o: EndpointOptions, dispatcher: LazyDispatcher, body: unknown): Promise<ChatResponse> {
  try {
    return JSON.parse(await postJson(o, dispatcher, '/chat/completions', body)) as ChatResponse;
  } catch (err) {
    if (!(err instanceof EndpointError)) throw new ProviderError('bad_output', `the answer is not JSON: ${String(err)}`);
    const f = err.failure;
    if (f.kind === 'timeout') throw new ProviderError('timeout', 'the model did not answer in time');
    if (f.kind === 'network') throw new ProviderError('unavailable', f.message);
    if (f.status === 401 || f.status === 403) throw new ProviderError('auth', err.message);
    if (f.status === 429) throw new ProviderError('rate_limited', err.message);
    if (f.status === 503 || f.status === 529) throw new ProviderError('overloaded', err.message);
    throw new ProviderError(f.status >= 500 || f.status === 408 || f.status === 409 ? 'unavailable' : 'bad_request', err.message);
  }
}
