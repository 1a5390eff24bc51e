// postinstall: compiles dist/ and prepares the embedded store's images, so the first `npm start` does
// neither. It never fails an install: without them, start-up compiles (or runs the sources) and initdb's.
const started = Date.now();
let templateModule = '../dist/scripts/pglite-template.js';
try {
  const { build } = await import('./build.js');
  const n = await build();
  process.stderr.write(`hummdesk: compiled ${n} files to dist/ (${Date.now() - started} ms)\n`);
} catch (err) {
  process.stderr.write(`hummdesk: could not compile to dist/ (${err?.message ?? err}); hummdesk will run the TypeScript sources\n`);
  const { register } = await import('tsx/esm/api');
  register();
  templateModule = './pglite-template.ts';
}
await import(templateModule);
