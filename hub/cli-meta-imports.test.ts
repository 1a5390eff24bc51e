import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

// Every module a graph resolves: ESM imports through a resolve hook (packages by name, our own files by
// path), require() calls from the CommonJS module cache. As hub/startup-imports.test.ts does for `start`.
const HOOKS = `export async function resolve(spec, ctx, next) {
  const r = await next(spec, ctx);
  globalThis.port?.postMessage(r.url);
  return r;
}
export function initialize(data) { globalThis.port = data.port; }`;

/** Runs `hummdesk meta parse FILE` in a fresh process and lists what it loaded beyond the probe itself (tsx). */
const PROBE = (file: string) => `import { createRequire, register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const urls = new Set();
const { port1, port2 } = new MessageChannel();
port1.on('message', (u) => urls.add(u));
port1.unref();
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOKS)}), { data: { port: port2 }, transferList: [port2] });
const { register: tsx } = await import('tsx/esm/api');
tsx();
const settle = () => new Promise((r) => setTimeout(r, 200));
const loaded = () => new Set([...urls, ...Object.keys(createRequire(import.meta.url)('node:module')._cache).map((f) => 'file://' + f)]);
await settle();
const before = loaded();
const out = [];
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk) => (out.push(String(chunk)), true);
const { main } = await import('./hub/cli.ts');
const code = await main(['meta', 'parse', ${JSON.stringify(file)}]);
await settle();
process.stdout.write = write;
const added = [...loaded()].filter((u) => !before.has(u));
write(JSON.stringify({ code, out: out.join(''), added }));`;

const PACKAGE = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//;

describe('what `hummdesk meta parse` loads', () => {
  it('parses without the hub: no database, HTTP server, AI, SDK or browser package, none of storage/ or the hub\'s services', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hummdesk-meta-parse-'));
    try {
      const file = join(dir, 'text.json');
      writeFileSync(file, JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [{ id: '1', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550000000', phone_number_id: '106540352242922' },
          contacts: [{ profile: { name: 'Aino' }, wa_id: '358401234567' }],
          messages: [{ from: '358401234567', id: 'wamid.PROBE1', timestamp: '1765000000', type: 'text', text: { body: 'Hei' } }] } }] }],
      }));
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', PROBE(file)], { cwd: ROOT, maxBuffer: 8 << 20 });
      const r = JSON.parse(stdout) as { code: number; out: string; added: string[] };
      // The probe ran the command itself: it printed the message.
      expect(r.code).toBe(0);
      expect(r.out).toContain('wamid.PROBE1');
      const packages = [...new Set(r.added.flatMap((u) => PACKAGE.exec(u)?.[1] ?? []))].sort();
      // The egress guard's address parser comes with the hub's configuration; nothing else from npm.
      expect(packages).toEqual(['ipaddr.js']);
      const own = r.added.filter((u) => u.startsWith('file://') && !u.includes('/node_modules/')).map((u) => fileURLToPath(u).slice(ROOT.length));
      expect(own).toContain('hub/cli-meta.ts');
      // Our own modules: the connectors' parsers and the command line, never storage/, the AI or the hub's app and services.
      const needed = (f: string) => f.startsWith('connectors/') || /^hub\/cli[\w-]*\.ts$/.test(f) || f === 'hub/config.ts' || f === 'ai/eval/usage.ts';
      expect(own.filter((f) => !needed(f))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
