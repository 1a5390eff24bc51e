import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/** One served bundle, compressed once in memory. */
export interface EmbedBundle {
  /** The file name under /embed/, e.g. `hummdesk-chat.js`. */
  name: string;
  code: Buffer;
  gzip: Buffer;
  brotli: Buffer;
  /** First 16 hex digits of the SHA-256 of `code`: the ETag and the `?v=` of an immutable URL. */
  hash: string;
}

/**
 * The widget alone (what a customer's site loads), every agent component (what an internal tool loads)
 * and the admin console (loaded by the page at / only when an admin opens Settings).
 */
export const EMBED_ENTRIES = {
  'hummdesk-chat': fileURLToPath(new URL('./chat/chat.ts', import.meta.url)),
  hummdesk: fileURLToPath(new URL('./index.ts', import.meta.url)),
  'hummdesk-admin': fileURLToPath(new URL('./admin/admin.ts', import.meta.url)),
} as const;

/** The widget's budget with everything it imports, gzipped. */
export const CHAT_GZIP_BUDGET = 40 * 1024;

/** Bundles the components with esbuild into self-contained ES modules, one per entry. */
export async function buildEmbeds(): Promise<EmbedBundle[]> {
  // esbuild loads on the first request for a bundle, not with the hub.
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: EMBED_ENTRIES,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    write: false,
    outdir: 'out',
    tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)),
    logLevel: 'silent',
  });
  return result.outputFiles.map((f) => {
    const code = Buffer.from(f.contents);
    return {
      name: f.path.split(/[\\/]/).pop()!,
      code,
      gzip: gzipSync(code, { level: 9 }),
      brotli: brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: code.length } }),
      hash: createHash('sha256').update(code).digest('hex').slice(0, 16),
    };
  });
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

// `npm run build:embeds` prints the sizes; the hub itself builds in memory on first request.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const bundles = await buildEmbeds();
  for (const b of bundles) process.stdout.write(`/embed/${b.name}  ${kb(b.code.length)} min  ${kb(b.gzip.length)} gzip  ${kb(b.brotli.length)} brotli  (${b.hash})\n`);
  const chat = bundles.find((b) => b.name === 'hummdesk-chat.js');
  if (!chat || chat.gzip.length > CHAT_GZIP_BUDGET) {
    process.stderr.write(`the widget is over its ${kb(CHAT_GZIP_BUDGET)} gzip budget\n`);
    process.exitCode = 1;
  }
}
