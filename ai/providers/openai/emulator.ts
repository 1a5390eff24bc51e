import { startEmulator, type ModelEmulator, type ScriptedReply } from '../external/emulator.js';

/** Test support: an OpenAI-compatible server (vLLM, Ollama, llama.cpp) at `${url}/v1`. */
export const startOpenAiEmulator = (): Promise<ModelEmulator> => startEmulator('/v1/chat/completions');

export function chatJson(content: unknown, usage = { prompt_tokens: 300, completion_tokens: 80 }): ScriptedReply {
  return {
    body: {
      id: 'chatcmpl-emu', object: 'chat.completion', created: 0, model: 'emulated',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: typeof content === 'string' ? content : JSON.stringify(content) } }],
      usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
    },
  };
}
