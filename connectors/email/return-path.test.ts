import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow } from 'imapflow';
import nodemailer, { type Transporter } from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../../hub/testing/harness.js';
import { startListeners, type Listeners } from '../../hub/listeners.js';
import { withAccount } from '../../storage/session.js';

// Bounces end to end: our reply leaves through a real SMTP server with its own return path, Dovecot
// delivers it (and, over LMTP with recipient_delimiter "+", the reports sent back), and the listener
// reads them from the support mailbox. Only the report sent to the reply's return path counts.
const imapUrl = process.env.IMAP_URL;
if (!imapUrl) console.warn('SKIPPED: IMAP_URL is not set (run through scripts/test.sh, which starts Dovecot)');
const imap = imapUrl ? new URL(imapUrl) : undefined;
const lmtp = process.env.LMTP_URL ? new URL(process.env.LMTP_URL) : undefined;
const password = process.env.IMAP_PASSWORD ?? 'hummdesk';
const run = randomBytes(4).toString('hex');
const support = `verp-${run}@example.test`;
const customer = `verp-cust-${run}@example.test`;

let t: TestHub;
let acct: TestAccount;
let listeners: Listeners | undefined;
let smtp: SMTPServer;
let toDovecot: Transporter;
/** The envelope of every message our SMTP server relayed. */
const envelopes: { from: string; rcpt: string[] }[] = [];

function dsn(to: string, original: string): Buffer {
  return Buffer.from([
    'From: Mail Delivery System <MAILER-DAEMON@mx.example.test>', `To: ${to}`, 'Subject: Undelivered Mail Returned to Sender', `Message-ID: <dsn-${randomBytes(6).toString('hex')}@mx.example.test>`, `Date: ${new Date().toUTCString()}`,
    'MIME-Version: 1.0', 'Content-Type: multipart/report; report-type=delivery-status; boundary=b', '',
    '--b', 'Content-Type: text/plain', '', 'I could not deliver your message.', '',
    '--b', 'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; mx.example.test', '', `Final-Recipient: rfc822; ${customer}`, 'Action: failed', 'Status: 5.2.2', 'Diagnostic-Code: smtp; 552 5.2.2 mailbox full', '',
    '--b', 'Content-Type: text/rfc822-headers', '', `Message-ID: <${original}>`, `From: ${support}`, '', '--b--', '',
  ].join('\r\n'));
}

const delivery = async (id: string) =>
  (await withAccount(t.hub.db, acct.accountId, (tx) => tx.query<{ status: string; externalId: string | null; error: string | null }>(`SELECT delivery_status AS status, external_id AS "externalId", delivery_error AS error FROM messages WHERE id = $1`, [id]))).rows[0]!;
const lastUid = async () =>
  ((await withAccount(t.hub.db, acct.accountId, (tx) => tx.query<{ value: { lastUid: number } }>(`SELECT value FROM channel_checkpoints WHERE channel_id = $1 AND key = 'imap:INBOX'`, [acct.channelId]))).rows[0]?.value.lastUid ?? 0);

beforeAll(async () => {
  if (!imap || !lmtp) return;
  toDovecot = nodemailer.createTransport({ host: lmtp.hostname, port: Number(lmtp.port), lmtp: true, secure: false, ignoreTLS: true } as never);
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const rcpt = session.envelope.rcptTo.map((r) => r.address);
        envelopes.push({ from, rcpt });
        toDovecot.sendMail({ envelope: { from, to: rcpt }, raw: Buffer.concat(chunks) }).then(() => cb(), (err: Error) => cb(err));
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  t = await startTestHub({ jobs: true });
  acct = await createTestAccount(t, {
    channelKind: 'email',
    channelKey: support,
    config: { address: support, imap: { host: imap.hostname, port: Number(imap.port), secure: false, pollMs: 3000 }, smtp: { host: '127.0.0.1', port: (smtp.server.address() as AddressInfo).port, secure: false, pool: false } },
    secrets: { imapPassword: password },
  });
  listeners = startListeners(t.hub, { rescanMs: 3_600_000 });
}, 60_000);

afterAll(async () => {
  await listeners?.stop();
  await t?.close();
  toDovecot?.close();
  if (smtp) await new Promise<void>((r) => smtp.close(() => r()));
});

describe.skipIf(!imap || !lmtp)('return paths against Dovecot', () => {
  it("a forged bounce naming our reply's Message-ID changes nothing; the one sent to its return path marks it failed", async () => {
    const first = `first-${run}@customer.example`;
    await toDovecot.sendMail({ envelope: { from: customer, to: [support] }, raw: [`From: ${customer}`, `To: ${support}`, 'Subject: Parcel', `Message-ID: <${first}>`, `Date: ${new Date().toUTCString()}`, '', 'Where is my parcel?', ''].join('\r\n') });
    const conversationId = await eventually(async () =>
      (await withAccount(t.hub.db, acct.accountId, (tx) => tx.query<{ id: string }>(`SELECT conversation_id AS id FROM messages WHERE external_id = $1`, [first]))).rows[0]?.id, 30_000);

    const res = await t.app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/reply`, headers: { authorization: `Bearer ${acct.users.agent.token}` }, payload: { text: 'It ships tomorrow.' } });
    expect(res.statusCode).toBe(202);
    const replyId = res.json<{ id: string }>().id;
    const sent = await eventually(async () => {
      const d = await delivery(replyId);
      if (d.status === 'failed' || d.status === 'unknown') throw new Error(`delivery ${d.status}: ${d.error}`);
      return d.status === 'sent' ? d : undefined;
    }, 30_000);
    const returnPath = envelopes.find((e) => e.rcpt.includes(customer))!.from;
    expect(returnPath).toMatch(new RegExp(`^verp-${run}\\+bounce-[a-z2-7]{39}@example\\.test$`, 'u'));

    // Anyone who has seen the thread knows the Message-ID; a report to the plain mailbox is ignored.
    await toDovecot.sendMail({ envelope: { from: '', to: [support] }, raw: dsn(support, sent.externalId!) });
    await eventually(async () => (await lastUid()) >= 2, 30_000);
    expect(await delivery(replyId)).toMatchObject({ status: 'sent', error: null });

    // The receiving MTA's report goes to the envelope sender; Dovecot files it in the support mailbox.
    await toDovecot.sendMail({ envelope: { from: '', to: [returnPath] }, raw: dsn(returnPath, sent.externalId!) });
    const failed = await eventually(async () => {
      const d = await delivery(replyId);
      return d.status === 'failed' ? d : undefined;
    }, 30_000);
    expect(failed.error).toBe(`${customer}: 552 5.2.2 mailbox full`);

    // Both reports are still in the mailbox, where they arrived.
    const c = new ImapFlow({ host: imap!.hostname, port: Number(imap!.port), secure: false, auth: { user: support, pass: password }, logger: false });
    await c.connect();
    expect(((await c.status('INBOX', { messages: true })) as { messages?: number }).messages).toBe(3);
    await c.logout();
  }, 120_000);
});
