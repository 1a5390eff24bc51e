import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * An initdb'd, empty PGlite image made once at `npm install` (postinstall). initdb is most of a
 * first start's time; loading this image instead keeps a bare `npm start` well under 10 s.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The image belongs to one PGlite build; its package.json is not exported, so find it from the entry. */
function pgliteVersion(): string {
  let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!existsSync(join(dir, 'package.json')) || !/"name":\s*"@electric-sql\/pglite"/.test(readFileSync(join(dir, 'package.json'), 'utf8'))) {
    const up = dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

export function templatePath(): string {
  return join(ROOT, 'node_modules', '.cache', 'hummdesk', `pglite-${pgliteVersion()}.tar`);
}

export function readTemplate(): Blob | undefined {
  const file = templatePath();
  return existsSync(file) ? new Blob([readFileSync(file)]) : undefined;
}

export async function buildTemplate(): Promise<string> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { vector } = await import('@electric-sql/pglite-pgvector');
  const db = await PGlite.create('memory://', { extensions: { vector } });
  const image = await db.dumpDataDir('none');
  await db.close();
  const file = templatePath();
  mkdirSync(dirname(file), { recursive: true });
  // Write-then-rename: a concurrent start never loads half an image.
  writeFileSync(`${file}.${process.pid}`, Buffer.from(await image.arrayBuffer()));
  renameSync(`${file}.${process.pid}`, file);
  return file;
}
