import type { Logger } from 'pino';
import type { Database } from '../../../storage/database.js';
import type { LocalProvider } from '../local/provider.js';
import { ExternalProvider, ProviderError, emptyUsage, type Completion, type Prompt, type ToolBox } from '../external/provider.js';
import { AnalysisOutput, jsonSchema } from '../external/schema.js';

export interface OpenAiCompatibleOptions {
  /** e.g. http://127.0.0.1:8000/v1 (vLLM), http://127.0.0.1:11434/v1 (Ollama), http://127.0.0.1:8080/v1 (llama.cpp) */
  baseUrl: string;
  model: string;
  apiKey?: string;
  timeoutMs?: number;
  maxRetries?: number;
}

const MAX_TURNS = 2;

interface ChatResponse {
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

  constructor(deps: { db: Database; local: LocalProvider; log?: Logger }, private readonly o: OpenAiCompatibleOptions) {
    super(deps);
    this.model = o.model;
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
      const problems = parsed === undefined ? ['the reply is not JSON'] : tools.check(parsed);
      if (!problems.length) return { output: parsed as AnalysisOutput, usage };
      messages.push({ role: 'assistant', content }, { role: 'user', content: `That JSON is invalid: ${problems.join('; ')}. Reply with the corrected JSON object only.` });
    }
    throw new ProviderError('bad_output', `no valid JSON answer after ${MAX_TURNS} turns`);
  }

  /** One request with the timeout, retried on 408/409/429/5xx and network errors, honouring retry-after. */
  private async post(body: unknown): Promise<ChatResponse> {
    const retries = this.o.maxRetries ?? 2;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(`${this.o.baseUrl.replace(/\/$/, '')}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(this.o.apiKey ? { authorization: `Bearer ${this.o.apiKey}` } : {}) },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.o.timeoutMs ?? 30_000),
        });
      } catch (err) {
        const timeout = (err as Error).name === 'TimeoutError';
        if (attempt < retries) { await sleep(backoff(attempt)); continue; }
        throw new ProviderError(timeout ? 'timeout' : 'unavailable', timeout ? 'the model did not answer in time' : (err as Error).message);
      }
      if (res.ok) return (await res.json()) as ChatResponse;
      const text = (await res.text()).slice(0, 300);
      if ([408, 409, 429].includes(res.status) || res.status >= 500) {
        if (attempt < retries) { await sleep(retryAfter(res) ?? backoff(attempt)); continue; }
        throw new ProviderError(res.status === 429 ? 'rate_limited' : res.status === 529 || res.status === 503 ? 'overloaded' : 'unavailable', `${res.status}: ${text}`);
      }
      throw new ProviderError(res.status === 401 || res.status === 403 ? 'auth' : 'bad_request', `${res.status}: ${text}`);
    }
  }
}

function retryAfter(res: Response): number | undefined {
  const ms = Number(res.headers.get('retry-after-ms'));
  if (ms > 0) return Math.min(ms, 60_000);
  const s = Number(res.headers.get('retry-after'));
  return s > 0 ? Math.min(s * 1000, 60_000) : undefined;
}

const backoff = (attempt: number) => Math.min(500 * 2 ** attempt, 8000) * (1 - Math.random() * 0.25);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
