import type { EmbeddingsConfig } from '../../hub/config.js';
import type { EmbedOptions, Embedder } from './embedder.js';
import { localEmbedder } from './local.js';
import { OPENAI_MODEL_PREFIX, OpenAiEmbedder } from './openai.js';

/**
 * The embedding models one hub can compute. Used as an Embedder it is the local model (category
 * features never change model); `configured` builds new knowledge-base indexes, and `forModel` reaches
 * the model an account's stored vectors came from, so search keeps working while a reindex runs.
 */
export class EmbedderSet implements Embedder {
  private readonly reached = new Map<string, Embedder>();

  constructor(
    readonly configured: Embedder,
    private readonly features: Embedder,
    private readonly reach: (modelId: string) => Embedder | undefined = () => undefined,
  ) {}

  /** The set of one model, for callers that hand the knowledge base a plain Embedder. */
  static from(e: Embedder): EmbedderSet {
    return e instanceof EmbedderSet ? e : new EmbedderSet(e, e);
  }

  get modelId(): string {
    return this.features.modelId;
  }

  get dimension(): number {
    return this.features.dimension;
  }

  embed(texts: string[], o?: EmbedOptions): Promise<Float32Array[]> {
    return this.features.embed(texts, o);
  }

  /** The embedder of a stored model id, when this hub can compute it. */
  forModel(modelId: string): Embedder | undefined {
    if (modelId === this.configured.modelId) return this.configured;
    if (modelId === this.features.modelId) return this.features;
    let e = this.reached.get(modelId);
    if (!e && (e = this.reach(modelId))) this.reached.set(modelId, e);
    return e;
  }
}

/** The hub's models from its configuration: local always; an OpenAI-compatible endpoint when one is set. */
export function embeddersFromConfig(c: EmbeddingsConfig, local: Embedder = localEmbedder()): EmbedderSet {
  const endpoint = (model: string, dimension?: number) =>
    new OpenAiEmbedder({ baseUrl: c.baseUrl!, model, apiKey: c.apiKey, dimension, batchSize: c.batchSize, timeoutMs: c.timeoutMs, maxRetries: c.maxRetries });
  const configured = c.provider === 'openai-compatible' ? endpoint(c.model!, c.dimension) : local;
  // Vectors of an earlier endpoint model stay searchable through the same server until the reindex is done.
  const reach = (modelId: string) => (c.baseUrl && modelId.startsWith(OPENAI_MODEL_PREFIX) ? endpoint(modelId.slice(OPENAI_MODEL_PREFIX.length)) : undefined);
  return new EmbedderSet(configured, local, reach);
}
