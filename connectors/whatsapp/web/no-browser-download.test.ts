import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/*
 * Issue #14's acceptance line "a clean `npm ci` downloads no browser": what makes it so is committed
 * configuration, checked here (the clean install itself runs in CI).
 */
const root = new URL('../../../', import.meta.url);

describe('installing never downloads a browser', () => {
  it('puppeteer is told to skip its download, and its install script may not run', () => {
    const rc = createRequire(import.meta.url)(new URL('.puppeteerrc.cjs', root).pathname) as { skipDownload?: boolean };
    expect(rc.skipDownload).toBe(true);
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { allowScripts?: Record<string, boolean> };
    expect(pkg.allowScripts?.puppeteer).toBe(false);
  });
});
