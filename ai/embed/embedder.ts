/** Sentence embeddings; every stored vector records the model id and dimension it came from. */
export interface Embedder {
  readonly modelId: string;
  readonly dimension: number;
  embed(texts: string[]): Promise<Float32Array[]>;
}
