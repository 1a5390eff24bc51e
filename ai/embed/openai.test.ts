import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddingError } from './embedder.js';
import { emulatedVector, startEmbeddingsEmulator, type EmbeddingsEmulator } from './emulator.js';
import { OpenAiEmbedder } from './openai.js';

let emu: EmbeddingsEmulator;
beforeAll(async () => {
  emu = await startEmbeddingsEmulator({ dimension: 32 });
});
afterAll(() => emu?.close());
beforeEach(() => {
  emu.requests.length = 0;
});

const embedder = (o: Partial<ConstructorParameters<typeof OpenAiEmbedder>[0]> = {}) =>
  new OpenAiEmbedder({ baseUrl: `${emu.url}/v1/`, model: 'nomic-embed-text', apiKey: 'sk-emu', batchSize: 3, maxRetries: 2, retryBaseMs: 1, ...o });

describe('OpenAI-compatible embeddings against a /v1/embeddings emulator', () => {
  it('embeds in batches with the key, places vectors by index and learns the dimension', async () => {
    const e = embedder();
    expect(e.modelId).toBe('openai-compatible:nomic-embed-text');
    expect(() => e.dimension).toThrow(EmbeddingError);
    const texts = ['refund please', 'reset my password', '', 'parcel lost', 'invoice copy', 'cancel plan', 'hello'];
    const vectors = await e.embed(texts);
    expect(emu.requests.map((r) => r.body.input.length)).toEqual([3, 3, 1]);
    expect(emu.requests[0]!.body).toMatchObject({ model: 'nomic-embed-text', input: ['refund please', 'reset my password', ' '] });
    expect(emu.requests[0]!.headers.authorization).toBe('Bearer sk-emu');
    // The emulator answers in reverse order; each vector must still match its own text.
    vectors.forEach((v, i) => expect(Array.from(v)).toEqual(emulatedVector(texts[i] || ' ', 32).map((x) => Math.fround(x))));
    expect(e.dimension).toBe(32);
  });

  it('retries 429 and 5xx, waiting as retry-after says', async () => {
    emu.fail({ status: 429, headers: { 'retry-after': '1' } }, { status: 503 });
    const started = Date.now();
    const [v] = await embedder().embed(['refund please']);
    expect(v).toHaveLength(32);
    expect(emu.requests).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('gives up after its retries with a stable code', async () => {
    emu.fail({ status: 500 }, { status: 500 }, { status: 500 });
    await expect(embedder().embed(['x'])).rejects.toMatchObject({ name: 'EmbeddingError', code: 'unavailable' });
    expect(emu.requests).toHaveLength(3);
    emu.fail({ status: 429 }, { status: 429 });
    await expect(embedder({ maxRetries: 1 }).embed(['x'])).rejects.toMatchObject({ code: 'rate_limited' });
  });

  it('does not retry a refused key, and refuses a vector of another size', async () => {
    emu.fail({ status: 401 });
    await expect(embedder().embed(['x'])).rejects.toMatchObject({ code: 'auth' });
    expect(emu.requests).toHaveLength(1);
    await expect(embedder({ dimension: 768 }).embed(['x'])).rejects.toMatchObject({ code: 'dimension_mismatch' });
  });

  it('times out a silent server', async () => {
    const release = emu.hold();
    try {
      await expect(embedder({ timeoutMs: 200, maxRetries: 0 }).embed(['x'])).rejects.toMatchObject({ code: 'timeout' });
    } finally {
      release();
    }
  });
});
