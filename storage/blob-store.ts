import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Attachment bytes by content hash in a local folder; the same bytes twice are stored once. */
export class LocalBlobStore {
  constructor(private readonly root: string) {}

  async put(bytes: Buffer): Promise<string> {
    const key = createHash('sha256').update(bytes).digest('hex');
    const dir = join(this.root, key.slice(0, 2));
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `${key}.${process.pid}.tmp`);
    // Write-then-rename so a reader never sees half a file.
    await writeFile(tmp, bytes);
    await rename(tmp, join(dir, key));
    return key;
  }

  async get(key: string): Promise<Buffer> {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new Error('invalid blob key');
    return readFile(join(this.root, key.slice(0, 2), key));
  }

  /**
   * Deletes the bytes of a key no row names any more, unless a put() wrote them after `writtenBefore`
   * (its row may not be committed yet). Returns whether they were deleted; a missing blob is not an error.
   */
  async delete(key: string, writtenBefore: Date): Promise<boolean> {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new Error('invalid blob key');
    const path = join(this.root, key.slice(0, 2), key);
    const aside = `${path}.${randomUUID()}.deleting`;
    // Moved aside first: a put() from now on writes a new file, and one just before shows in the mtime.
    try {
      await rename(path, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    if ((await stat(aside)).mtime >= writtenBefore) {
      await rename(aside, path);
      return false;
    }
    await unlink(aside);
    return true;
  }
}
