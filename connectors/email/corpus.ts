import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shared test corpus (never copied into the repo): $HUMMDESK_CORPUS_DIR or ../shared/data. */
export function corpusDir(sub: string): string | undefined {
  const base = process.env.HUMMDESK_CORPUS_DIR ?? fileURLToPath(new URL('../../../shared/data', import.meta.url));
  const dir = join(base, sub);
  return existsSync(dir) ? dir : undefined;
}
