import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobTooLargeError, LocalBlobStore } from './blob-store.js';

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

  describe('writeStream()', () => {
    /** The bytes in pieces of `size`, as a download gives them; `pulled` counts the pieces read so far. */
    const pieces = (bytes: Buffer, size: number) => {
      const source = {
        pulled: 0,
        async *[Symbol.asyncIterator]() {
          for (let at = 0; at < bytes.length; at += size) {
            source.pulled++;
            yield new Uint8Array(bytes.subarray(at, at + size));
          }
        },
      };
      return source;
    };

    it('stores streamed bytes under their hash, once however many streams carry them at once, and leaves no temp file', async () => {
      const bytes = randomBytes(300 * 1024);
      const key = createHash('sha256').update(bytes).digest('hex');
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => blobs.writeStream(pieces(bytes, 1000 + i * 4096), { maxBytes: bytes.length })));
      expect(new Set(results.map((r) => r.key))).toEqual(new Set([key]));
      expect(results.map((r) => r.size)).toEqual(Array(6).fill(bytes.length));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect((await blobs.get(key)).equals(bytes)).toBe(true);
      expect(await files()).toEqual([key]);
      // The same bytes by put() are the same blob.
      expect(await blobs.put(bytes)).toBe(key);
      expect(await files()).toEqual([key]);
    });

    it('a stream past its limit is refused without reading it to the end, and leaves nothing behind', async () => {
      const source = pieces(randomBytes(1024 * 1024), 1024);
      await expect(blobs.writeStream(source, { maxBytes: 10 * 1024 })).rejects.toBeInstanceOf(BlobTooLargeError);
      expect(source.pulled).toBe(11);
      expect(await files()).toEqual([]);
    });

    it('an endless stream is refused at its limit', async () => {
      const endless = (async function* () {
        for (;;) yield new Uint8Array(4096);
      })();
      await expect(blobs.writeStream(endless, { maxBytes: 64 * 1024 })).rejects.toMatchObject({ code: 'attachment_too_large' });
      expect(await files()).toEqual([]);
    });

    it('verify() sees the size and SHA-256 before anything is stored; refusing removes the partial file', async () => {
      const bytes = randomBytes(50_000);
      const seen: { size: number; sha256: string }[] = [];
      const refused = new Error('checksum mismatch');
      await expect(blobs.writeStream(pieces(bytes, 7000), {
        maxBytes: bytes.length,
        verify: (got) => {
          seen.push({ size: got.size, sha256: got.sha256.toString('hex') });
          throw refused;
        },
      })).rejects.toBe(refused);
      expect(seen).toEqual([{ size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }]);
      expect(await files()).toEqual([]);
    });

    it('a source that fails midway stores nothing', async () => {
      const failing = (async function* () {
        yield new Uint8Array(1000);
        throw new Error('connection reset');
      })();
      await expect(blobs.writeStream(failing, { maxBytes: 1e6 })).rejects.toThrow('connection reset');
      expect(await files()).toEqual([]);
    });

    it('discard() takes back a streamed write that created the bytes', async () => {
      const written = await blobs.writeStream(pieces(randomBytes(5000), 1000), { maxBytes: 5000 });
      expect(written.created).toBe(true);
      expect(await blobs.discard(written)).toBe(true);
      expect(await files()).toEqual([]);
    });
  });
});
