import { Agent, RetryAgent, request, type Dispatcher } from 'undici';
import { EmbeddingError, type Embedder } from './embedder.js';

export interface OpenAiEmbedderOptions {
  /** e.g. http://127.0.0.1:11434/v1 (Ollama), http://127.0.0.1:8000/v1 (vLLM), https://api.openai.com/v1 */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** Expected vector size; unset, the first answer sets it. */
  dimension?: number;
  batchSize?: number;
  timeoutMs?: number;
  maxRetries?: number;
  /** First backoff step without a retry-after header (tests shorten it). */
  retryBaseMs?: number;
}

/** Model ids of endpoint models carry this prefix, so they never collide with a local model's id. */
export const OPENAI_MODEL_PREFIX = 'openai-compatible:';

interface EmbeddingsResponse {
  data?: { index?: number; embedding?: unknown }[];
}

/**
 * Embeddings from an OpenAI-compatible `POST {baseUrl}/embeddings` (OpenAI, vLLM, Ollama, llama.cpp
 * server): `{model, input: [...]}` → `{data: [{index, embedding}]}`, in batches. undici's RetryAgent
 * retries 408/429/5xx and dropped connections with exponential backoff, honouring retry-after.
 */
export class OpenAiEmbedder implements Embedder {
  readonly modelId: string;
  readonly external = true;
  private dim?: number;
  private readonly dispatcher: Dispatcher;

  constructor(private readonly o: OpenAiEmbedderOptions) {
    this.modelId = `${OPENAI_MODEL_PREFIX}${o.model}`;
    this.dim = o.dimension;
    const timeout = o.timeoutMs ?? 30_000;
    this.dispatcher = new RetryAgent(new Agent({ headersTimeout: timeout, bodyTimeout: timeout, connectTimeout: timeout }), {
      maxRetries: o.maxRetries ?? 2,
      minTimeout: o.retryBaseMs ?? 500,
      maxTimeout: 60_000,
      timeoutFactor: 2,
      methods: ['POST'],
      statusCodes: [408, 409, 429, 500, 502, 503, 504, 529],
      errorCodes: ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT'],
    });
  }

  get dimension(): number {
    if (this.dim === undefined) throw new EmbeddingError('bad_response', `the dimension of ${this.modelId} is known after its first answer`);
    return this.dim;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    const size = this.o.batchSize ?? 64;
    for (let i = 0; i < texts.length; i += size) out.push(...(await this.batch(texts.slice(i, i + size))));
    return out;
  }

  private async batch(input: string[]): Promise<Float32Array[]> {
    // Servers reject empty strings; a blank passage still needs a vector.
    const body = JSON.stringify({ model: this.o.model, input: input.map((t) => t.slice(0, 8000) || ' '), encoding_format: 'float' });
    let res: Dispatcher.ResponseData;
    try {
      res = await request(`${this.o.baseUrl.replace(/\/$/, '')}/embeddings`, {
        method: 'POST',
        dispatcher: this.dispatcher,
        headers: { 'content-type': 'application/json', ...(this.o.apiKey ? { authorization: `Bearer ${this.o.apiKey}` } : {}) },
        body,
      });
    } catch (err) {
      throw failure(err);
    }
    const text = await res.body.text();
    if (res.statusCode >= 400) throw new EmbeddingError(res.statusCode === 401 || res.statusCode === 403 ? 'auth' : 'bad_request', `${res.statusCode}: ${text.slice(0, 300)}`);
    return this.parse(text, input.length);
  }

  private parse(text: string, n: number): Float32Array[] {
    let json: EmbeddingsResponse;
    try {
      json = JSON.parse(text) as EmbeddingsResponse;
    } catch {
      throw new EmbeddingError('bad_response', 'the embeddings answer is not JSON');
    }
    const data = json.data ?? [];
    if (data.length !== n) throw new EmbeddingError('bad_response', `asked for ${n} embeddings, got ${data.length}`);
    const out: Float32Array[] = new Array(n);
    for (const [pos, d] of data.entries()) {
      const index = d.index ?? pos;
      if (!Array.isArray(d.embedding) || !Number.isInteger(index) || index < 0 || index >= n || out[index]) throw new EmbeddingError('bad_response', `embedding ${pos} is malformed`);
      const v = Float32Array.from(d.embedding as number[]);
      this.dim ??= v.length;
      if (v.length !== this.dim || !v.every(Number.isFinite)) throw new EmbeddingError('dimension_mismatch', `${this.modelId} gave a ${v.length}-d vector, expected ${this.dim}`);
      out[index] = v;
    }
    return out;
  }
}

/** undici's errors after the retries, as stable codes. */
function failure(err: unknown): EmbeddingError {
  const e = err as { code?: string; statusCode?: number; message?: string };
  if (e.code === 'UND_ERR_REQ_RETRY' && e.statusCode) {
    return new EmbeddingError(e.statusCode === 429 ? 'rate_limited' : 'unavailable', `${e.statusCode} after retries`);
  }
  if (e.code && /TIMEOUT/.test(e.code)) return new EmbeddingError('timeout', 'the embeddings endpoint did not answer in time');
  return new EmbeddingError('unavailable', e.message ?? String(err));
}
