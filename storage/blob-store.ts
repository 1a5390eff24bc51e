import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
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
}
