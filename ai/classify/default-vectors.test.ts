import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cachedDefaultVectors, cachedJson, defaultModelFile, defaultVectorsFile } from './default-vectors.js';

/** An encoder that counts what it is asked to embed (deterministic vectors from the text). */
function countingEncoder(dimension = 4) {
  const asked: string[] = [];
  return {
    asked,
    modelId: 'test-encoder',
    dimension,
    async embed(texts: string[]) {
      asked.push(...texts);
      return texts.map((t) => Float32Array.from({ length: dimension }, (_, i) => t.length + i / 10));
    },
  };
}

const dirs: string[] = [];
const cacheDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'hd-vectors-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('default example vectors on disk', () => {
  // Issue #15: the 454 default examples made every start (and every test hub) embed them again.
  it('are embedded once and read from the cache afterwards, the same vectors', async () => {
    const dir = cacheDir();
    const texts = ['My invoice is wrong', 'Unohdin salasanani', 'Jag har glömt lösenordet'];
    const first = countingEncoder();
    const computed = await cachedDefaultVectors(first, texts, dir);
    expect(first.asked).toEqual(texts);
    expect(statSync(defaultVectorsFile('test-encoder', texts, dir)).size).toBe(3 * 4 * 4);

    const second = countingEncoder();
    const read = await cachedDefaultVectors(second, texts, dir);
    expect(second.asked).toEqual([]);
    expect(read.map((v) => [...v])).toEqual(computed.map((v) => [...v]));
  });

  it('are embedded again when an example changes or the file does not fit', async () => {
    const dir = cacheDir();
    await cachedDefaultVectors(countingEncoder(), ['a', 'b'], dir);
    const changed = countingEncoder();
    await cachedDefaultVectors(changed, ['a', 'c'], dir);
    expect(changed.asked).toEqual(['a', 'c']);

    writeFileSync(defaultVectorsFile('test-encoder', ['a', 'b'], dir), new Uint8Array(7));
    const broken = countingEncoder();
    expect((await cachedDefaultVectors(broken, ['a', 'b'], dir)).map((v) => v[0])).toEqual([1, 1]);
    expect(broken.asked).toEqual(['a', 'b']);
  });

  it('still answers when the cache folder cannot be written', async () => {
    const dir = cacheDir();
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const enc = countingEncoder();
    expect(await cachedDefaultVectors(enc, ['a'], file)).toHaveLength(1);
  });

  it('the default model is trained once and read back; a change to the training or an invalid file trains it again', async () => {
    const dir = cacheDir();
    const vectors = defaultVectorsFile('test-encoder', ['a', 'b'], dir);
    let trained = 0;
    const train = async () => ({ examples: 2, run: ++trained });
    const valid = (m: { examples: number }) => m.examples === 2;
    expect(await cachedJson(defaultModelFile(vectors, 'v1'), train, valid)).toEqual({ examples: 2, run: 1 });
    expect(await cachedJson(defaultModelFile(vectors, 'v1'), train, valid)).toEqual({ examples: 2, run: 1 });
    expect(await cachedJson(defaultModelFile(vectors, 'v2'), train, valid)).toEqual({ examples: 2, run: 2 });
    writeFileSync(defaultModelFile(vectors, 'v1'), JSON.stringify({ examples: 1 }));
    expect(await cachedJson(defaultModelFile(vectors, 'v1'), train, valid)).toEqual({ examples: 2, run: 3 });
    expect(trained).toBe(3);
  });
});
