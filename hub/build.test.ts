import { describe, expect, it } from 'vitest';
import { existsSync, statSync, utimesSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { templatePath } from '../storage/pglite-template.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Build {
  isCurrent(): boolean;
  ensureBuilt(source: string): Promise<string>;
}
// Plain JavaScript (bin/hummdesk.js runs it before anything is compiled), so no types to import.
const build = async () => (await import(`${ROOT}scripts/build.js`)) as Build;

describe('hummdesk runs JavaScript compiled into dist/', () => {
  it('compiles when a source is newer than the last build, and then runs the compiled entry', { timeout: 120_000 }, async () => {
    const { isCurrent, ensureBuilt } = await build();
    const entry = await ensureBuilt('hub/cli.ts');
    expect(entry).toBe(`${ROOT}dist/hub/cli.js`);
    expect(existsSync(entry)).toBe(true);
    expect(isCurrent()).toBe(true);

    // An edited source (here only its time) makes the build stale; the next start compiles again.
    const source = `${ROOT}hub/server.ts`;
    const { atime, mtime } = statSync(source);
    await new Promise((r) => setTimeout(r, 20));
    utimesSync(source, atime, new Date());
    try {
      expect(isCurrent()).toBe(false);
      await ensureBuilt('hub/cli.ts');
      expect(isCurrent()).toBe(true);
    } finally {
      utimesSync(source, atime, mtime);
    }
  });

  it('compiled code finds files beside its source (migrations, models, the store templates) as the source does', async () => {
    await (await build()).ensureBuilt('hub/cli.ts');
    const compiled = (await import(`${ROOT}dist/storage/pglite-template.js`)) as { templatePath(): string };
    expect(compiled.templatePath()).toBe(templatePath());
    const sentiment = (await import(`${ROOT}dist/ai/providers/local/sentiment.js`)) as { SENTIMENT_MODEL_PATH: string };
    expect(sentiment.SENTIMENT_MODEL_PATH).toBe(`${ROOT}ai/models/sentiment.json`);
  });
});
