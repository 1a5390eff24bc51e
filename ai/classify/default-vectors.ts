import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The default category examples' sentence embeddings, computed once per machine and kept beside the
 * PGlite templates (node_modules/.cache/hummdesk): embedding the ~450 examples takes seconds on a quiet
 * machine and much longer on a loaded one, and the default model and every account's retrain need them.
 * The file is named by a hash of the model id and the texts, so a changed example makes a new file.
 */
const DEFAULT_CACHE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'node_modules', '.cache', 'hummdesk');

export function defaultVectorsFile(modelId: string, texts: string[], cacheDir = DEFAULT_CACHE_DIR): string {
  const hash = createHash('sha256').update(modelId).update('\0').update(texts.join('\0')).digest('hex').slice(0, 24);
  return join(cacheDir, `category-defaults-${modelId.replace(/[^\w.-]/g, '_')}-${hash}.f32`);
}

/** The cached vectors, or undefined when there are none (or the file does not fit the texts). */
export function readDefaultVectors(file: string, count: number, dimension: number): Float32Array[] | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return undefined;
  }
  if (!count || bytes.byteLength !== count * dimension * 4) return undefined;
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return Array.from({ length: count }, (_, i) => all.slice(i * dimension, (i + 1) * dimension));
}

/** Written beside and renamed, so a reader never sees half a file; a read-only cache folder is no error. */
export function writeDefaultVectors(file: string, vectors: Float32Array[]): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    const dim = vectors[0]?.length ?? 0;
    const all = new Float32Array(vectors.length * dim);
    vectors.forEach((v, i) => all.set(v, i * dim));
    writeFileSync(tmp, new Uint8Array(all.buffer));
    renameSync(tmp, file);
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing was written
    }
  }
}

/**
 * The default model trained from those vectors (seconds of CPU under load), kept beside them as JSON.
 * Its name adds the feature settings and the training code's text to the vectors' hash, so a change to
 * either trains it again.
 */
export function defaultModelFile(vectorsFile: string, training: string): string {
  const hash = createHash('sha256').update(vectorsFile).update('\0').update(training).digest('hex').slice(0, 24);
  return join(dirname(vectorsFile), `category-default-model-${hash}.json`);
}

export async function cachedJson<T>(file: string, compute: () => Promise<T>, valid: (v: T) => boolean): Promise<T> {
  try {
    const held = JSON.parse(readFileSync(file, 'utf8')) as T;
    if (valid(held)) return held;
  } catch {
    // none yet, or unreadable: computed below
  }
  const value = await compute();
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(tmp, JSON.stringify(value));
    renameSync(tmp, file);
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing was written
    }
  }
  return value;
}

/** The vectors from the cache file, else embedded (once) and written to it. */
export async function cachedDefaultVectors(
  embedder: { modelId: string; dimension: number; embed(texts: string[]): Promise<Float32Array[]> },
  texts: string[],
  cacheDir = DEFAULT_CACHE_DIR,
): Promise<Float32Array[]> {
  const file = defaultVectorsFile(embedder.modelId, texts, cacheDir);
  const hit = embedder.dimension ? readDefaultVectors(file, texts.length, embedder.dimension) : undefined;
  if (hit) return hit;
  const vectors = await embedder.embed(texts);
  if (vectors.length === texts.length && vectors.every((v) => v.length === vectors[0]!.length)) writeDefaultVectors(file, vectors);
  return vectors;
}
