// Run by scripts/postinstall.js: prepares the embedded store's images so the first `npm start` skips initdb and the migrations.
import { buildTemplate } from '../storage/pglite-template.js';

const started = Date.now();
try {
  const files = await buildTemplate();
  process.stderr.write(`hummdesk: embedded store images ready (${files.join(', ')}, ${Date.now() - started} ms)\n`);
} catch (err) {
  // Never fail an install over this: start-up falls back to initdb in memory.
  process.stderr.write(`hummdesk: could not prepare the embedded store image (${String(err)}); the first start will be slower\n`);
}
