import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

// Records every package a module graph resolves (from our code or from inside node_modules): ESM
// imports through a resolve hook, require() calls from the CommonJS module cache.
const HOOKS = `export async function resolve(spec, ctx, next) {
  const r = await next(spec, ctx);
  const m = /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(r.url);
  if (m) globalThis.port?.postMessage(m[1]);
  return r;
}
export function initialize(data) { globalThis.port = data.port; }`;

const PROBE = `import { createRequire, register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const seen = new Set();
const { port1, port2 } = new MessageChannel();
port1.on('message', (p) => seen.add(p));
port1.unref();
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOKS)}), { data: { port: port2 }, transferList: [port2] });
const { register: tsx } = await import('tsx/esm/api');
tsx();
await import('./hub/server.ts');
await import('./hub/install-ai.ts');
await new Promise((r) => setTimeout(r, 200));
for (const file of Object.keys(createRequire(import.meta.url)('node:module')._cache)) {
  const m = /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(file);
  if (m) seen.add(m[1]);
}
process.stdout.write(JSON.stringify([...seen]));`;

/** Packages the modules of `hummdesk start` import before the hub serves: what every process pays for. */
async function packagesLoadedAtStart(): Promise<string[]> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', PROBE], { cwd: ROOT, maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as string[];
}

describe('what a hub process loads at start', () => {
  it('leaves language ID, Redis, model SDKs, mail, Socket Mode and node-postgres until they are used', { timeout: 120_000 }, async () => {
    const loaded = await packagesLoadedAtStart();
    expect(loaded).toContain('fastify'); // the probe sees packages at all
    // eld/large alone is ~1 s and ~370 MB; the others serve only configurations or requests that use them
    // (express comes with Bolt's entry, which the Slack signature check does not need).
    const lazy = ['eld', 'ioredis', 'bullmq', '@anthropic-ai/sdk', 'undici', 'pg', 'imapflow', 'mailparser', 'express', '@slack/socket-mode',
      // Teams: the webhook verifies with node:crypto; botbuilder (~1 s, ~95 MB), MSAL and Azure Identity load only for outbound calls.
      'botbuilder', 'botframework-connector', '@azure/msal-node', '@azure/identity', 'jsonwebtoken', '@microsoft/app-manifest'];
    expect(lazy.filter((p) => loaded.includes(p))).toEqual([]);
  });
});
