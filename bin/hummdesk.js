#!/usr/bin/env node
// The CLI runs the TypeScript sources through tsx's loader, so no build step stands between install and start.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../hub/cli.ts');
const code = await main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`hummdesk: ${err?.stack ?? err}\n`);
  return 1;
});
if (code >= 0) process.exit(code);
