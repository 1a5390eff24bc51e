import { randomBytes, randomUUID } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rename, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalBlobStore } from '../../storage/blob-store.js';
import { insertUpload } from '../../storage/repositories/uploads.js';
import { withAccount } from '../../storage/session.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { startUploadSweep, sweepUploads, type SweepDeps } from './upload-sweep.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SECRETS = { identitySecret: 'identity-secret-of-the-shop', sessionSecret: 'session-secret-of-the-shop' };

describe.each([
  ['PostgreSQL', false],
  ['PGlite', true],
])('upload sweep on %s', (_store, embedded) => {
  let t: TestHub;
  let a: TestAccount;
  let b: TestAccount;
  let deps: SweepDeps;
  // Warnings the sweep logged: a race between sweeps must not show up as a failed delete.
  const warnings: { msg: string }[] = [];
  const widgetA = `sweep-a-${randomUUID()}`;
  const widgetB = `sweep-b-${randomUUID()}`;
  // The sweep runs as if two days had passed since every row and file of the test was written.
  const later = () => new Date(Date.now() + 2 * DAY);

  beforeAll(async () => {
    t = await startTestHub({ embedded, jobs: false });
    a = await createTestAccount(t, { channelKey: widgetA, secrets: SECRETS });
    b = await createTestAccount(t, { channelKey: widgetB, secrets: SECRETS });
    const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as { msg: string }) });
    deps = { db: t.hub.db, blobs: t.hub.blobs, log, swept: t.hub.metrics.uploadsSwept };
  });
  afterAll(() => t?.close());
  // Each test starts from no uploads, so counts are its own.
  beforeEach(async () => {
    await t.hub.db.query(`DELETE FROM uploads`);
    warnings.length = 0;
  });

  const session = async (widget: string): Promise<{ visitorId: string; visitorToken: string }> =>
    (await t.app.inject({ method: 'POST', url: `/webchat/${widget}/sessions`, payload: {} })).json();
  const headers = (s: { visitorId: string; visitorToken: string }) => ({ authorization: `Visitor ${s.visitorToken}`, 'x-visitor-id': s.visitorId });
  const upload = async (widget: string, s: { visitorId: string; visitorToken: string }, body: string): Promise<string> => {
    const res = await t.app.inject({ method: 'POST', url: `/webchat/${widget}/uploads?name=f.txt`, headers: { ...headers(s), 'content-type': 'text/plain' }, payload: body });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id;
  };
  const send = (widget: string, s: { visitorId: string; visitorToken: string }, attachments: string[]) =>
    t.app.inject({ method: 'POST', url: `/webchat/${widget}/messages`, headers: headers(s), payload: { clientMessageId: randomUUID(), text: 'see file', attachments } });
  const keyOf = async (uploadId: string) => (await t.hub.db.query<{ k: string }>(`SELECT blob_key k FROM uploads WHERE id = $1`, [uploadId])).rows[0]!.k;
  const remaining = async () => (await t.hub.db.query<{ id: string }>(`SELECT id FROM uploads ORDER BY id`)).rows.map((r) => r.id).sort();
  const stored = (key: string) => t.hub.blobs.get(key).then(() => true, () => false);
  const sweptTotal = async () => (await t.hub.metrics.uploadsSwept.get()).values[0]?.value ?? 0;
  const unique = () => `file ${randomBytes(8).toString('hex')}`;

  it('deletes expired unclaimed uploads of every account with their bytes; keeps claimed, fresh and shared ones', async () => {
    const sa = await session(widgetA);
    const sb = await session(widgetB);
    const oldA = await upload(widgetA, sa, unique());
    const oldB = await upload(widgetB, sb, unique());
    const claimed = await upload(widgetA, sa, unique());
    const sent = await send(widgetA, sa, [claimed]);
    expect(sent.statusCode, sent.body).toBe(202);
    const fresh = await upload(widgetA, sa, unique());
    // The same bytes as an agent's attachment in account A, uploaded by a visitor of account B.
    const sharedBytes = unique();
    const reply = await t.app.inject({
      method: 'POST',
      url: `/api/v1/conversations/${sent.json().conversationId}/reply`,
      headers: { authorization: `Bearer ${a.users.agent.token}` },
      payload: { text: 'here', attachments: [{ name: 's.txt', mimeType: 'text/plain', contentBase64: Buffer.from(sharedBytes).toString('base64') }] },
    });
    expect(reply.statusCode, reply.body).toBe(202);
    const shared = await upload(widgetB, sb, sharedBytes);
    const now = later();
    await t.hub.db.query(`UPDATE uploads SET created_at = $2 WHERE id = $1`, [fresh, new Date(now.getTime() - HOUR)]);
    const keys = { oldA: await keyOf(oldA), oldB: await keyOf(oldB), claimed: await keyOf(claimed), fresh: await keyOf(fresh), shared: await keyOf(shared) };
    const before = await sweptTotal();

    expect(await sweepUploads(deps, { retentionMs: DAY, now: () => now })).toEqual({ uploads: 3, blobs: 2 });

    expect(await remaining()).toEqual([claimed, fresh].sort());
    expect(await stored(keys.oldA)).toBe(false);
    expect(await stored(keys.oldB)).toBe(false);
    expect(await stored(keys.claimed)).toBe(true);
    expect(await stored(keys.fresh)).toBe(true);
    expect(await stored(keys.shared)).toBe(true);
    expect((await sweptTotal()) - before).toBe(3);
    // A visitor who comes back cannot send what was swept; a second sweep finds nothing.
    expect((await send(widgetB, sb, [oldB])).json().error.code).toBe('upload_unknown');
    expect(await sweepUploads(deps, { retentionMs: DAY, now: () => now })).toEqual({ uploads: 0, blobs: 0 });
  });

  it('keeps bytes written within the grace period, whose new row may not be committed yet', async () => {
    const s = await session(widgetA);
    const id = await upload(widgetA, s, unique());
    const key = await keyOf(id);
    // The row is old, but the same bytes were just written again (by the upload above, moments ago).
    await t.hub.db.query(`UPDATE uploads SET created_at = now() - interval '25 hours' WHERE id = $1`, [id]);

    expect(await sweepUploads(deps, { retentionMs: DAY })).toEqual({ uploads: 1, blobs: 0 });
    expect(await stored(key)).toBe(true);
  });

  it('lets two sweeps run at once: every upload deleted exactly once, no errors', async () => {
    const contents = [unique(), unique(), unique(), unique()];
    const keys = await Promise.all(contents.map((c) => t.hub.blobs.put(Buffer.from(c))));
    for (const [i, acct] of [a, b].entries()) {
      await withAccount(t.hub.db, acct.accountId, async (tx) => {
        for (let n = 0; n < 20; n++) {
          const key = keys[(n + i) % keys.length]!;
          await insertUpload(tx, { accountId: acct.accountId, channelId: acct.channelId, uploader: `v${n}`, name: 'f.txt', mimeType: 'text/plain', size: 10, blobKey: key });
        }
      });
    }
    const now = later();
    const runs = await Promise.all([0, 1].map(() => sweepUploads(deps, { retentionMs: DAY, now: () => now, batchSize: 7 })));

    expect(runs[0]!.uploads + runs[1]!.uploads).toBe(40);
    expect(runs[0]!.blobs + runs[1]!.blobs).toBe(4);
    expect(await remaining()).toEqual([]);
    for (const key of keys) expect(await stored(key)).toBe(false);
    expect(warnings).toEqual([]);
  });

  describe('bytes a delete left aside when its process stopped', () => {
    let root: string;
    let blobs: LocalBlobStore;
    let depsOwn: SweepDeps;
    beforeEach(async () => {
      root = await mkdtemp(join(tmpdir(), 'hummdesk-blobs-'));
      blobs = new LocalBlobStore(root);
      depsOwn = { ...deps, blobs };
    });
    afterEach(() => rm(root, { recursive: true, force: true }));

    /** What delete() leaves when its process stops between moving the file aside and deleting it. */
    const leaveAside = async (key: string, writtenAt: Date, { keepOriginal = false } = {}) => {
      const path = join(root, key.slice(0, 2), key);
      await mkdir(join(root, 'deleting'), { recursive: true });
      const aside = join(root, 'deleting', `${key}.${randomUUID()}`);
      await (keepOriginal ? copyFile(path, aside) : rename(path, aside));
      await utimes(aside, writtenAt, writtenAt);
    };
    const asideKeys = async () => (await blobs.listAside()).map((a) => a.key).sort();
    const has = (key: string) => blobs.get(key).then((b) => b.toString(), () => undefined);
    const nameInRow = (key: string) =>
      withAccount(t.hub.db, a.accountId, (tx) =>
        insertUpload(tx, { accountId: a.accountId, channelId: a.channelId, uploader: 'v', name: 'f.txt', mimeType: 'text/plain', size: 10, blobKey: key }),
      );

    it('puts back bytes a row names, deletes unnamed ones past the grace period, keeps fresh unnamed ones', async () => {
      const hoursAgo = (h: number) => new Date(Date.now() - h * HOUR);
      const text = { named: unique(), namedAgain: unique(), old: unique(), fresh: unique() };
      const key = {
        named: await blobs.put(Buffer.from(text.named)),
        namedAgain: await blobs.put(Buffer.from(text.namedAgain)),
        old: await blobs.put(Buffer.from(text.old)),
        fresh: await blobs.put(Buffer.from(text.fresh)),
      };
      // A delete saw a put() in the mtime and stopped before moving the bytes back; the put's row then committed.
      await leaveAside(key.named, new Date());
      await nameInRow(key.named);
      // A delete stopped after its decision; the same bytes were put again since, and a row names them.
      await leaveAside(key.namedAgain, hoursAgo(3), { keepOriginal: true });
      await nameInRow(key.namedAgain);
      await leaveAside(key.old, hoursAgo(2));
      // Within the grace period: a row naming these bytes may not be committed yet.
      await leaveAside(key.fresh, hoursAgo(0.5));
      expect(await asideKeys()).toEqual(Object.values(key).sort());

      expect(await sweepUploads(depsOwn, { retentionMs: DAY })).toEqual({ uploads: 0, blobs: 1 });

      expect(await has(key.named)).toBe(text.named);
      expect(await has(key.namedAgain)).toBe(text.namedAgain);
      // The fresh put() was not replaced by the older copy: its mtime still keeps it from a concurrent delete.
      expect((await stat(join(root, key.namedAgain.slice(0, 2), key.namedAgain))).mtime.getTime()).toBeGreaterThan(hoursAgo(1).getTime());
      expect(await has(key.old)).toBeUndefined();
      expect(await has(key.fresh)).toBeUndefined();
      expect(await asideKeys()).toEqual([key.fresh]);
      expect(warnings).toEqual([]);

      // Once past the grace period with still no row naming them, they go too.
      expect(await sweepUploads(depsOwn, { retentionMs: 365 * DAY, now: () => new Date(Date.now() + HOUR) })).toEqual({ uploads: 0, blobs: 1 });
      expect(await asideKeys()).toEqual([]);
      expect(await has(key.named)).toBe(text.named);
    });

    it('lets two sweeps settle the same leftovers at once: each put back or deleted exactly once, no errors', async () => {
      const texts = Array.from({ length: 12 }, unique);
      const keys = await Promise.all(texts.map((x) => blobs.put(Buffer.from(x))));
      for (const [i, key] of keys.entries()) {
        await leaveAside(key, new Date(Date.now() - 2 * HOUR));
        if (i % 2) await nameInRow(key);
      }
      const runs = await Promise.all([0, 1].map(() => sweepUploads(depsOwn, { retentionMs: DAY })));

      expect(runs[0]!.blobs + runs[1]!.blobs).toBe(6);
      expect(await asideKeys()).toEqual([]);
      for (const [i, key] of keys.entries()) expect(await has(key)).toBe(i % 2 ? texts[i] : undefined);
      expect(warnings).toEqual([]);
    });
  });

  it('sweeps when started and stops cleanly: stop() waits for the sweep in flight and no timer fires after it', async () => {
    const s = await session(widgetA);
    const first = await upload(widgetA, s, unique());
    const sweep = startUploadSweep(t.hub, { now: later, intervalMs: 20 });
    await sweep.stop();
    expect(await remaining()).not.toContain(first);

    const second = await upload(widgetA, s, unique());
    await new Promise((r) => setTimeout(r, 100));
    expect(await remaining()).toEqual([second]);
  });

  it.skipIf(embedded)('skips an upload a message is claiming right now instead of waiting for it', async () => {
    const s = await session(widgetA);
    const id = await upload(widgetA, s, unique());
    let release!: () => void;
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const claiming = t.hub.db.transaction(async (tx) => {
      await tx.query(`SELECT id FROM uploads WHERE id = $1 FOR UPDATE`, [id]);
      locked();
      await new Promise<void>((r) => (release = r));
    });
    await isLocked;
    try {
      expect(await sweepUploads(deps, { retentionMs: DAY, now: later })).toEqual({ uploads: 0, blobs: 0 });
    } finally {
      release();
      await claiming;
    }
    expect(await remaining()).toEqual([id]);
  });
});
