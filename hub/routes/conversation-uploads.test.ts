import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertChannel } from '../../storage/repositories/channels.js';
import { recentUploadBytes } from '../../storage/repositories/uploads.js';
import { withAccount } from '../../storage/session.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { call } from '../testing/seed.js';

/** An agent's files for a reply: POST /conversations/:id/uploads, then `uploadIds` on the reply; the visitor sees and downloads them. */
let t: TestHub;
let acct: TestAccount;
const WIDGET = 'widget-agent-files';
const SECRETS = { identitySecret: 'identity-secret-of-the-shop', sessionSecret: 'session-secret-of-the-shop' };
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('rest of a small png')]);
const PDF = Buffer.from('%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF');

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  acct = await createTestAccount(t, { channelKey: WIDGET, secrets: SECRETS });
});
afterAll(() => t?.close());

interface Session { visitorId: string; visitorToken: string }
const visitorHeaders = (s: Session) => ({ authorization: `Visitor ${s.visitorToken}`, 'x-visitor-id': s.visitorId });

async function visitorConversation(): Promise<{ session: Session; conversationId: string }> {
  const session: Session = (await t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/sessions`, payload: {} })).json();
  const sent = await t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/messages`, headers: visitorHeaders(session), payload: { clientMessageId: randomUUID(), text: 'Can you send me the invoice?' } });
  expect(sent.statusCode, sent.body).toBeLessThan(300);
  const conversationId = (await t.hub.db.query<{ id: string }>(
    `SELECT c.id FROM conversations c JOIN contacts ct ON ct.id = c.contact_id WHERE c.account_id = $1 ORDER BY c.created_at DESC LIMIT 1`, [acct.accountId])).rows[0]!.id;
  return { session, conversationId };
}

const upload = (token: string, conversationId: string, name: string, type: string, body: Buffer) =>
  t.app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/uploads?name=${encodeURIComponent(name)}`, headers: { authorization: `Bearer ${token}`, 'content-type': type }, payload: body });

describe('agent attachments', () => {
  it('uploads files, sends them with the reply, and the visitor sees and downloads them', async () => {
    const { session, conversationId } = await visitorConversation();
    const agent = acct.users.agent.token;
    const png = await upload(agent, conversationId, 'screenshot.png', 'image/png', PNG);
    expect(png.statusCode, png.body).toBe(201);
    expect(png.json()).toMatchObject({ name: 'screenshot.png', mimeType: 'image/png', size: PNG.length, kind: 'image' });
    const pdf = await upload(agent, conversationId, 'invoice 42.pdf', 'application/pdf', PDF);
    expect(pdf.statusCode, pdf.body).toBe(201);

    const reply = await call(t, agent, 'POST', `/api/v1/conversations/${conversationId}/reply`, { text: 'Here you are', uploadIds: [pdf.json().id, png.json().id] });
    expect(reply.statusCode, reply.body).toBe(202);
    // The agent's view: both files, in the order given, with signed links.
    const messages = (await call(t, agent, 'GET', `/api/v1/conversations/${conversationId}/messages`)).json<{ items: { id: string; attachments: { name: string; kind: string; url?: string }[] }[] }>().items;
    const sent = messages.find((m) => m.id === reply.json().id)!;
    expect(sent.attachments.map((a) => [a.name, a.kind])).toEqual([['invoice 42.pdf', 'file'], ['screenshot.png', 'image']]);
    const image = await t.app.inject({ method: 'GET', url: sent.attachments[1]!.url! });
    expect(image.statusCode).toBe(200);
    expect(image.rawPayload.equals(PNG)).toBe(true);
    // What the deliver job reads for email and web chat: stored bytes on the message.
    const rows = await withAccount(t.hub.db, acct.accountId, (tx) => tx.query<{ blob_key: string | null }>(`SELECT blob_key FROM attachments WHERE message_id = $1`, [sent.id]));
    expect(rows.rows.every((r) => r.blob_key)).toBe(true);

    // The visitor's history shows the agent's files with links of their own.
    const history = (await t.app.inject({ method: 'GET', url: `/webchat/${WIDGET}/messages`, headers: visitorHeaders(session) })).json<{ items: { id: string; direction: string; attachments?: { name: string; url: string }[] }[] }>().items;
    const theirs = history.find((m) => m.direction === 'outbound')!;
    expect(theirs.attachments!.map((a) => a.name)).toEqual(['invoice 42.pdf', 'screenshot.png']);
    const download = await t.app.inject({ method: 'GET', url: theirs.attachments![0]!.url });
    expect(download.statusCode).toBe(200);
    expect(download.rawPayload.equals(PDF)).toBe(true);

    // An upload goes out once: sending it again is refused.
    const again = await call(t, agent, 'POST', `/api/v1/conversations/${conversationId}/reply`, { text: 'again', uploadIds: [png.json().id] });
    expect(again.statusCode).toBe(400);
    expect(again.json().error.code).toBe('upload_unknown');
  });

  it('refuses what it cannot check or send, with a stable code, and keeps nothing', async () => {
    const { conversationId } = await visitorConversation();
    const agent = acct.users.agent.token;
    const before = (await t.hub.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM uploads WHERE account_id = $1`, [acct.accountId])).rows[0]!.n;
    const cases: [string, string, Buffer, number, string][] = [
      ['page.html', 'text/html', Buffer.from('<script>alert(1)</script>'), 415, 'upload_type_not_allowed'],
      ['fake.png', 'image/png', Buffer.from('not a png at all'), 415, 'upload_content_mismatch'],
      ['empty.txt', 'text/plain', Buffer.alloc(0), 400, 'upload_empty'],
      ['huge.pdf', 'application/pdf', Buffer.concat([PDF, Buffer.alloc(20 * 1024 * 1024)]), 413, 'upload_too_large'],
    ];
    for (const [name, type, body, status, code] of cases) {
      const res = await upload(agent, conversationId, name, type, body);
      expect(res.statusCode, name).toBe(status);
      expect(res.json().error.code, name).toBe(code);
    }
    expect((await upload(agent, randomUUID(), 'a.png', 'image/png', PNG)).json().error.code).toBe('conversation_not_found');
    expect((await upload(acct.users.viewer.token, conversationId, 'a.png', 'image/png', PNG)).statusCode).toBe(403);
    const after = (await t.hub.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM uploads WHERE account_id = $1`, [acct.accountId])).rows[0]!.n;
    expect(after).toBe(before);
  });

  it('takes files for a linked phone too (it sends them as WhatsApp media)', async () => {
    const wa = await withAccount(t.hub.db, acct.accountId, async (tx) => {
      const channel = await insertChannel(tx, t.hub.box, { accountId: acct.accountId, kind: 'whatsapp-web', name: 'wa', externalKey: `waweb_${randomUUID().replace(/-/g, '')}` });
      const contact = (await tx.query<{ id: string }>(`INSERT INTO contacts (account_id, name) VALUES ($1, 'WA') RETURNING id`, [acct.accountId])).rows[0]!.id;
      return (await tx.query<{ id: string }>(`INSERT INTO conversations (account_id, channel_id, contact_id, thread_key) VALUES ($1, $2, $3, $4) RETURNING id`, [acct.accountId, channel.id, contact, `whatsapp-web:${channel.id}:1`])).rows[0]!.id;
    });
    const res = await upload(acct.users.agent.token, wa, 'a.png', 'image/png', PNG);
    expect(res.statusCode, res.body).toBe(201);
  });

  it('holds a linked phone\'s files to WhatsApp\'s limit per type when the reply is made: nothing stored or queued, the upload kept', async () => {
    const wa = await withAccount(t.hub.db, acct.accountId, async (tx) => {
      const channel = await insertChannel(tx, t.hub.box, { accountId: acct.accountId, kind: 'whatsapp-web', name: 'wa', externalKey: `waweb_${randomUUID().replace(/-/g, '')}` });
      const contact = (await tx.query<{ id: string }>(`INSERT INTO contacts (account_id, name) VALUES ($1, 'WA') RETURNING id`, [acct.accountId])).rows[0]!.id;
      return (await tx.query<{ id: string }>(`INSERT INTO conversations (account_id, channel_id, contact_id, thread_key) VALUES ($1, $2, $3, $4) RETURNING id`, [acct.accountId, channel.id, contact, `whatsapp-web:${channel.id}:2`])).rows[0]!.id;
    });
    const agent = acct.users.agent.token;
    const messages = async () => (await t.hub.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1`, [wa])).rows[0]!.n;
    // WebP goes out as a sticker: 100 KB, or 500 KB when animated (its VP8X header says which).
    const webp = (animated: boolean, size: number) => Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8X'), Buffer.alloc(4), Buffer.from([animated ? 0x02 : 0]), Buffer.alloc(size - 21)]);
    const cases: [string, string, Buffer, string][] = [
      ['scan.png', 'image/png', Buffer.concat([PNG, Buffer.alloc(5 * 1024 * 1024)]), 'image files up to 5 MB'],
      ['wave.webp', 'image/webp', webp(false, 200 * 1024), 'stickers (WebP) up to 100 KB'],
    ];
    for (const [name, type, body, words] of cases) {
      const up = await upload(agent, wa, name, type, body);
      expect(up.statusCode, up.body).toBe(201);
      const res = await call(t, agent, 'POST', `/api/v1/conversations/${wa}/reply`, { text: 'here', uploadIds: [up.json().id] });
      expect(res.statusCode, name).toBe(400);
      expect(res.json().error.code, name).toBe('whatsapp_web_attachment_too_large');
      expect(res.json().error.message, name).toContain(words);
      expect(await messages()).toBe(0);
      expect((await t.hub.db.query(`SELECT 1 FROM uploads WHERE id = $1 AND message_id IS NULL`, [up.json().id])).rowCount, name).toBe(1);
    }
    const animated = await upload(agent, wa, 'dance.webp', 'image/webp', webp(true, 200 * 1024));
    const ok = await call(t, agent, 'POST', `/api/v1/conversations/${wa}/reply`, { text: '', uploadIds: [animated.json().id] });
    expect(ok.statusCode, ok.body).toBe(202);
  });

  it("only the agent who uploaded a file sends it, a visitor can never claim it, and it costs visitors' quota nothing", async () => {
    const { session, conversationId } = await visitorConversation();
    const mine = await upload(acct.users.agent.token, conversationId, 'notes.txt', 'text/plain', Buffer.from('only mine'));
    expect(mine.statusCode).toBe(201);
    const byOther = await call(t, acct.users.admin.token, 'POST', `/api/v1/conversations/${conversationId}/reply`, { text: 'x', uploadIds: [mine.json().id] });
    expect(byOther.json().error.code).toBe('upload_unknown');
    const byVisitor = await t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/messages`, headers: visitorHeaders(session), payload: { clientMessageId: randomUUID(), text: '', attachments: [mine.json().id] } });
    expect(byVisitor.statusCode).toBe(400);
    const quota = await recentUploadBytes(t.hub.db, { channelId: acct.channelId, uploader: session.visitorId, address: 'nobody', since: new Date(Date.now() - 3600_000) });
    expect(quota.channel).toBe(0);
    // A refused reply leaves the upload for the agent to send.
    const ok = await call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${conversationId}/reply`, { text: '', uploadIds: [mine.json().id] });
    expect(ok.statusCode, ok.body).toBe(202);
  });
});
