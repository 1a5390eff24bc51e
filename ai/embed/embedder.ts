/** Sentence embeddings; every stored vector records the model id and dimension it came from. */
export interface Embedder {
  readonly modelId: string;
  /** Vector size; an endpoint's model may only know it after its first answer. */
  readonly dimension: number;
  /** Texts are sent out of the building: customer text is redacted before it is embedded. */
  readonly external?: boolean;
  embed(texts: string[]): Promise<Float32Array[]>;
}

export type EmbeddingErrorCode = 'timeout' | 'unavailable' | 'rate_limited' | 'auth' | 'bad_request' | 'bad_response' | 'dimension_mismatch';

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
