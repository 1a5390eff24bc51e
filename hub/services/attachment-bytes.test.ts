import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEmail } from '../../connectors/email/parse.js';
import { findInstallation } from '../../storage/repositories/channels.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';

/** Attachment bytes under concurrency and failure: identical files never collide, a failed reply leaves none behind. */

let t: TestHub;
let a: TestAccount;
let b: TestAccount;
const WIDGET = `bytes-${randomUUID()}`;
const SECRETS = { identitySecret: 'identity-secret-of-the-shop', sessionSecret: 'session-secret-of-the-shop' };

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  a = await createTestAccount(t, { channelKey: WIDGET, secrets: SECRETS });
  b = await createTestAccount(t);
  // A fault the database raises after the reply's checks passed and its bytes were written.
  await t.hub.db.exec(`
    CREATE FUNCTION test_fail_attachment() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF NEW.name = 'fails.bin' THEN RAISE EXCEPTION 'injected attachment failure'; END IF; RETURN NEW; END $$;
    CREATE TRIGGER test_fail_attachment BEFORE INSERT ON attachments FOR EACH ROW EXECUTE FUNCTION test_fail_attachment();`);
});
afterAll(() => t?.close());

const keyOf = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const stored = (bytes: Buffer) => t.hub.blobs.get(keyOf(bytes)).then(() => true, () => false);
const session = async (): Promise<{ visitorId: string; visitorToken: string }> => (await t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/sessions`, payload: {} })).json();
const visitorHeaders = (s: { visitorId: string; visitorToken: string }) => ({ authorization: `Visitor ${s.visitorToken}`, 'x-visitor-id': s.visitorId });
const conversationOfA = async () => {
  const s = await session();
  const sent = await t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/messages`, headers: visitorHeaders(s), payload: { clientMessageId: randomUUID(), text: 'please send the form' } });
  expect(sent.statusCode, sent.body).toBe(202);
  return sent.json().conversationId as string;
};
const reply = (as: TestAccount, conversationId: string, attachments: { name: string; bytes: Buffer }[]) =>
  t.app.inject({
    method: 'POST',
    url: `/api/v1/conversations/${conversationId}/reply`,
    headers: { authorization: `Bearer ${as.users.agent.token}` },
    payload: { text: 'here it is', attachments: attachments.map((f) => ({ name: f.name, mimeType: 'application/octet-stream', contentBase64: f.bytes.toString('base64') })) },
  });

describe('attachment bytes', () => {
  it('takes 8 identical web chat uploads at once', async () => {
    const bytes = Buffer.from(`the same receipt ${randomUUID()}`);
    const sessions = await Promise.all(Array.from({ length: 8 }, () => session()));
    const uploads = await Promise.all(
      sessions.map((s) => t.app.inject({ method: 'POST', url: `/webchat/${WIDGET}/uploads?name=receipt.txt`, headers: { ...visitorHeaders(s), 'content-type': 'text/plain' }, payload: bytes })),
    );
    expect(uploads.map((u) => u.statusCode)).toEqual(Array(8).fill(201));
    expect((await t.hub.blobs.get(keyOf(bytes))).equals(bytes)).toBe(true);
  });

  it('sends a reply with two identical attachments', async () => {
    const conversationId = await conversationOfA();
    const bytes = randomBytes(2048);
    const res = await reply(a, conversationId, [{ name: 'form.pdf', bytes }, { name: 'form-copy.pdf', bytes }]);
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().attachments.map((x: { name: string }) => x.name).sort()).toEqual(['form-copy.pdf', 'form.pdf']);
    for (const x of res.json().attachments as { id: string }[]) {
      const download = await t.app.inject({ method: 'GET', url: `/api/v1/conversations/${conversationId}/attachments/${x.id}`, headers: { authorization: `Bearer ${a.users.agent.token}` } });
      expect(download.rawPayload.equals(bytes)).toBe(true);
    }
  });

  it("writes no bytes for a reply to another tenant's conversation", async () => {
    const conversationId = await conversationOfA();
    const bytes = randomBytes(1024);
    const res = await reply(b, conversationId, [{ name: 'probe.bin', bytes }]);
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('conversation_not_found');
    expect(await stored(bytes)).toBe(false);
  });

  it('removes the bytes a failed reply wrote, and keeps bytes something else stored', async () => {
    const conversationId = await conversationOfA();
    const fresh = randomBytes(1024);
    const shared = randomBytes(1024);
    const kept = await reply(a, conversationId, [{ name: 'shared.bin', bytes: shared }]);
    expect(kept.statusCode, kept.body).toBe(202);

    const res = await reply(a, conversationId, [{ name: 'fails.bin', bytes: fresh }, { name: 'shared-again.bin', bytes: shared }]);
    expect(res.statusCode).toBe(500);
    expect(await stored(fresh)).toBe(false);
    expect(await stored(shared)).toBe(true);
    const messages = (await t.app.inject({ method: 'GET', url: `/api/v1/conversations/${conversationId}/messages`, headers: { authorization: `Bearer ${a.users.agent.token}` } })).json().items;
    expect(messages.filter((m: { direction: string }) => m.direction === 'outbound')).toHaveLength(1);
  });

  it('ingests an email carrying the same file twice', async () => {
    const email = await createTestAccount(t, { channelKind: 'email', channelKey: `support-${randomUUID()}@shop.test`, secrets: {}, config: {} });
    const channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'email', id: email.channelId }))!;
    const file = randomBytes(4096).toString('base64');
    const part = (name: string) => [`--b1`, `Content-Type: application/pdf; name="${name}"`, `Content-Disposition: attachment; filename="${name}"`, 'Content-Transfer-Encoding: base64', '', file].join('\r\n');
    const raw = Buffer.from(
      [
        'From: Carol Customer <carol@example.com>',
        'To: support@shop.test',
        'Subject: Invoice, twice',
        `Message-ID: <${randomUUID()}@example.com>`,
        'Date: Mon, 07 Dec 2026 09:00:00 +0000',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/plain; charset=utf-8',
        '',
        'The invoice is attached (twice, sorry).',
        part('invoice.pdf'),
        part('invoice (1).pdf'),
        '--b1--',
        '',
      ].join('\r\n'),
    );
    const { event } = await parseEmail(raw, { channelId: channel.id });
    const [outcome] = await t.hub.ingest.ingest(channel, [event]);
    expect(outcome!.result).toBe('created');
    const messages = (await t.app.inject({ method: 'GET', url: `/api/v1/conversations/${outcome!.conversationId}/messages`, headers: { authorization: `Bearer ${email.users.agent.token}` } })).json().items;
    expect(messages[0].attachments.map((x: { name: string }) => x.name).sort()).toEqual(['invoice (1).pdf', 'invoice.pdf']);
  });
});
