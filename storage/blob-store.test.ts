import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalBlobStore } from './blob-store.js';

let root: string;
let blobs: LocalBlobStore;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'hummdesk-blobs-'));
  blobs = new LocalBlobStore(root);
});
afterEach(() => rm(root, { recursive: true, force: true }));

const stored = (key: string) => blobs.get(key).then(() => true, () => false);
/** Every file under the root but the aside folder: blobs and any temp file left behind. */
const files = async () => (await readdir(root, { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).map((d) => d.name);

describe('LocalBlobStore', () => {
  it('stores the same bytes written 8 times at once, once, and leaves no temp file', async () => {
    const bytes = randomBytes(256 * 1024);
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => blobs.put(bytes)));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill('fulfilled'));
    const keys = new Set(results.map((r) => (r as PromiseFulfilledResult<string>).value));
    expect(keys.size).toBe(1);
    const [key] = keys;
    expect((await blobs.get(key!)).equals(bytes)).toBe(true);
    expect(await files()).toEqual([key]);
  });

  it('says which of two writes of the same bytes created them', async () => {
    const bytes = randomBytes(64);
    const first = await blobs.write(bytes);
    const second = await blobs.write(bytes);
    expect([first.created, second.created]).toEqual([true, false]);
    expect(second.key).toBe(first.key);
  });

  it('discard() removes bytes its own write created', async () => {
    const written = await blobs.write(randomBytes(64));
    expect(await blobs.discard(written)).toBe(true);
    expect(await stored(written.key)).toBe(false);
    expect(await files()).toEqual([]);
  });

  it('discard() keeps bytes that were stored before its write', async () => {
    const bytes = randomBytes(64);
    await blobs.put(bytes);
    const written = await blobs.write(bytes);
    expect(await blobs.discard(written)).toBe(false);
    expect(await stored(written.key)).toBe(true);
  });

  it('discard() keeps bytes another put() wrote after its write (that row may be about to commit)', async () => {
    const bytes = randomBytes(64);
    const written = await blobs.write(bytes);
    await blobs.put(bytes);
    expect(await blobs.discard(written)).toBe(false);
    expect((await blobs.get(written.key)).equals(bytes)).toBe(true);
    expect(await files()).toEqual([written.key]);
  });
});
