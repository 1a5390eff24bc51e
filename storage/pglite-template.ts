import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * PGlite data folders made once at `npm install` (postinstall): an initdb'd empty store, and the same
 * store with the migrations of that day applied. initdb and the migrations are most of a first start's
 * time; copying a template instead keeps a bare `npm start` fast.
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

/** The empty (initdb only) store. */
export function templatePath(place = DEFAULT_PLACE): string {
  return join(place.cacheDir, `pglite-${pgliteVersion()}-empty`);
}

/** The migrated store, and beside it (`.json`) the migrations it holds (file name → SHA-256). */
export function schemaTemplatePath(place = DEFAULT_PLACE): string {
  return join(place.cacheDir, `pglite-${pgliteVersion()}-schema`);
}

function migrationHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.sql')).sort()) {
    out[name] = createHash('sha256').update(readFileSync(join(dir, name))).digest('hex');
  }
  return out;
}

/**
 * The migrated store while every migration in it is still in migrations/ unchanged (later ones are
 * applied at start as usual), else the empty store; undefined without either.
 */
export function readTemplate(place = DEFAULT_PLACE): { dir: string; migrated: boolean } | undefined {
  const schema = schemaTemplatePath(place);
  try {
    const held = JSON.parse(readFileSync(`${schema}.json`, 'utf8')) as { migrations: Record<string, string> };
    const now = migrationHashes(place.migrations);
    if (existsSync(join(schema, 'PG_VERSION')) && Object.entries(held.migrations).every(([name, hash]) => now[name] === hash)) return { dir: schema, migrated: true };
  } catch {
    // no migrated store (or no manifest yet): the empty one still saves initdb
  }
  const empty = templatePath(place);
  return existsSync(join(empty, 'PG_VERSION')) ? { dir: empty, migrated: false } : undefined;
}

/**
 * A new data folder from a template: a plain file copy (a few hundred ms), where loading an image
 * through PGlite costs seconds. Copied beside and renamed, so a crash never leaves half a store.
 */
export function copyTemplate(template: string, dataDir: string): void {
  const tmp = `${dataDir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(dirname(dataDir), { recursive: true });
  cpSync(template, tmp, { recursive: true });
  try {
    renameSync(tmp, dataDir); // replaces an empty folder too
  } catch {
    cpSync(tmp, dataDir, { recursive: true });
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Writes both stores; returns their paths. */
export async function buildTemplate(place = DEFAULT_PLACE): Promise<string[]> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { vector } = await import('@electric-sql/pglite-pgvector');
  const { pgliteDatabase } = await import('./pglite.js');
  const { migrate } = await import('./migrate.js');
  mkdirSync(place.cacheDir, { recursive: true });
  // Images of earlier versions of this script (loaded through PGlite, slower than a copy).
  for (const old of readdirSync(place.cacheDir)) if (/^pglite-.*\.tar(\.json)?$/.test(old)) rmSync(join(place.cacheDir, old), { force: true });
  // initdb in memory (on disk it syncs every file: ~15 s), then written out once.
  const scratch = await PGlite.create('memory://', { extensions: { vector } });
  const image = await scratch.dumpDataDir('none');
  await scratch.close();
  await writeStore(templatePath(place), async (dir) => (await PGlite.create(dir, { extensions: { vector }, loadDataDir: image })).close());
  const held = migrationHashes(place.migrations);
  await writeStore(schemaTemplatePath(place), async (dir) => {
    const db = await PGlite.create(dir, { extensions: { vector }, loadDataDir: image });
    try {
      await migrate(pgliteDatabase(db), undefined, place.migrations);
    } finally {
      await db.close();
    }
  });
  // The manifest goes last: read with an older one, the store holds those migrations and perhaps more,
  // all from files in migrations/ now, so a start still migrates correctly from it.
  const manifest = `${schemaTemplatePath(place)}.json`;
  writeFileSync(`${manifest}.${process.pid}`, `${JSON.stringify({ migrations: held }, null, 1)}\n`);
  renameSync(`${manifest}.${process.pid}`, manifest);
  return [templatePath(place), schemaTemplatePath(place)];
}

async function writeStore(target: string, fill: (dir: string) => Promise<void>): Promise<void> {
  const tmp = `${target}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  await fill(tmp);
  rmSync(target, { recursive: true, force: true });
  renameSync(tmp, target);
}
