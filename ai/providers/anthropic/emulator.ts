import { startEmulator, type ModelEmulator, type ScriptedReply } from '../external/emulator.js';

/** Test support: the Anthropic Messages API (POST /v1/messages) as the SDK sees it with `baseURL`. */
export const startAnthropicEmulator = (): Promise<ModelEmulator> => startEmulator('/v1/messages');

let seq = 0;
export function toolUse(calls: { name: string; input: unknown }[], usage: { input?: number; output?: number; cacheRead?: number; cacheWrite?: number } = {}): ScriptedReply {
  return {
    body: {
      id: `msg_emu_${++seq}`, type: 'message', role: 'assistant', model: 'emulated',
      content: calls.map((c) => ({ type: 'tool_use', id: `toolu_emu_${++seq}`, name: c.name, input: c.input })),
      stop_reason: 'tool_use', stop_sequence: null,
      usage: { input_tokens: usage.input ?? 100, output_tokens: usage.output ?? 50, cache_creation_input_tokens: usage.cacheWrite ?? 0, cache_read_input_tokens: usage.cacheRead ?? 0 },
    },
  };
}

export const rateLimited: ScriptedReply = { status: 429, headers: { 'retry-after-ms': '1' }, body: { type: 'error', error: { type: 'rate_limit_error', message: 'Number of requests has exceeded your rate limit' } } };
export const overloaded: ScriptedReply = { status: 529, headers: { 'retry-after-ms': '1' }, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } };
export const hang: ScriptedReply = { hang: true };

/** A plain text answer (what a translation gets back). */
export function textReply(text: string, usage: { input?: number; output?: number } = {}): ScriptedReply {
  return {
    body: {
      id: `msg_emu_${++seq}`, type: 'message', role: 'assistant', model: 'emulated',
      content: [{ type: 'text', text }],
      stop_reason: 'end_turn', stop_sequence: null,
      usage: { input_tokens: usage.input ?? 120, output_tokens: usage.output ?? 40, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    },
  };
}
