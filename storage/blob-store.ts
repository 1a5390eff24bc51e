import { createHash, randomUUID } from 'node:crypto';
import { link, mkdir, open, readFile, readdir, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Bytes a delete() moved aside and did not finish with, because its process stopped in between. */
export interface AsideBlob {
  key: string;
  /** The file's own name in the aside folder. */
  name: string;
  /** When put() wrote the bytes; a move keeps it. */
  writtenAt: Date;
}

const KEY = /^[0-9a-f]{64}$/;
const ASIDE_NAME = /^([0-9a-f]{64})\.[0-9a-f-]{36}$/;
// One folder beside the two-hex-digit shards, so finding leftovers reads it alone, not every blob.
const ASIDE_DIR = 'deleting';

// Where a streamed write's temp file lives until its hash, and so its key, is known.
const INCOMING_DIR = 'incoming';

const missing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

/** What one put() did, so a caller whose row was never committed can take back exactly its own write (discard). */
export interface WrittenBlob {
  key: string;
  /** No bytes were stored under the key before this write. */
  created: boolean;
  /** The file this write put in place; a later put() replaces it with another. */
  ino: bigint;
}

/** A streamed write went past its size limit: nothing of it was stored. */
export class BlobTooLargeError extends Error {
  readonly code = 'attachment_too_large';
  constructor(readonly maxBytes: number) {
    super(`the file is larger than the ${maxBytes} bytes kept`);
  }
}

/** What one writeStream() read, for its caller's check before the bytes are stored. */
export interface StreamedBytes {
  size: number;
  /** SHA-256 of the bytes, computed while they were written. */
  sha256: Buffer;
}

/** Attachment bytes by content hash in a local folder; the same bytes twice are stored once. */
export class LocalBlobStore {
  constructor(private readonly root: string) {}

  async put(bytes: Buffer): Promise<string> {
    return (await this.write(bytes)).key;
  }

  /** put(), also saying whether this write created the file, for discard(). */
  async write(bytes: Buffer): Promise<WrittenBlob> {
    const key = createHash('sha256').update(bytes).digest('hex');
    const dir = join(this.root, key.slice(0, 2));
    await mkdir(dir, { recursive: true });
    // A name of its own per write: concurrent puts of the same bytes must never share (and steal) a temp file.
    const tmp = join(dir, `${key}.${randomUUID()}.tmp`);
    try {
      await writeFile(tmp, bytes);
      return await this.place(tmp, key);
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  /**
   * write() for bytes that arrive in pieces (a download): each piece is hashed as it goes to a temp file,
   * never all of them held at once. Past `maxBytes` the source is abandoned (BlobTooLargeError); `verify`
   * sees the size and hash before anything is stored and refuses the bytes by throwing. Whatever fails,
   * the temp file is removed and nothing is stored.
   */
  async writeStream(
    source: AsyncIterable<Uint8Array> | Buffer,
    opts: { maxBytes: number; verify?: (got: StreamedBytes) => void | Promise<void> },
  ): Promise<WrittenBlob & { size: number }> {
    const dir = join(this.root, INCOMING_DIR);
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `${randomUUID()}.tmp`);
    try {
      const hash = createHash('sha256');
      let size = 0;
      const file = await open(tmp, 'wx');
      try {
        for await (const piece of Buffer.isBuffer(source) ? [source] : source) {
          size += piece.byteLength;
          // Checked before the piece is written: leaving the loop stops the source from sending more.
          if (size > opts.maxBytes) throw new BlobTooLargeError(opts.maxBytes);
          hash.update(piece);
          for (let at = 0; at < piece.byteLength; ) at += (await file.write(piece, at)).bytesWritten;
        }
      } finally {
        await file.close();
      }
      const sha256 = hash.digest();
      await opts.verify?.({ size, sha256 });
      const key = sha256.toString('hex');
      await mkdir(join(this.root, key.slice(0, 2)), { recursive: true });
      return { ...(await this.place(tmp, key)), size };
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  /** Puts a finished temp file under its key (write-then-link, so a reader never sees half a file); the caller removes `tmp`. */
  private async place(tmp: string, key: string): Promise<WrittenBlob> {
    const path = join(this.root, key.slice(0, 2), key);
    const { ino } = await stat(tmp, { bigint: true });
    try {
      // A hard link fails on an existing file, so it tells whether these bytes were stored before.
      await link(tmp, path);
      return { key, created: true, ino };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    // Stored before: replaced anyway, so the fresh mtime keeps a sweep's delete() off bytes a new row is about to name.
    try {
      await rename(tmp, path);
    } catch (err) {
      // Where a rename may not replace a file, the same bytes already there are as good.
      if (!(await this.holds(path, key))) throw err;
      const now = new Date();
      await utimes(path, now, now);
    }
    return { key, created: false, ino };
  }

  /**
   * Takes back a write() whose row was never committed: deletes the bytes when that write created them and
   * no put() has written them since (another caller's row may be about to name them). Returns whether it deleted.
   */
  async discard(written: WrittenBlob): Promise<boolean> {
    if (!written.created) return false;
    const path = this.pathOf(written.key);
    await mkdir(join(this.root, ASIDE_DIR), { recursive: true });
    const aside = join(this.root, ASIDE_DIR, `${written.key}.${randomUUID()}`);
    // Moved aside first, so a put() from now on writes a new file that this never removes.
    try {
      await rename(path, aside);
    } catch (err) {
      if (missing(err)) return false;
      throw err;
    }
    if ((await stat(aside, { bigint: true })).ino === written.ino) {
      await unlink(aside);
      return true;
    }
    // Another put() wrote these bytes since: they stay, never over a file a put() wrote meanwhile.
    await link(aside, path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    await unlink(aside);
    return false;
  }

  private async holds(path: string, key: string): Promise<boolean> {
    try {
      return createHash('sha256').update(await readFile(path)).digest('hex') === key;
    } catch (err) {
      if (missing(err)) return false;
      throw err;
    }
  }

  async get(key: string): Promise<Buffer> {
    return readFile(this.pathOf(key));
  }

  /**
   * Deletes the bytes of a key no row names any more, unless a put() wrote them after `writtenBefore`
   * (its row may not be committed yet). Returns whether they were deleted; a missing blob is not an error.
   */
  async delete(key: string, writtenBefore: Date): Promise<boolean> {
    const path = this.pathOf(key);
    await mkdir(join(this.root, ASIDE_DIR), { recursive: true });
    const aside = join(this.root, ASIDE_DIR, `${key}.${randomUUID()}`);
    // Moved aside first: a put() from now on writes a new file, and one just before shows in the mtime.
    try {
      await rename(path, aside);
    } catch (err) {
      if (missing(err)) return false;
      throw err;
    }
    try {
      if ((await stat(aside)).mtime >= writtenBefore) {
        await rename(aside, path);
        return false;
      }
      await unlink(aside);
      return true;
    } catch (err) {
      // Another process's sweep settled these bytes meanwhile (restoreAside, removeAside).
      if (missing(err)) return false;
      throw err;
    }
  }

  /** What delete()s left aside: every one in flight in any process, and any a stopped process left behind. */
  async listAside(): Promise<AsideBlob[]> {
    let names: string[];
    try {
      names = await readdir(join(this.root, ASIDE_DIR));
    } catch (err) {
      if (missing(err)) return [];
      throw err;
    }
    const found: AsideBlob[] = [];
    for (const name of names) {
      const key = ASIDE_NAME.exec(name)?.[1];
      if (!key) continue;
      try {
        found.push({ key, name, writtenAt: (await stat(join(this.root, ASIDE_DIR, name))).mtime });
      } catch (err) {
        if (!missing(err)) throw err;
      }
    }
    return found;
  }

  /** Puts bytes left aside back under their key, never over a file a put() wrote since. Returns whether it put them back. */
  async restoreAside(blob: AsideBlob): Promise<boolean> {
    const aside = join(this.root, ASIDE_DIR, this.asideName(blob));
    const path = this.pathOf(blob.key);
    await mkdir(join(this.root, blob.key.slice(0, 2)), { recursive: true });
    let restored = true;
    try {
      // A hard link, unlike rename, fails instead of replacing the file: a fresh put()'s mtime must stay.
      await link(aside, path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return false;
      if (code !== 'EEXIST') throw err;
      restored = false;
    }
    await this.removeAside(blob);
    return restored;
  }

  /** Deletes bytes left aside. Returns whether this call deleted them (false when another process did). */
  async removeAside(blob: AsideBlob): Promise<boolean> {
    try {
      await unlink(join(this.root, ASIDE_DIR, this.asideName(blob)));
      return true;
    } catch (err) {
      if (missing(err)) return false;
      throw err;
    }
  }

  private pathOf(key: string): string {
    if (!KEY.test(key)) throw new Error('invalid blob key');
    return join(this.root, key.slice(0, 2), key);
  }

  private asideName(blob: AsideBlob): string {
    const match = ASIDE_NAME.exec(blob.name);
    if (!match || match[1] !== blob.key) throw new Error('invalid aside blob name');
    return blob.name;
  }
}
