// Compiles the hub's TypeScript to JavaScript in dist/ (esbuild, one file per source, no bundling), so
// `npm start` and `hummdesk` run plain JavaScript instead of transpiling at run time. Plain JS itself:
// bin/hummdesk.js calls it before anything is built. Run at install (postinstall), and again by the CLI
// whenever a source is newer than the last build, so an edit never runs stale code.
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DIST = join(ROOT, 'dist');
const STAMP = join(DIST, '.built');
/** Folders that hold code a hub process runs (bench/ and the tests run under tsx and vitest). */
const SOURCE_DIRS = ['connectors', 'hub', 'ai', 'storage', 'embeds', 'scripts'];
/** Files whose change alters the output even when no source changed. */
const INPUTS = ['tsconfig.json', 'package-lock.json', 'scripts/build.js'];
// Compiled code sees its source file's URL as import.meta.url, so files found relative to it (migrations,
// models, the demo page, the embeds' sources) are the same ones under tsx, vitest and dist/.
const SOURCE_URL = '__hummdesk_source_url';

const isSource = (name) => name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts');

function sources() {
  const out = [];
  for (const dir of SOURCE_DIRS) {
    for (const e of readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })) {
      if (e.isFile() && isSource(e.name)) out.push(join(e.parentPath ?? e.path, e.name));
    }
  }
  return out;
}

/** The entry the CLI imports once dist/ is current. */
export const entry = (source) => join(DIST, relative(ROOT, source)).replace(/\.ts$/, '.js');

/** True when dist/ was built after every source and input last changed. */
export function isCurrent() {
  let built;
  try {
    built = statSync(STAMP).mtimeMs;
  } catch {
    return false;
  }
  for (const file of [...sources(), ...INPUTS.map((f) => join(ROOT, f))]) {
    try {
      if (statSync(file).mtimeMs > built) return false;
    } catch {
      // an input that does not exist (no lock file in a packed copy) changes nothing
    }
  }
  return true;
}

/** Compiles every source; returns how many files were written. */
export async function build() {
  const startedAt = new Date();
  const { transform } = await import('esbuild');
  const tsconfigRaw = readFileSync(join(ROOT, 'tsconfig.json'), 'utf8');
  const files = sources();
  await Promise.all(
    files.map(async (file) => {
      const code = readFileSync(file, 'utf8');
      const rel = relative(ROOT, file).split(sep).join('/');
      const out = entry(file);
      const usesUrl = code.includes('import.meta.url');
      const result = await transform(code, {
        loader: 'ts',
        format: 'esm',
        platform: 'node',
        target: 'node20',
        tsconfigRaw,
        sourcefile: rel,
        sourcemap: 'external',
        sourcesContent: false,
        define: usesUrl ? { 'import.meta.url': SOURCE_URL } : undefined,
      });
      const depth = rel.split('/').length - 1;
      const fromOut = `${'../'.repeat(depth + 1)}${rel}`;
      // On the first line, so the source map's line numbers still hold.
      const prefix = usesUrl ? `const ${SOURCE_URL} = new URL(${JSON.stringify(fromOut)}, import.meta.url).href; ` : '';
      const map = JSON.parse(result.map);
      map.sources = [fromOut];
      mkdirSync(dirname(out), { recursive: true });
      writeAtomically(`${out}.map`, JSON.stringify(map));
      writeAtomically(out, `${prefix}${result.code}//# sourceMappingURL=${out.split(sep).pop()}.map\n`);
    }),
  );
  writeAtomically(STAMP, `${JSON.stringify({ files: files.length, at: startedAt.toISOString() })}\n`);
  // A source saved while this build ran is newer than the stamp, so the next start builds again.
  utimesSync(STAMP, startedAt, startedAt);
  return files.length;
}

function writeAtomically(file, text) {
  // Two processes may build at once (two starts after a pull): each file appears whole or not at all.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** Builds when needed; returns the JavaScript path of `source` (a path relative to the repository). */
export async function ensureBuilt(source) {
  if (!isCurrent()) await build();
  return entry(join(ROOT, source));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const n = await build();
  process.stderr.write(`hummdesk: compiled ${n} files to dist/ (${Date.now() - started} ms)\n`);
}
