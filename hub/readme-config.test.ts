import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const SOURCES = ['hub', 'ai', 'connectors', 'storage', 'embeds', 'bin', 'scripts'];

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (/\.(ts|js|sh)$/.test(name) && !/\.(test|fixture)\.ts$/.test(name) && !path.includes('/testing/')) yield path;
  }
}

/** Names read from the environment: `env.X`, `env['X']`, `int(env, 'X', …)` in code, `${X:-…}` in scripts. */
function variablesRead(dirs: string[], shell: boolean): Set<string> {
  const found = new Set<string>();
  const patterns = shell ? [/\$\{([A-Z][A-Z0-9]*_[A-Z0-9_]+):[-=]/g] : [/\benv\.([A-Z][A-Z0-9_]+)/g, /\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]/g, /\(env, '([A-Z][A-Z0-9_]+)'/g];
  for (const dir of dirs) {
    for (const file of files(join(ROOT, dir))) {
      if (file.endsWith('.sh') !== shell) continue;
      const text = readFileSync(file, 'utf8');
      for (const re of patterns) for (const m of text.matchAll(re)) found.add(m[1]!);
    }
  }
  return found;
}

describe('README configuration', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

  it('documents every environment variable the product reads', () => {
    const read = variablesRead(SOURCES, false);
    expect(read.size).toBeGreaterThan(20);
    expect(read).toContain('HUMMDESK_INGEST_LANES');
    expect([...read].filter((name) => !readme.includes(name)).sort()).toEqual([]);
  });

  it('documents every variable the service scripts read (README or scripts/services/README.md)', () => {
    const services = readFileSync(join(ROOT, 'scripts/services/README.md'), 'utf8');
    const read = variablesRead(['scripts'], true);
    expect(read).toContain('HUMMDESK_PG_PORT');
    expect([...read].filter((name) => !readme.includes(name) && !services.includes(name)).sort()).toEqual([]);
  });
});
