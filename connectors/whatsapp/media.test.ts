import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBlobStore } from '../../storage/blob-store.js';
import type { ChannelInstallation } from '../core/types.js';
import { GraphEmulator } from '../meta/testing/emulator.js';
import { WhatsAppConnector } from './connector.js';
import { WHATSAPP_MEDIA_REF } from './parse.js';

const NUMBER = '1122334455667';
const channel: ChannelInstallation = {
  id: '00000000-0000-4000-8000-00000000c001', accountId: '00000000-0000-4000-8000-00000000a001', kind: 'whatsapp',
  externalKey: NUMBER, teamId: null, config: {}, secrets: { accessToken: 'tok' },
};

describe('WhatsApp media, streamed from Graph into the blob store', () => {
  let graph: GraphEmulator;
  let root: string;
  let blobs: LocalBlobStore;
  const connector = () => new WhatsAppConnector({ appSecrets: ['s'], verifyTokens: [], graphUrl: graph.url });
  const files = async () => (await readdir(root, { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).map((d) => d.name);
  beforeAll(async () => {
    graph = await GraphEmulator.start();
    graph.addNumber({ id: NUMBER, token: 'tok' });
    root = await mkdtemp(join(tmpdir(), 'hummdesk-wa-media-'));
    blobs = new LocalBlobStore(root);
  });
  afterAll(async () => {
    await graph.close();
    await rm(root, { recursive: true, force: true });
  });

  it('stores the bytes Graph described, checked against its SHA-256 and size', async () => {
    const bytes = randomBytes(200_000);
    graph.addMedia('M-OK', NUMBER, bytes, 'image/jpeg');
    const got = await connector().fetchAttachment(channel, `${WHATSAPP_MEDIA_REF}M-OK`, { maxBytes: 1_000_000 });
    expect(got.mimeType).toBe('image/jpeg');
    const written = await blobs.writeStream(got.body, { maxBytes: 1_000_000, ...(got.verify ? { verify: got.verify } : {}) });
    expect(written).toMatchObject({ key: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, created: true });
    expect((await blobs.get(written.key)).equals(bytes)).toBe(true);
  });

  it('bytes that do not match Graph\'s SHA-256 are refused and their partial file removed', async () => {
    const before = await files();
    graph.addMedia('M-BAD', NUMBER, randomBytes(100_000), 'image/jpeg', true);
    const got = await connector().fetchAttachment(channel, `${WHATSAPP_MEDIA_REF}M-BAD`, { maxBytes: 1_000_000 });
    await expect(blobs.writeStream(got.body, { maxBytes: 1_000_000, ...(got.verify ? { verify: got.verify } : {}) })).rejects.toMatchObject({ code: 'attachment_checksum_mismatch' });
    expect(await files()).toEqual(before);
  });

  it('verify() refuses a size other than Graph\'s file_size', async () => {
    const bytes = randomBytes(1000);
    graph.addMedia('M-SIZE', NUMBER, bytes, 'image/jpeg');
    const got = await connector().fetchAttachment(channel, `${WHATSAPP_MEDIA_REF}M-SIZE`, { maxBytes: 1_000_000 });
    for await (const piece of got.body as AsyncIterable<Uint8Array>) void piece;
    expect(() => got.verify!({ size: 999, sha256: createHash('sha256').update(bytes).digest() })).toThrow(expect.objectContaining({ code: 'attachment_size_mismatch' }));
    expect(() => got.verify!({ size: 1000, sha256: createHash('sha256').update(bytes).digest() })).not.toThrow();
  });

  it('a file larger than the cap is refused before its download', async () => {
    graph.addMedia('M-BIG', NUMBER, Buffer.alloc(5000), 'application/pdf');
    const downloads = graph.downloads;
    await expect(connector().fetchAttachment(channel, `${WHATSAPP_MEDIA_REF}M-BIG`, { maxBytes: 4096 })).rejects.toMatchObject({ code: 'attachment_too_large' });
    expect(graph.downloads).toBe(downloads);
  });
});
