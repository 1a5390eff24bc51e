import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { GraphEmulator, signedWebhook, whatsappWebhooks as wa } from '../../connectors/meta/testing/emulator.js';
import { RetryLaterError, type Job } from '../queue/jobs.js';
import { MEDIA_LIFETIME_MS, mediaFetchHandler } from './media-fetch.js';

/*
 * The media.fetch job on its own, with its clock injected (no job runner: each run is called here):
 * retried with growing delays while WhatsApp keeps the media id (7 days), failed for good past that or
 * after its attempt cap, the failure shown on the message. Downloads fail through the Graph emulator (503).
 */

const SECRET = 'media-fetch-meta-secret';
const NUMBER = '100000000000051';
const BASE_MS = 1_000;

describe('media.fetch: lifetime, growing delays, attempt cap', () => {
  let t: TestHub;
  let graph: GraphEmulator;
  let a: TestAccount;
  let seq = 0;

  beforeAll(async () => {
    graph = await GraphEmulator.start({ latencyMs: [0, 0] });
    graph.addNumber({ id: NUMBER, token: 'media-fetch-token' });
    // No job runner: the test runs the handler itself, with its own clock.
    t = await startTestHub({ jobs: false, env: { HUMMDESK_META_APP_SECRET: SECRET, HUMMDESK_META_VERIFY_TOKEN: 'vt', HUMMDESK_META_GRAPH_URL: graph.url } });
    a = await createTestAccount(t);
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/channels', headers: { authorization: `Bearer ${a.users.admin.token}` }, payload: { kind: 'whatsapp', name: 'WhatsApp', externalKey: NUMBER, secrets: { accessToken: 'media-fetch-token' } } });
    expect(res.statusCode, res.body).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
    await graph?.close();
  });

  /** A customer's image, committed with its file pending; the job that fetches it and when it was sent. */
  async function pendingImage(): Promise<{ job: Job; sentAt: number; conversationId: string; attachmentId: string }> {
    const n = ++seq;
    graph.addMedia(`MEDIA-JOB-${n}`, NUMBER, Buffer.alloc(50_000, n), 'image/jpeg');
    const signed = signedWebhook(SECRET, wa.message(NUMBER, { waId: `35840600000${n}` }, { id: `wamid.JOB-${n}`, type: 'image', image: { id: `MEDIA-JOB-${n}`, mime_type: 'image/jpeg', sha256: 'x' } }));
    expect((await t.app.inject({ method: 'POST', url: '/webhooks/whatsapp', payload: signed.payload, headers: signed.headers })).json().results).toEqual(['created']);
    const row = (await t.hub.db.query<{ id: string; sent_at: Date; conversation_id: string; fetch_state: string }>(
      `SELECT a.id, m.sent_at, m.conversation_id, a.fetch_state FROM attachments a JOIN messages m ON m.id = a.message_id WHERE m.external_id = $1`, [`wamid.JOB-${n}`],
    )).rows[0]!;
    expect(row.fetch_state).toBe('pending');
    return { job: { id: `job-${n}`, accountId: a.accountId, topic: 'media.fetch', payload: { attachmentId: row.id }, attempt: 1 }, sentAt: row.sent_at.getTime(), conversationId: row.conversation_id, attachmentId: row.id };
  }
  const handler = (now: number, maxAttempts = 40) =>
    mediaFetchHandler({ db: t.hub.db, box: t.hub.box, bus: t.hub.bus, blobs: t.hub.blobs, connectors: () => t.hub.connectors, backoffBaseMs: BASE_MS, maxAttempts, now: () => now });
  const stateOf = async (attachmentId: string) =>
    (await t.hub.db.query<{ fetch_state: string; fetch_error: string | null; fetch_attempts: number }>(`SELECT fetch_state, fetch_error, fetch_attempts FROM attachments WHERE id = $1`, [attachmentId])).rows[0]!;
  /** How a run ended: stored or failed (resolved), or the delay it asked to be run again after. */
  const run = async (h: ReturnType<typeof handler>, job: Job): Promise<number | 'done'> => {
    try {
      await h(job);
      return 'done';
    } catch (err) {
      if (err instanceof RetryLaterError) return err.delayMs;
      throw err;
    }
  };

  it('past the media id\'s 7-day life a failed download fails the file at once, and the message shows it', async () => {
    const { job, sentAt, conversationId, attachmentId } = await pendingImage();
    graph.failNextDownloads(1);
    expect(await run(handler(sentAt + MEDIA_LIFETIME_MS + 60_000), job)).toBe('done');
    expect(await stateOf(attachmentId)).toEqual({ fetch_state: 'failed', fetch_error: 'media download answered HTTP 503', fetch_attempts: 1 });
    const messages = await t.app.inject({ method: 'GET', url: `/api/v1/conversations/${conversationId}/messages`, headers: { authorization: `Bearer ${a.users.agent.token}` } });
    expect(messages.json().items.at(-1).attachments).toEqual([expect.objectContaining({ id: attachmentId, fetchState: 'failed' })]);
  });

  it('within its life the delays grow with each failure, and the file is stored when a download succeeds', async () => {
    const { job, sentAt, attachmentId } = await pendingImage();
    graph.failNextDownloads(3);
    const h = handler(sentAt + MEDIA_LIFETIME_MS - 3600_000);
    expect([await run(h, job), await run(h, job), await run(h, job)]).toEqual([BASE_MS, 2 * BASE_MS, 4 * BASE_MS]);
    expect(await stateOf(attachmentId)).toEqual({ fetch_state: 'pending', fetch_error: 'media download answered HTTP 503', fetch_attempts: 3 });
    expect(await run(h, job)).toBe('done');
    expect(await stateOf(attachmentId)).toEqual({ fetch_state: 'stored', fetch_error: null, fetch_attempts: 4 });
    // Stored: a later run of the same job does nothing.
    const downloads = graph.downloads;
    expect(await run(h, job)).toBe('done');
    expect(graph.downloads).toBe(downloads);
  });

  it('the attempt cap fails the file even inside its life', async () => {
    const { job, sentAt, attachmentId } = await pendingImage();
    graph.failNextDownloads(3);
    const h = handler(sentAt + 60_000, 3);
    expect([await run(h, job), await run(h, job), await run(h, job)]).toEqual([BASE_MS, 2 * BASE_MS, 'done']);
    expect(await stateOf(attachmentId)).toMatchObject({ fetch_state: 'failed', fetch_attempts: 3 });
  });
});
