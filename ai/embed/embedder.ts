/** Sentence embeddings; every stored vector records the model id and dimension it came from. */
export interface Embedder {
  readonly modelId: string;
  /** Vector size; an endpoint's model may only know it after its first answer. */
  readonly dimension: number;
  /** Texts are sent out of the building: customer text is redacted before it is embedded. */
  readonly external?: boolean;
  embed(texts: string[], o?: EmbedOptions): Promise<Float32Array[]>;
}

/** Who asks and how urgently: the local model's threads schedule by it (ai/workers/pool.ts); endpoints ignore it. */
export interface EmbedOptions {
  accountId?: string;
  /** `interactive` (default): a person waits; `analysis`: the AI stage; `bulk`: imports and reindexes. */
  lane?: 'interactive' | 'analysis' | 'bulk';
  /** Bulk work: which kind (a retrain, an import): one account's kinds take turns, so a long retrain does not hold its import back. */
  work?: string;
}

export type EmbeddingErrorCode = 'timeout' | 'unavailable' | 'rate_limited' | 'auth' | 'bad_request' | 'bad_response' | 'dimension_mismatch'
  // The local model's threads (ai/workers/pool.ts): a thread died, none was free in time, shut down, the task threw.
  | 'ai_worker_crashed' | 'ai_threads_busy' | 'ai_threads_closed' | 'ai_task_failed';

/** An embedding model failed after its retries; the code is stable, the message is not. */
export class EmbeddingError extends Error {
  override name = 'EmbeddingError';
  constructor(
    readonly code: EmbeddingErrorCode,
    message: string,
  ) {
    super(message);
  }
}
