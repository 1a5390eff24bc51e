import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findInstallation } from '../../storage/repositories/channels.js';
import { insertAttachments } from '../../storage/repositories/messages.js';
import { withAccount } from '../../storage/session.js';
import { attachmentPath } from './webchat-visitor.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';

let t: TestHub;
let acct: TestAccount;
const WIDGET = 'files-widget';
const SMALL = 'small-files-widget';
const SECRETS = { identitySecret: 'identity-secret-of-the-shop', sessionSecret: 'session-secret-of-the-shop' };

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('rest of a png')]);
const PDF = Buffer.from('%PDF-1.7\n1 0 obj\n<<>>\nendobj\n');

beforeAll(async () => {
  t = await startTestHub();
  acct = await createTestAccount(t, { channelKey: WIDGET, secrets: SECRETS, config: { allowedOrigins: ['*'] } });
  await createTestAccount(t, { channelKey: SMALL, secrets: SECRETS, config: { uploads: { maxBytes: 100, types: ['text/plain'] } } });
});
afterAll(() => t?.close());

interface Session {
  visitorId: string;
  visitorToken: string;
}
interface Attachment {
  id: string;
  kind: string;
  name: string | null;
  mimeType: string | null;
  size: number | null;
  url: string;
}

const startSession = async (widget = WIDGET): Promise<Session> => (await t.app.inject({ method: 'POST', url: `/webchat/${widget}/sessions`, payload: {} })).json();
const visitorHeaders = (s: Session) => ({ authorization: `Visitor ${s.visitorToken}`, 'x-visitor-id': s.visitorId });
const upload = (s: Session, name: string, type: string, body: Buffer | string, widget = WIDGET) =>
  t.app.inject({ method: 'POST', url: `/webchat/${widget}/uploads?name=${encodeURIComponent(name)}`, headers: { ...visitorHeaders(s), 'content-type': type }, payload: body });
const send = (s: Session, body: Record<string, unknown>) =>
  t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/messages`, headers: visitorHeaders(s), payload: { clientMessageId: randomUUID(), ...body } });
const history = async (s: Session) =>
  (await t.app.inject({ method: 'GET', url: `/webchat/${WIDGET}/messages`, headers: visitorHeaders(s) })).json().items as { id: string; direction: string; text: string; attachments: Attachment[] }[];
const agent = (method: 'GET' | 'POST', path: string, payload?: Record<string, unknown>) =>
  t.app.inject({ method, url: `/api/v1${path}`, headers: { authorization: `Bearer ${acct.users.agent.token}` }, ...(payload ? { payload } : {}) });
const count = (sql: string) => withAccount(t.hub.db, acct.accountId, async (tx) => Number((await tx.query<{ n: string }>(sql)).rows[0]!.n));

describe('web chat visitor uploads', () => {
  it('stores an allowed file, sends it with a message, and shows it to the agent and the visitor', async () => {
    const s = await startSession();
    const up = await upload(s, 'receipt.png', 'image/png', PNG);
    expect(up.statusCode, up.body).toBe(201);
    expect(up.json()).toMatchObject({ name: 'receipt.png', mimeType: 'image/png', size: PNG.length });

    const sent = await send(s, { text: '', attachments: [up.json().id] });
    expect(sent.statusCode, sent.body).toBe(202);
    const { conversationId, messageId } = sent.json();

    const messages = (await agent('GET', `/conversations/${conversationId}/messages`)).json().items as { id: string; attachments: Attachment[] }[];
    expect(messages.find((m) => m.id === messageId)!.attachments).toEqual([expect.objectContaining({ kind: 'image', name: 'receipt.png', mimeType: 'image/png', size: PNG.length })]);

    const [mine] = await history(s);
    expect(mine!.attachments).toHaveLength(1);
    const download = await t.app.inject({ method: 'GET', url: mine!.attachments[0]!.url });
    expect(download.statusCode).toBe(200);
    expect(download.rawPayload.equals(PNG)).toBe(true);
    expect(download.headers['content-disposition']).toBe(`attachment; filename="receipt.png"; filename*=UTF-8''receipt.png`);
    expect(download.headers['x-content-type-options']).toBe('nosniff');
  });

  it("gives the visitor a signed link to the agent's reply attachment, and serves unsafe types as plain bytes", async () => {
    const s = await startSession();
    const { conversationId } = (await send(s, { text: 'can you send the manual?' })).json();
    const html = Buffer.from('<script>alert(1)</script>');
    const reply = await agent('POST', `/conversations/${conversationId}/reply`, {
      text: 'Here you go',
      attachments: [{ name: 'manual.pdf', mimeType: 'application/pdf', contentBase64: PDF.toString('base64') }, { name: 'page.html', mimeType: 'text/html', contentBase64: html.toString('base64') }],
    });
    expect(reply.statusCode, reply.body).toBe(202);
    const outbound = (await history(s)).find((m) => m.direction === 'outbound')!;
    const [pdf, page] = outbound.attachments;
    const pdfRes = await t.app.inject({ method: 'GET', url: pdf!.url });
    expect(pdfRes.headers['content-type']).toBe('application/pdf');
    expect(pdfRes.rawPayload.equals(PDF)).toBe(true);
    const htmlRes = await t.app.inject({ method: 'GET', url: page!.url });
    expect(htmlRes.headers['content-type']).toBe('application/octet-stream');
    expect(htmlRes.headers['content-security-policy']).toContain('sandbox');
  });

  it('never serves an attachment to another visitor, with a tampered link, or from a private note', async () => {
    const owner = await startSession();
    const other = await startSession();
    const { conversationId } = (await send(owner, { text: 'hello' })).json();
    await agent('POST', `/conversations/${conversationId}/reply`, { text: 'file', attachments: [{ name: 'a.txt', mimeType: 'text/plain', contentBase64: Buffer.from('secret').toString('base64') }] });
    const url = new URL((await history(owner)).find((m) => m.direction === 'outbound')!.attachments[0]!.url, 'http://hub');
    const attempt = async (mutate: (u: URL) => void) => {
      const u = new URL(url);
      mutate(u);
      return t.app.inject({ method: 'GET', url: `${u.pathname}${u.search}` });
    };
    expect((await attempt(() => {})).statusCode).toBe(200);
    expect((await attempt((u) => u.searchParams.set('visitorId', other.visitorId))).json().error.code).toBe('attachment_link_invalid');
    expect((await attempt((u) => u.searchParams.set('expires', String(Number(u.searchParams.get('expires')) + 3600)))).statusCode).toBe(403);
    expect((await attempt((u) => u.searchParams.set('expires', '1000'))).statusCode).toBe(403);
    expect((await attempt((u) => (u.pathname = u.pathname.replace(/[^/]+$/u, randomUUID())))).statusCode).toBe(403);

    const note = await agent('POST', `/conversations/${conversationId}/notes`, { text: 'internal' });
    const blobKey = await t.hub.blobs.put(Buffer.from('note'));
    const noteAttachment = await withAccount(t.hub.db, acct.accountId, async (tx) => {
      await insertAttachments(tx, acct.accountId, note.json().id, [{ kind: 'file', name: 'n.txt', mimeType: 'text/plain', size: 4, blobKey }]);
      return (await tx.query<{ id: string }>(`SELECT id FROM attachments WHERE message_id = $1`, [note.json().id])).rows[0]!;
    });
    // A correctly signed link to a note's file still finds nothing: notes are never the visitor's.
    const channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', externalKey: WIDGET }))!;
    const res = await t.app.inject({ method: 'GET', url: attachmentPath(channel, owner.visitorId, noteAttachment.id) });
    expect(res.statusCode).toBe(404);
  });

  it("refuses to send another visitor's upload, an unknown one, or the same upload twice; nothing is written", async () => {
    const a = await startSession();
    const b = await startSession();
    const id = (await upload(a, 'notes.txt', 'text/plain', 'hello')).json().id as string;
    const before = await count(`SELECT count(*) n FROM messages`);
    for (const res of [await send(b, { text: 'mine now', attachments: [id] }), await send(a, { text: 'x', attachments: [randomUUID()] })]) {
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('upload_unknown');
    }
    expect(await count(`SELECT count(*) n FROM messages`)).toBe(before);
    expect((await send(a, { text: 'first', attachments: [id] })).statusCode).toBe(202);
    const again = await send(a, { text: 'second', attachments: [id] });
    expect(again.json().error.code).toBe('upload_unknown');
  });

  it('keeps a resent message idempotent with its attachments', async () => {
    const s = await startSession();
    const id = (await upload(s, 'a.csv', 'text/csv', 'a,b\n1,2\n')).json().id as string;
    const clientMessageId = randomUUID();
    const first = await send(s, { clientMessageId, text: 'data', attachments: [id] });
    const second = await send(s, { clientMessageId, text: 'data', attachments: [id] });
    expect(second.statusCode).toBe(202);
    expect(second.json()).toMatchObject({ messageId: first.json().messageId, duplicate: true });
    expect(await count(`SELECT count(*) n FROM attachments a JOIN messages m ON m.id = a.message_id WHERE m.id = '${first.json().messageId}'`)).toBe(1);
  });

  const refusals: [string, () => Promise<{ statusCode: number; json(): { error: { code: string } } }>, number, string][] = [
    ['an SVG (script inside)', async () => upload(await startSession(), 'x.svg', 'image/svg+xml', '<svg onload="alert(1)"/>'), 415, 'upload_type_not_allowed'],
    ['HTML', async () => upload(await startSession(), 'x.html', 'text/html', '<script>alert(1)</script>'), 415, 'upload_type_not_allowed'],
    ['a script claiming to be a PNG', async () => upload(await startSession(), 'x.png', 'image/png', '<script>alert(1)</script>'), 415, 'upload_content_mismatch'],
    ['binary claiming to be text', async () => upload(await startSession(), 'x.txt', 'text/plain', Buffer.from([0, 1, 2, 0xff])), 415, 'upload_content_mismatch'],
    ['an empty file', async () => upload(await startSession(), 'x.txt', 'text/plain', ''), 400, 'upload_empty'],
    ['a name that is only a path', async () => upload(await startSession(), '../', 'text/plain', 'hi'), 400, 'upload_name_invalid'],
    ['a file over the channel limit', async () => upload(await startSession(SMALL), 'big.txt', 'text/plain', 'x'.repeat(101), SMALL), 413, 'upload_too_large'],
    ['a type the channel narrowed away', async () => upload(await startSession(SMALL), 'x.pdf', 'application/pdf', PDF, SMALL), 415, 'upload_type_not_allowed'],
    ['no visitor token', () => t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/uploads?name=a.txt`, headers: { 'content-type': 'text/plain' }, payload: 'hi' }), 401, 'visitor_token_invalid'],
    ['a message with neither text nor files', async () => send(await startSession(), { text: '  ' }), 400, 'validation_failed'],
  ];

  it.each(refusals)('refuses %s → %i %s, nothing stored', async (_name, request, status, code) => {
    const before = await count(`SELECT count(*) n FROM uploads`);
    const res = await request();
    expect(res.statusCode).toBe(status);
    expect(res.json().error.code).toBe(code);
    expect(await count(`SELECT count(*) n FROM uploads`)).toBe(before);
  });

  it('strips directories and control characters from a file name', async () => {
    const res = await upload(await startSession(), 'C:\\fakepath\\report\u0007.txt', 'text/plain', 'hi');
    expect(res.json().name).toBe('report.txt');
  });

  it('uses the 10 MB default limit', async () => {
    const big = Buffer.alloc(10 * 1024 * 1024 + 1, 'a');
    const res = await upload(await startSession(), 'big.txt', 'text/plain', big);
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('upload_too_large');
  });
});

describe('web chat upload quotas', () => {
  it('limits bytes per visitor, per address and per channel with upload_quota_exceeded, and holds under concurrent uploads', async () => {
    const q = await startTestHub({
      jobs: false,
      env: { HUMMDESK_UPLOAD_QUOTA_VISITOR: '1000', HUMMDESK_UPLOAD_QUOTA_ADDRESS: '2000', HUMMDESK_UPLOAD_QUOTA_CHANNEL: '3000', HUMMDESK_PUBLIC_RATE_LIMIT: '1000' },
    });
    try {
      const a = await createTestAccount(q, { channelKey: 'quota-widget', secrets: SECRETS });
      await createTestAccount(q, { channelKey: 'race-widget', secrets: SECRETS });
      const session = async (widget: string, remoteAddress: string): Promise<Session> =>
        (await q.app.inject({ method: 'POST', url: `/webchat/${widget}/sessions`, payload: {}, remoteAddress })).json();
      const put = (s: Session, remoteAddress: string, widget = 'quota-widget') =>
        q.app.inject({ method: 'POST', url: `/webchat/${widget}/uploads?name=notes.txt`, headers: { ...visitorHeaders(s), 'content-type': 'text/plain' }, payload: 'a'.repeat(600), remoteAddress });
      const refusedFor = async (res: Awaited<ReturnType<typeof put>>) => {
        expect(res.statusCode, res.body).toBe(429);
        expect(res.json().error.code).toBe('upload_quota_exceeded');
        return res.json().error.details.scope as string;
      };
      const stored = () => withAccount(q.hub.db, a.accountId, async (tx) => Number((await tx.query<{ n: string }>(`SELECT count(*) n FROM uploads`)).rows[0]!.n));

      // One visitor: 600 fits in 1000, another 600 does not.
      const x = '203.0.113.10';
      const v1 = await session('quota-widget', x);
      expect((await put(v1, x)).statusCode).toBe(201);
      expect(await refusedFor(await put(v1, x))).toBe('visitor');
      // New visitors cost nothing, so their address is limited too: 2000 for everyone behind it.
      expect((await put(await session('quota-widget', x), x)).statusCode).toBe(201);
      expect((await put(await session('quota-widget', x), x)).statusCode).toBe(201);
      expect(await refusedFor(await put(await session('quota-widget', x), x))).toBe('address');
      // IPv4 networks are not grouped, so another address still has room until the channel's 3000 are used.
      expect((await put(await session('quota-widget', '203.0.113.11'), '203.0.113.11')).statusCode).toBe(201);
      expect((await put(await session('quota-widget', '203.0.113.12'), '203.0.113.12')).statusCode).toBe(201);
      expect(await refusedFor(await put(await session('quota-widget', '203.0.113.13'), '203.0.113.13'))).toBe('channel');
      expect(await stored()).toBe(5);

      // Eight uploads of one visitor at once: the quota has room for one, and exactly one is stored.
      const racer = await session('race-widget', '203.0.113.20');
      const results = await Promise.all(Array.from({ length: 8 }, () => put(racer, '203.0.113.20', 'race-widget')));
      expect(results.map((r) => r.statusCode).sort()).toEqual([201, 429, 429, 429, 429, 429, 429, 429]);
    } finally {
      await q.close();
    }
  });
});
