import Anthropic from '@anthropic-ai/sdk';
import type { Logger } from 'pino';
import type { Database } from '../../../storage/database.js';
import type { LocalProvider } from '../local/provider.js';
import { ExternalProvider, ProviderError, emptyUsage, type Completion, type Prompt, type ToolBox } from '../external/provider.js';
import { AnalysisOutput, SearchInput, jsonSchema } from '../external/schema.js';

export const DEFAULT_ANTHROPIC_MODEL = 'claude-sonnet-5-5';
// A model that keeps calling tools without submitting is cut off here.
const MAX_TURNS = 4;

export interface AnthropicOptions {
  apiKey: string;
  model?: string;
  /** For a proxy or a test emulator; the SDK's default otherwise. */
  baseURL?: string;
  timeoutMs?: number;
  maxRetries?: number;
}

export const TOOLS = [
  { name: 'search_knowledge_base', description: "Search this account's knowledge base for more passages. It sees nothing else: no other conversations, customers or accounts.", input_schema: jsonSchema(SearchInput) },
  { name: 'submit_analysis', description: 'Submit the classification and the reply draft. Call exactly once, last.', input_schema: jsonSchema(AnalysisOutput) },
] as Anthropic.Tool[];

/**
 * Claude through the Messages API: structured output via tool use (validated against AnalysisOutput,
 * with the errors sent back for one more try), the static prefix (tools + system prompt with
 * categories and templates) marked for prompt caching, the SDK's timeout and retries (429, 5xx and
 * 529 overloaded, honouring retry-after), and token usage with cache reads recorded per account.
 */
export class AnthropicProvider extends ExternalProvider {
  readonly name = 'anthropic' as const;
  readonly model: string;
  private readonly client: Anthropic;

  constructor(deps: { db: Database; local: LocalProvider; log?: Logger }, o: AnthropicOptions) {
    super(deps);
    this.model = o.model ?? DEFAULT_ANTHROPIC_MODEL;
    this.client = new Anthropic({ apiKey: o.apiKey, baseURL: o.baseURL, timeout: o.timeoutMs ?? 30_000, maxRetries: o.maxRetries ?? 2 });
  }

  protected async complete(prompt: Prompt, tools: ToolBox): Promise<Completion> {
    const usage = emptyUsage();
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: prompt.user }];
    for (let turn = 0; turn < MAX_TURNS; turn++) {
      const res = await this.send(prompt.system, messages);
      usage.requests++;
      usage.inputTokens += res.usage.input_tokens;
      usage.outputTokens += res.usage.output_tokens;
      usage.cacheReadTokens += res.usage.cache_read_input_tokens ?? 0;
      usage.cacheWriteTokens += res.usage.cache_creation_input_tokens ?? 0;
      const calls = res.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
      if (!calls.length) throw new ProviderError('bad_output', `the model answered without a tool call (stop_reason ${res.stop_reason})`);
      const results: Anthropic.ToolResultBlockParam[] = [];
      for (const call of calls) {
        if (call.name === 'submit_analysis') {
          const problems = await tools.check(call.input);
          if (!problems.length) return { output: call.input as AnalysisOutput, usage };
          results.push({ type: 'tool_result', tool_use_id: call.id, is_error: true, content: `invalid: ${problems.join('; ')}` });
        } else {
          const r = await tools.call(call.name, call.input);
          results.push({ type: 'tool_result', tool_use_id: call.id, is_error: r.isError, content: r.content });
        }
      }
      messages.push({ role: 'assistant', content: res.content }, { role: 'user', content: results });
    }
    throw new ProviderError('bad_output', `no valid submit_analysis after ${MAX_TURNS} turns`);
  }

  private async send(system: string, messages: Anthropic.MessageParam[]): Promise<Anthropic.Message> {
    try {
      return await this.client.messages.create({
        model: this.model,
        max_tokens: 2048,
        // Tools then system form the cached prefix; the breakpoint on the system block covers both.
        tools: TOOLS,
        system: [{ type: 'text', text: system, cache_control: { type: 'ephemeral' } }],
        tool_choice: { type: 'any' },
        messages,
      });
    } catch (err) {
      throw asProviderError(err);
    }
  }
}

export function asProviderError(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof Anthropic.APIConnectionTimeoutError) return new ProviderError('timeout', 'the model did not answer in time');
  if (err instanceof Anthropic.RateLimitError) return new ProviderError('rate_limited', err.message);
  if (err instanceof Anthropic.AuthenticationError || err instanceof Anthropic.PermissionDeniedError) return new ProviderError('auth', err.message);
  if (err instanceof Anthropic.APIError && err.status === 529) return new ProviderError('overloaded', err.message);
  if (err instanceof Anthropic.BadRequestError) return new ProviderError('bad_request', err.message);
  return new ProviderError('unavailable', (err as Error).message ?? String(err));
}
