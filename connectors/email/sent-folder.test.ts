import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow } from 'imapflow';
import { SMTPServer } from 'smtp-server';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../../hub/testing/harness.js';
import { startListeners, type Listeners } from '../../hub/listeners.js';
import { withAccount } from '../../storage/session.js';
import { parseEmail } from './parse.js';

// The copy of a sent reply in the mailbox's Sent folder, against a real Dovecot (scripts/services/dovecot.sh
// gives every mailbox a Sent folder) and real Postgres: the reply goes from the agent API through the
// job queue and SMTP, and the Sent folder is read back over IMAP as a mail client would.
const imapUrl = process.env.IMAP_URL;
if (!imapUrl) console.warn('SKIPPED: IMAP_URL is not set (run through scripts/test.sh, which starts Dovecot)');
const imap = imapUrl ? new URL(imapUrl) : undefined;
const password = process.env.IMAP_PASSWORD ?? 'hummdesk';
const run = randomBytes(4).toString('hex');
const customer = `sent-cust-${run}@example.test`;

let t: TestHub;
let listeners: Listeners | undefined;
let smtp: SMTPServer;
/** Every message our SMTP server accepted, as it went out. */
const outgoing: { rcpt: string[]; raw: Buffer }[] = [];

interface Mailbox {
  address: string;
  acct: TestAccount;
}
/** A support mailbox whose channel appends replies to its Sent folder, and one whose channel does not. */
let withSent: Mailbox;
let withoutSent: Mailbox;

function imapAs(user: string): ImapFlow {
  return new ImapFlow({ host: imap!.hostname, port: Number(imap!.port), secure: false, auth: { user, pass: password }, logger: false });
}

/** Every message in one folder of `user`'s mailbox, with its flags. */
async function folder(user: string, path: string): Promise<{ source: Buffer; flags: Set<string> }[]> {
  const c = imapAs(user);
  await c.connect();
  try {
    const lock = await c.getMailboxLock(path);
    try {
      if (!c.mailbox || c.mailbox.exists === 0) return [];
      return (await c.fetchAll('1:*', { source: true, flags: true })).map((m) => ({ source: m.source!, flags: m.flags ?? new Set<string>() }));
    } finally {
      lock.release();
    }
  } finally {
    await c.logout();
  }
}

async function mailbox(name: string, imapConfig: Record<string, unknown>): Promise<Mailbox> {
  const address = `${name}-${run}@example.test`;
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  const acct = await createTestAccount(t, {
    channelKind: 'email',
    channelKey: address,
    config: { address, displayName: 'ACME Support', imap: { host: imap!.hostname, port: Number(imap!.port), secure: false, pollMs: 5000, ...imapConfig }, smtp: { host: '127.0.0.1', port: smtpPort, secure: false, pool: false } },
    secrets: { imapPassword: password, smtpPassword: 'unused' },
  });
  return { address, acct };
}

/** A customer mail into the mailbox's INBOX; resolves to the conversation it opened and its Message-ID. */
async function customerWrites(box: Mailbox, subject: string): Promise<{ conversationId: string; customerId: string }> {
  const customerId = `${subject.replace(/\W/gu, '')}-${run}@customer.example`;
  const raw = [`From: Jane Customer <${customer}>`, `To: ${box.address}`, `Subject: ${subject}`, `Message-ID: <${customerId}>`, `Date: ${new Date().toUTCString()}`, '', 'Where is my order?', ''].join('\r\n');
  const c = imapAs(box.address);
  await c.connect();
  await c.append('INBOX', raw);
  await c.logout();
  const row = await eventually(async () => {
    const r = await withAccount(t.hub.db, box.acct.accountId, (tx) => tx.query<{ conversationId: string }>(`SELECT conversation_id AS "conversationId" FROM messages WHERE channel_id = $1 AND external_id = $2`, [box.acct.channelId, customerId]));
    return r.rows[0];
  }, 20_000);
  return { conversationId: row.conversationId, customerId };
}

/** An agent reply through the API; resolves once it is sent, to its Message-ID. */
async function agentReplies(box: Mailbox, conversationId: string, payload: Record<string, unknown>): Promise<string> {
  const res = await t.app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/reply`, headers: { authorization: `Bearer ${box.acct.users.agent.token}` }, payload });
  expect(res.statusCode).toBe(202);
  const id = res.json<{ id: string }>().id;
  const row = await eventually(async () => {
    const r = await withAccount(t.hub.db, box.acct.accountId, (tx) => tx.query<{ status: string; externalId: string | null; error: string | null }>(`SELECT delivery_status AS status, external_id AS "externalId", delivery_error AS error FROM messages WHERE id = $1`, [id]));
    const one = r.rows[0]!;
    if (one.status === 'failed' || one.status === 'unknown') throw new Error(`delivery ${one.status}: ${one.error}`);
    return one.status === 'sent' ? one : undefined;
  }, 20_000);
  return row.externalId!;
}

beforeAll(async () => {
  if (!imap) return;
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth: (_auth, _session, cb) => cb(null, { user: 'support' }),
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        outgoing.push({ rcpt: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks) });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  t = await startTestHub({ jobs: true });
  withSent = await mailbox('sent-on', { sentFolder: 'Sent' });
  withoutSent = await mailbox('sent-off', {});
  listeners = startListeners(t.hub, { rescanMs: 3_600_000 });
  await eventually(async () => [withSent, withoutSent].every((b) => listeners!.running().includes(b.acct.channelId)));
}, 60_000);

afterAll(async () => {
  await listeners?.stop();
  await t?.close();
  if (smtp) await new Promise<void>((r) => smtp.close(() => r()));
});

describe.skipIf(!imap)('the Sent folder copy of a reply, against Dovecot', () => {
  it('with sentFolder set, the reply is in Sent: the message that went out, threaded, seen, without Bcc', async () => {
    const { conversationId, customerId } = await customerWrites(withSent, 'Order 1234 missing');
    const auditor = `audit-${run}@example.test`;
    const manager = `manager-${run}@example.test`;
    const messageId = await agentReplies(withSent, conversationId, { text: 'It ships today.', cc: [manager], bcc: [auditor] });

    // The copy is appended before the send counts as done, so it is there now.
    const sent = await folder(withSent.address, 'Sent');
    expect(sent).toHaveLength(1);
    const copy = sent[0]!;
    const p = await parseEmail(copy.source, { channelId: 'sent-view' });
    expect(p).toMatchObject({
      messageId,
      inReplyTo: customerId,
      references: [customerId],
      subject: 'Re: Order 1234 missing',
      from: { address: withSent.address },
      to: [customer],
      cc: [manager],
      visibleText: 'It ships today.',
    });
    expect(copy.source.toString()).not.toMatch(/^Bcc:/imu);
    expect(copy.source.toString()).not.toContain(auditor);
    expect(copy.flags.has('\\Seen')).toBe(true);
    // Byte for byte what the SMTP server received, which did go to the Bcc recipient too.
    const out = outgoing.find((o) => o.raw.includes(messageId))!;
    expect(out.rcpt).toEqual([customer, manager, auditor]);
    expect(copy.source.toString().trimEnd()).toBe(out.raw.toString().trimEnd());
    // The reply was not filed anywhere else: the INBOX holds only the customer's mail.
    expect((await folder(withSent.address, 'INBOX')).map((m) => m.source.toString())).toEqual([expect.stringContaining(customerId)]);

    // A second reply is a second copy; the first stays.
    const second = await agentReplies(withSent, conversationId, { text: 'Tracking number follows.' });
    const ids = await Promise.all((await folder(withSent.address, 'Sent')).map(async (m) => (await parseEmail(m.source, { channelId: 'sent-view' })).messageId));
    expect(ids).toEqual([messageId, second]);
  }, 60_000);

  it('without sentFolder, the reply goes out and nothing is appended to Sent', async () => {
    const { conversationId } = await customerWrites(withoutSent, 'Refund please');
    const messageId = await agentReplies(withoutSent, conversationId, { text: 'Refund issued.' });
    expect(outgoing.some((o) => o.raw.includes(messageId))).toBe(true);
    expect(await folder(withoutSent.address, 'Sent')).toEqual([]);
    expect(await folder(withoutSent.address, 'INBOX')).toHaveLength(1);
  }, 60_000);
});
