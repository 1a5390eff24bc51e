import { EndpointError, postJson, retryingDispatcher, type EndpointOptions, type LazyDispatcher } from '../providers/openai/http.js';
import { EmbeddingError, type Embedder } from './embedder.js';

export interface OpenAiEmbedderOptions extends EndpointOptions {
  model: string;
  /** Expected vector size; unset, the first answer sets it. */
  dimension?: number;
  batchSize?: number;
}

/** Model ids of endpoint models carry this prefix, so they never collide with a local model's id. */
export const OPENAI_MODEL_PREFIX = 'openai-compatible:';

interface EmbeddingsResponse {
  data?: { index?: number; embedding?: unknown }[];
}

/**
 * Embeddings from an OpenAI-compatible `POST {baseUrl}/embeddings` (OpenAI, vLLM, Ollama, llama.cpp
 * server): `{model, input: [...]}` → `{data: [{index, embedding}]}`, in batches, retried as
 * providers/openai/http.ts does for every call to such a server.
 */
export class OpenAiEmbedder implements Embedder {
  readonly modelId: string;
  readonly external = true;
  private dim?: number;
  private readonly dispatcher: LazyDispatcher;

  constructor(private readonly o: OpenAiEmbedderOptions) {
    this.modelId = `${OPENAI_MODEL_PREFIX}${o.model}`;
    this.dim = o.dimension;
    this.dispatcher = retryingDispatcher(o);
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
    const body = { model: this.o.model, input: input.map((t) => t.slice(0, 8000) || ' '), encoding_format: 'float' };
    let text: string;
    try {
      text = await postJson(this.o, this.dispatcher, '/embeddings', body);
    } catch (err) {
      throw failure(err);
    }
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

/** A failure after the retries, as a stable code. */
function failure(err: unknown): EmbeddingError {
  if (!(err instanceof EndpointError)) return new EmbeddingError('unavailable', String(err));
  const f = err.failure;
  if (f.kind === 'timeout') return new EmbeddingError('timeout', 'the embeddings endpoint did not answer in time');
  if (f.kind === 'network') return new EmbeddingError('unavailable', f.message);
  if (f.status === 401 || f.status === 403) return new EmbeddingError('auth', err.message);
  if (f.status === 429) return new EmbeddingError('rate_limited', `${f.status} after retries`);
  return new EmbeddingError(f.status >= 500 || f.status === 408 || f.status === 409 ? 'unavailable' : 'bad_request', err.message);
}
