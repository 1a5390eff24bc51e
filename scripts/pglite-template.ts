// postinstall: prepares the embedded store's empty image so the first `npm start` skips initdb.
import { buildTemplate } from '../storage/pglite-template.js';

const started = Date.now();
try {
  const file = await buildTemplate();
  process.stderr.write(`hummdesk: embedded store image ready (${file}, ${Date.now() - started} ms)\n`);
} catch (err) {
  // Never fail an install over this: start-up falls back to initdb in memory.
  process.stderr.write(`hummdesk: could not prepare the embedded store image (${String(err)}); the first start will be slower\n`);
}
