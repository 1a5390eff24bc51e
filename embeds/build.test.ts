import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../hub/testing/harness.js';
import { CHAT_GZIP_BUDGET, buildEmbeds } from './build.js';

describe('embed bundles', () => {
  it('builds the widget alone under its gzip budget, and every component into hummdesk.js', async () => {
    const bundles = await buildEmbeds();
    const chat = bundles.find((b) => b.name === 'hummdesk-chat.js')!;
    const all = bundles.find((b) => b.name === 'hummdesk.js')!;
    console.log(`hummdesk-chat.js ${(chat.gzip.length / 1024).toFixed(1)} KB gzip; hummdesk.js ${(all.gzip.length / 1024).toFixed(1)} KB gzip`);
    expect(chat.gzip.length).toBeLessThan(CHAT_GZIP_BUDGET);
    const chatCode = chat.code.toString();
    expect(chatCode).toContain('hummdesk-chat');
    expect(chatCode).not.toContain('hummdesk-inbox');
    for (const tag of ['hummdesk-chat', 'hummdesk-inbox', 'hummdesk-conversation', 'hummdesk-draft', 'hummdesk-kb-search']) expect(all.code.toString()).toContain(tag);
    expect(chat.hash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('keeps the admin console in its own bundle: the desk loads without it', async () => {
    const bundles = await buildEmbeds();
    const admin = bundles.find((b) => b.name === 'hummdesk-admin.js')!;
    const all = bundles.find((b) => b.name === 'hummdesk.js')!;
    console.log(`hummdesk-admin.js ${(admin.gzip.length / 1024).toFixed(1)} KB gzip`);
    for (const tag of ['hummdesk-admin', 'hummdesk-admin-channels', 'hummdesk-admin-people', 'hummdesk-admin-kb', 'hummdesk-admin-ai', 'hummdesk-admin-security']) expect(admin.code.toString()).toContain(`"${tag}"`);
    expect(all.code.toString()).not.toContain('hummdesk-admin');
    expect(bundles.find((b) => b.name === 'hummdesk-chat.js')!.code.toString()).not.toContain('hummdesk-admin');
  });
});

describe('GET /embed/:file', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ jobs: false });
  });
  afterAll(async () => t?.close());

  it('serves compressed, cacheable, cross-origin loadable modules', async () => {
    const br = await t.app.inject({ url: '/embed/hummdesk-chat.js', headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(br.statusCode).toBe(200);
    expect(br.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toBe('accept-encoding');
    expect(br.headers['access-control-allow-origin']).toBe('*');
    const code = brotliDecompressSync(br.rawPayload).toString();
    expect(code).toContain('customElements');

    const etag = String(br.headers.etag);
    expect(etag).toMatch(/^"[0-9a-f]{16}"$/);
    expect(br.headers['cache-control']).not.toContain('immutable');
    const versioned = await t.app.inject({ url: `/embed/hummdesk-chat.js?v=${etag.slice(1, -1)}`, headers: { 'accept-encoding': 'gzip' } });
    expect(versioned.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(versioned.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(versioned.rawPayload).toString()).toBe(code);

    const plain = await t.app.inject({ url: '/embed/hummdesk.js', headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toContain('hummdesk-inbox');
    const refused = await t.app.inject({ url: '/embed/hummdesk.js', headers: { 'accept-encoding': 'br;q=0, gzip;q=0' } });
    expect(refused.headers['content-encoding']).toBeUndefined();

    const notModified = await t.app.inject({ url: '/embed/hummdesk-chat.js', headers: { 'if-none-match': etag } });
    expect(notModified.statusCode).toBe(304);
    expect((await t.app.inject({ url: '/embed/nope.js' })).statusCode).toBe(404);
  });
});
