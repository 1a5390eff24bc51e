#!/usr/bin/env node
// Runs the JavaScript compiled from the TypeScript sources into dist/ (at install, and again here whenever a
// source is newer), so start-up spends no time transpiling. tsx runs the sources only if dist/ cannot be built.
process.setSourceMapsEnabled(true);

async function loadCli() {
  let built;
  try {
    const { ensureBuilt } = await import('../scripts/build.js');
    built = await ensureBuilt('hub/cli.ts');
  } catch (err) {
    process.stderr.write(`hummdesk: could not compile to dist/ (${err?.message ?? err}); running the TypeScript sources instead\n`);
    const { register } = await import('tsx/esm/api');
    register();
    return import('../hub/cli.ts');
  }
  return import(built);
}

const { main } = await loadCli();
const code = await main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`hummdesk: ${err?.stack ?? err}\n`);
  return 1;
});
if (code >= 0) process.exit(code);
