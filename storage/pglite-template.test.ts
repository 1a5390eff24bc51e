import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { buildTemplate, copyTemplate, readTemplate, type TemplatePlace } from './pglite-template.js';
import type { Database } from './database.js';
import { pgliteDatabase } from './pglite.js';
import { migrate } from './migrate.js';

const MIGRATIONS = fileURLToPath(new URL('../migrations', import.meta.url));
const newest = Math.max(...readdirSync(MIGRATIONS).map((n) => Number(n.slice(0, 3))));
let dir: string;
let place: TemplatePlace;
let db: Database | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hummdesk-template-'));
  place = { cacheDir: join(dir, 'cache'), migrations: join(dir, 'migrations') };
  cpSync(MIGRATIONS, place.migrations, { recursive: true });
  await buildTemplate(place);
}, 120_000);
afterAll(async () => {
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the embedded store image made at install', () => {
  it('holds the migrations already, so a first start applies none', { timeout: 60_000 }, async () => {
    const template = readTemplate(place)!;
    expect(template.migrated).toBe(true);
    const store = join(dir, 'store');
    copyTemplate(template.dir, store);
    db = pgliteDatabase(await PGlite.create(store, { extensions: { vector } }));
    expect(await migrate(db, undefined, place.migrations)).toEqual({ from: newest, to: newest });
  });

  it('is still used when migrations were added since; a start applies only those', () => {
    writeFileSync(join(place.migrations, '999.do.later.sql'), 'CREATE TABLE later (id int);\n');
    expect(readTemplate(place)?.migrated).toBe(true);
    rmSync(join(place.migrations, '999.do.later.sql'));
  });

  it('gives way to the empty image when a migration it holds has changed', () => {
    const first = readdirSync(place.migrations).find((n) => n.includes('.do.'))!;
    appendFileSync(join(place.migrations, first), '\n-- edited\n');
    expect(readTemplate(place)?.migrated).toBe(false);
  });

  it('and a store that holds a migration since edited is refused at start, as Postgrator does', async () => {
    await expect(migrate(db!, undefined, place.migrations)).rejects.toThrow(/checksum/i);
  });
});
