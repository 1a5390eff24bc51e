import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Manifest { modules: { path: string }[] }
type SourceFile = { fileName: string };
interface AnalyzerConfig { overrideModuleCreation(opts: { ts: unknown; globs: string[] }): SourceFile[] }
interface Analyzer { create(opts: { modules: SourceFile[]; plugins: unknown[] }): Manifest; ts: { createSourceFile(name: string, text: string, target: number, parents: boolean): SourceFile; ScriptTarget: { ES2015: number } } }

const committed = (): Manifest => JSON.parse(readFileSync(join(ROOT, 'custom-elements.json'), 'utf8')) as Manifest;

// Loaded by path: the analyzer and the project's config for it are plain JavaScript without types.
const analyzer = async () => {
  const { create, ts } = (await import(join(ROOT, 'node_modules/@custom-elements-manifest/analyzer/index.js'))) as Analyzer;
  const { litPlugin } = (await import(join(ROOT, 'node_modules/@custom-elements-manifest/analyzer/src/features/framework-plugins/lit/lit.js'))) as { litPlugin(): unknown[] };
  const { default: config } = (await import(join(ROOT, 'custom-elements-manifest.config.mjs'))) as { default: AnalyzerConfig };
  return { create, ts, litPlugin, config };
};

describe('custom-elements.json', () => {
  it('is the same whatever order the analyzer finds the component files in', async () => {
    const { create, ts, litPlugin, config } = await analyzer();
    const paths = committed().modules.map((m) => m.path);
    const shuffled = [...paths.slice(5), ...paths.slice(0, 5)].reverse();
    const analyse = (globs: string[]) => create({ modules: config.overrideModuleCreation({ ts, globs }), plugins: litPlugin() });
    // The analyzer on its own keeps the order it is given: fast-glob's, which varies from run to run
    // (why one clean-clone CI's fresh manifest did not match the committed one).
    const asFound = create({ modules: shuffled.map((p) => ts.createSourceFile(p, readFileSync(join(ROOT, p), 'utf8'), ts.ScriptTarget.ES2015, true)), plugins: litPlugin() });
    expect(asFound.modules.map((m) => m.path)).toEqual(shuffled);
    // The project's config analyses in path order.
    expect(analyse(shuffled)).toEqual(analyse(paths));
    expect(analyse(shuffled).modules.map((m) => m.path)).toEqual([...paths].sort());
  }, 120_000);

  it('describes the components as they are now (run `npm run analyze` after changing one)', async () => {
    const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { analyze: string } }).scripts.analyze;
    const out = mkdtempSync(join(tmpdir(), 'hummdesk-cem-'));
    try {
      // The project's own analyze command (with its config, custom-elements-manifest.config.mjs), written to a
      // scratch folder instead of the checkout (the analyzer takes paths relative to it).
      await promisify(execFile)('sh', ['-c', script.replace('--outdir .', `--outdir '${relative(ROOT, out)}'`)], {
        cwd: ROOT, env: { ...process.env, PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}` },
      });
      const fresh = JSON.parse(readFileSync(join(out, 'custom-elements.json'), 'utf8')) as Manifest;
      const stored = committed();
      // Which modules first, so a difference names the file rather than showing a long diff.
      expect(stored.modules.map((m) => m.path)).toEqual(fresh.modules.map((m) => m.path));
      expect(stored).toEqual(fresh);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
