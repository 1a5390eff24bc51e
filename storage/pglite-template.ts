import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * PGlite images made once at `npm install` (postinstall): an initdb'd empty store, and the same store
 * with the migrations of that day applied. initdb and the migrations are most of a first start's time;
 * loading an image instead keeps a bare `npm start` fast.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const MIGRATIONS = join(ROOT, 'migrations');

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

/** Where the images live and which migrations they are checked against (tests use their own). */
export interface TemplatePlace {
  cacheDir: string;
  migrations: string;
}

const DEFAULT_PLACE: TemplatePlace = { cacheDir: join(ROOT, 'node_modules', '.cache', 'hummdesk'), migrations: MIGRATIONS };

/** The empty (initdb only) image. */
export function templatePath(place = DEFAULT_PLACE): string {
  return join(place.cacheDir, `pglite-${pgliteVersion()}.tar`);
}

/** The migrated image, and beside it the migrations it holds (file name → SHA-256). */
export function schemaTemplatePath(place = DEFAULT_PLACE): string {
  return join(place.cacheDir, `pglite-${pgliteVersion()}-schema.tar`);
}

function migrationHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.sql')).sort()) {
    out[name] = createHash('sha256').update(readFileSync(join(dir, name))).digest('hex');
  }
  return out;
}

/**
 * The migrated image while every migration in it is still in migrations/ unchanged (later ones are
 * applied at start as usual), else the empty image; undefined without either.
 */
export function readTemplate(place = DEFAULT_PLACE): { image: Blob; migrated: boolean } | undefined {
  const schema = schemaTemplatePath(place);
  try {
    const held = JSON.parse(readFileSync(`${schema}.json`, 'utf8')) as { migrations: Record<string, string> };
    const now = migrationHashes(place.migrations);
    if (Object.entries(held.migrations).every(([name, hash]) => now[name] === hash)) return { image: new Blob([readFileSync(schema)]), migrated: true };
  } catch {
    // no migrated image (or a half-written one): the empty image still saves initdb
  }
  const file = templatePath(place);
  return existsSync(file) ? { image: new Blob([readFileSync(file)]), migrated: false } : undefined;
}

/** Writes both images; returns their paths. */
export async function buildTemplate(place = DEFAULT_PLACE): Promise<string[]> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { vector } = await import('@electric-sql/pglite-pgvector');
  const { pgliteDatabase } = await import('./pglite.js');
  const { migrate } = await import('./migrate.js');
  const db = await PGlite.create('memory://', { extensions: { vector } });
  try {
    writeAtomically(templatePath(place), Buffer.from(await (await db.dumpDataDir('none')).arrayBuffer()));
    const held = migrationHashes(place.migrations);
    await migrate(pgliteDatabase(db), undefined, place.migrations);
    // The image goes first: read with an older manifest, it holds those migrations and perhaps more,
    // all from files in migrations/ now, so the start still migrates correctly from it.
    writeAtomically(schemaTemplatePath(place), Buffer.from(await (await db.dumpDataDir('none')).arrayBuffer()));
    writeAtomically(`${schemaTemplatePath(place)}.json`, Buffer.from(`${JSON.stringify({ migrations: held }, null, 1)}\n`));
  } finally {
    await db.close();
  }
  return [templatePath(place), schemaTemplatePath(place)];
}

function writeAtomically(file: string, bytes: Buffer): void {
  mkdirSync(dirname(file), { recursive: true });
  // Write-then-rename: a concurrent start never loads half an image.
  writeFileSync(`${file}.${process.pid}`, bytes);
  renameSync(`${file}.${process.pid}`, file);
}
