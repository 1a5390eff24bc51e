import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../../hub/testing/harness.js';
import { startListeners, type Listeners } from '../../hub/listeners.js';
import { withAccount } from '../../storage/session.js';
import { parseEmail } from './parse.js';

// End to end against a real Dovecot (IMAP + LMTP, scripts/services/dovecot.sh), real Postgres and
// an SMTP server of our own that delivers into Dovecot over LMTP: mailbox → conversation → reply → mailbox.
const imapUrl = process.env.IMAP_URL;
if (!imapUrl) console.warn('SKIPPED: IMAP_URL is not set (run through scripts/test.sh, which starts Dovecot)');
const imap = imapUrl ? new URL(imapUrl) : undefined;
const lmtp = process.env.LMTP_URL ? new URL(process.env.LMTP_URL) : undefined;
const password = process.env.IMAP_PASSWORD ?? 'hummdesk';
const run = randomBytes(4).toString('hex');
const support = `support-${run}@example.test`;
const customer = `cust-${run}@example.test`;

let t: TestHub;
let acct: TestAccount;
let listeners: Listeners | undefined;
let smtp: SMTPServer;
/** Every envelope our SMTP server accepted: who a reply really went to, Bcc included. */
const envelopes: { rcpt: string[]; raw: Buffer }[] = [];

function imapAs(user: string): ImapFlow {
  return new ImapFlow({ host: imap!.hostname, port: Number(imap!.port), secure: false, auth: { user, pass: password }, logger: false });
}

async function append(user: string, raw: string): Promise<void> {
  const c = imapAs(user);
  await c.connect();
  await c.append('INBOX', raw);
  await c.logout();
}

let seq = 0;
function customerMail(subject: string, body: string, extra: string[] = []): { raw: string; id: string } {
  const id = `c${++seq}-${run}@customer.example`;
  return { id, raw: [`From: Jane Customer <${customer}>`, `To: ${support}`, `Subject: ${subject}`, `Message-ID: <${id}>`, `Date: ${new Date().toUTCString()}`, ...extra, '', body, ''].join('\r\n') };
}

async function inbound(): Promise<{ externalId: string; conversationId: string; text: string }[]> {
  return (
    await withAccount(t.hub.db, acct.accountId, (tx) =>
      tx.query<{ externalId: string; conversationId: string; text: string }>(
        `SELECT external_id AS "externalId", conversation_id AS "conversationId", text FROM messages WHERE channel_id = $1 AND direction = 'inbound' ORDER BY created_at`,
        [acct.channelId],
      ),
    )
  ).rows;
}

/** Waits for an outbound message to be sent and returns its Message-ID. */
async function sentId(messageId: string): Promise<string> {
  const row = await eventually(async () => {
    const r = await withAccount(t.hub.db, acct.accountId, (tx) => tx.query<{ status: string; externalId: string | null; error: string | null }>(`SELECT delivery_status AS status, external_id AS "externalId", delivery_error AS error FROM messages WHERE id = $1`, [messageId]));
    const one = r.rows[0]!;
    if (one.status === 'failed' || one.status === 'unknown') throw new Error(`delivery ${one.status}: ${one.error}`);
    return one.status === 'sent' ? one : undefined;
  }, 20_000);
  return row.externalId!;
}

/** The raw mail in `user`'s INBOX whose source contains `needle`, once it has arrived. */
async function mailIn(user: string, needle: string): Promise<Buffer> {
  const c = imapAs(user);
  await c.connect();
  try {
    return await eventually(async () => {
      const lock = await c.getMailboxLock('INBOX');
      try {
        const all = await c.fetchAll('1:*', { source: true });
        return all.map((m) => m.source!).find((s) => s.includes(needle));
      } catch {
        return undefined;
      } finally {
        lock.release();
      }
    }, 20_000);
  } finally {
    await c.logout();
  }
}

beforeAll(async () => {
  if (!imap) return;
  // The customer's outgoing server: accepts anything on loopback and hands it to Dovecot over LMTP.
  const toDovecot = nodemailer.createTransport({ host: lmtp!.hostname, port: Number(lmtp!.port), lmtp: true, secure: false, ignoreTLS: true } as never);
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth: (_auth, _session, cb) => cb(null, { user: 'support' }),
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        envelopes.push({ rcpt: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks) });
        toDovecot
          .sendMail({ envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address) }, raw: Buffer.concat(chunks) })
          .then(() => cb(), (err: Error) => cb(err));
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  t = await startTestHub({ jobs: true });
  acct = await createTestAccount(t, {
    channelKind: 'email',
    channelKey: support,
    config: { address: support, displayName: 'ACME Support', plusAddressing: true, imap: { host: imap.hostname, port: Number(imap.port), secure: false, pollMs: 5000 }, smtp: { host: '127.0.0.1', port: smtpPort, secure: false, pool: false } },
    secrets: { imapPassword: password, smtpPassword: 'unused' },
  });
  listeners = startListeners(t.hub, { rescanMs: 3_600_000 });
  await eventually(async () => listeners!.running().includes(acct.channelId));
}, 60_000);

afterAll(async () => {
  await listeners?.stop();
  await t?.close();
  if (smtp) await new Promise<void>((r) => smtp.close(() => r()));
});

describe.skipIf(!imap)('email channel against Dovecot', () => {
  let conversationId: string;
  let ourMessageId: string;

  it('mail appended to the support mailbox becomes a conversation (IDLE)', async () => {
    const mail = customerMail('Router keeps rebooting', 'My router reboots every hour.\n\nSent from my iPhone');
    await append(support, mail.raw);
    const rows = await eventually(async () => (await inbound()).find((m) => m.externalId === mail.id), 20_000);
    expect(rows.text).toBe('My router reboots every hour.');
    conversationId = rows.conversationId;
  });

  it('an agent reply reaches the customer mailbox with threading headers', async () => {
    const res = await t.app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/reply`, headers: { authorization: `Bearer ${acct.users.agent.token}` }, payload: { text: 'Please update the firmware.' } });
    expect(res.statusCode).toBe(202);
    const messageId = res.json<{ id: string }>().id;
    const sent = await eventually(async () => {
      const r = await withAccount(t.hub.db, acct.accountId, (tx) => tx.query<{ status: string; externalId: string | null; error: string | null }>(`SELECT delivery_status AS status, external_id AS "externalId", delivery_error AS error FROM messages WHERE id = $1`, [messageId]));
      const row = r.rows[0]!;
      if (row.status === 'failed' || row.status === 'unknown') throw new Error(`delivery ${row.status}: ${row.error}`);
      return row.status === 'sent' ? row : undefined;
    }, 20_000);
    ourMessageId = sent.externalId!;
    expect(ourMessageId).toBe(`hd-${messageId}@example.test`);
    const c = imapAs(customer);
    await c.connect();
    const raw = await eventually(async () => {
      const lock = await c.getMailboxLock('INBOX');
      try {
        const all = await c.fetchAll('1:*', { source: true });
        return all.map((m) => m.source!).find((s) => s.includes(ourMessageId));
      } catch {
        return undefined;
      } finally {
        lock.release();
      }
    }, 20_000);
    await c.logout();
    const p = await parseEmail(raw, { channelId: 'customer-view' });
    const first = (await inbound())[0]!.externalId;
    expect(p).toMatchObject({ messageId: ourMessageId, inReplyTo: first, references: [first], subject: 'Re: Router keeps rebooting', visibleText: 'Please update the firmware.', from: { address: support } });
  });

  it("the customer's reply, References dropped, joins the same conversation", async () => {
    const threaded = customerMail('Re: Router keeps rebooting', 'Updated, still rebooting.\n\nOn Tue, Support wrote:\n> Please update the firmware.', [`In-Reply-To: <${ourMessageId}>`]);
    const sender = nodemailer.createTransport({ host: '127.0.0.1', port: (smtp.server.address() as AddressInfo).port, secure: false, ignoreTLS: true });
    await sender.sendMail({ envelope: { from: customer, to: [support] }, raw: threaded.raw });
    const a = await eventually(async () => (await inbound()).find((m) => m.externalId === threaded.id), 20_000);
    expect(a).toMatchObject({ conversationId, text: 'Updated, still rebooting.' });
  });

  it('a customer mail with Cc: the agent reply copies them and they receive it; the support mailbox is never copied', async () => {
    const copied = `cc-${run}@example.test`;
    const mail = customerMail('Invoice for our team', 'Please send the invoice to both of us.', [`Cc: Bob Partner <${copied}>, ${support}`]);
    await append(support, mail.raw);
    const { conversationId: ccConversation } = await eventually(async () => (await inbound()).find((m) => m.externalId === mail.id), 20_000);
    const agent = acct.users.agent.token;
    const detail = await t.app.inject({ method: 'GET', url: `/api/v1/conversations/${ccConversation}`, headers: { authorization: `Bearer ${agent}` } });
    expect(detail.json<{ cc: string[] }>().cc).toEqual([copied]);

    const res = await t.app.inject({ method: 'POST', url: `/api/v1/conversations/${ccConversation}/reply`, headers: { authorization: `Bearer ${agent}` }, payload: { text: 'Invoice attached for both of you.' } });
    expect(res.statusCode).toBe(202);
    const messageId = await sentId(res.json<{ id: string }>().id);
    const p = await parseEmail(await mailIn(copied, messageId), { channelId: 'cc-view' });
    expect(p).toMatchObject({ messageId, to: [customer], cc: [copied], inReplyTo: mail.id, visibleText: 'Invoice attached for both of you.' });
    await mailIn(customer, messageId);
    expect(envelopes.find((e) => e.raw.includes(messageId))!.rcpt).toEqual([customer, copied]);

    // The copied person answers everyone: the answer joins the thread and the list stays as it was.
    const fromBob = [`From: Bob Partner <${copied}>`, `To: ${support}`, `Cc: ${customer}`, 'Subject: Re: Invoice for our team', `Message-ID: <bob-${run}@example.test>`, `In-Reply-To: <${messageId}>`, `Date: ${new Date().toUTCString()}`, '', 'Got it, thanks.', ''].join('\r\n');
    await append(support, fromBob);
    expect(await eventually(async () => (await inbound()).find((m) => m.externalId === `bob-${run}@example.test`), 20_000)).toMatchObject({ conversationId: ccConversation });
    const after = await t.app.inject({ method: 'GET', url: `/api/v1/conversations/${ccConversation}`, headers: { authorization: `Bearer ${agent}` } });
    expect(after.json<{ cc: string[] }>().cc).toEqual([copied, customer]);
  }, 60_000);

  it('an agent sets Cc and Bcc on a reply: bad addresses are refused, the Bcc recipient gets it without a trace in the headers', async () => {
    const agent = acct.users.agent.token;
    const reply = (payload: Record<string, unknown>) => t.app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/reply`, headers: { authorization: `Bearer ${agent}` }, payload });
    const bad = await reply({ text: 'x', cc: ['not an address'] });
    expect(bad.statusCode).toBe(400);
    const tooMany = await reply({ text: 'x', bcc: Array.from({ length: 51 }, (_, i) => `p${i}@example.test`) });
    expect(tooMany.statusCode).toBe(400);

    const manager = `manager-${run}@example.test`;
    const auditor = `audit-${run}@example.test`;
    const res = await reply({ text: 'Looping in our manager.', cc: [manager, support], bcc: [auditor] });
    expect(res.statusCode).toBe(202);
    const messageId = await sentId(res.json<{ id: string }>().id);
    const forManager = await parseEmail(await mailIn(manager, messageId), { channelId: 'cc-view' });
    expect(forManager).toMatchObject({ messageId, to: [customer], cc: [manager] });
    const forAuditor = await mailIn(auditor, messageId);
    expect(forAuditor.toString()).not.toMatch(/^Bcc:|audit-/imu);
    expect(envelopes.find((e) => e.raw.includes(messageId))!.rcpt).toEqual([customer, manager, auditor]);
    // Cc is now the conversation's list for later replies; Bcc was for that reply only.
    const detail = await t.app.inject({ method: 'GET', url: `/api/v1/conversations/${conversationId}`, headers: { authorization: `Bearer ${agent}` } });
    expect(detail.json<{ cc: string[] }>().cc).toEqual([manager, support]);
    const next = await reply({ text: 'One more thing.' });
    const nextId = await sentId(next.json<{ id: string }>().id);
    await mailIn(manager, nextId);
    expect(envelopes.find((e) => e.raw.includes(nextId))!.rcpt).toEqual([customer, manager]);
  }, 60_000);

  it('an inline image keeps its Content-ID, and the attachment route serves its bytes to viewers of that conversation only', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const cid = `screenshot-${run}@customer.example`;
    const id = `cid-${run}@customer.example`;
    const raw = [`From: Jane Customer <${customer}>`, `To: ${support}`, 'Subject: Error screenshot', `Message-ID: <${id}>`, `Date: ${new Date().toUTCString()}`, 'MIME-Version: 1.0', 'Content-Type: multipart/related; boundary="rel"', '',
      '--rel', 'Content-Type: text/html; charset=utf-8', '', `<p>See this:</p><img src="cid:${cid}">`,
      '--rel', 'Content-Type: image/png; name="fehler ä.png"', `Content-ID: <${cid}>`, 'Content-Disposition: inline; filename*=utf-8\'\'fehler%20%C3%A4.png', 'Content-Transfer-Encoding: base64', '', png.toString('base64'), '--rel--', ''].join('\r\n');
    await append(support, raw);
    const row = await eventually(async () => (await inbound()).find((m) => m.externalId === id), 20_000);
    const viewer = acct.users.viewer.token;
    const get = (url: string) => t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${viewer}` } });
    const messages = (await get(`/api/v1/conversations/${row.conversationId}/messages`)).json<{ items: { externalId: string; html: string; attachments: { id: string; name: string; mimeType: string; contentId: string | null }[] }[] }>().items;
    const msg = messages.find((m) => m.externalId === id)!;
    expect(msg.html).toContain(`src="cid:${cid}"`);
    expect(msg.attachments).toEqual([expect.objectContaining({ name: 'fehler ä.png', mimeType: 'image/png', contentId: cid })]);

    const file = await get(`/api/v1/conversations/${row.conversationId}/attachments/${msg.attachments[0]!.id}`);
    expect(file.statusCode).toBe(200);
    expect(file.rawPayload.equals(png)).toBe(true);
    expect(file.headers['content-type']).toBe('image/png');
    expect(file.headers['content-disposition']).toBe(`attachment; filename="fehler _.png"; filename*=UTF-8''fehler%20%C3%A4.png`);
    expect(file.headers['x-content-type-options']).toBe('nosniff');
    // Another conversation's id does not reach it.
    const elsewhere = await get(`/api/v1/conversations/${conversationId}/attachments/${msg.attachments[0]!.id}`);
    expect(elsewhere.statusCode).toBe(404);
    expect(elsewhere.json().error.code).toBe('attachment_not_found');
  }, 40_000);

  it('restarting the listener and Dovecot while mail arrives loses and duplicates nothing', async () => {
    const ids: string[] = [];
    const add = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const m = customerMail(`Batch ${run} ${ids.length}`, `message ${ids.length}`);
        ids.push(m.id);
        await append(support, m.raw);
      }
    };
    await add(3);
    await listeners!.stop();
    await add(3); // arrives while nobody listens
    listeners = startListeners(t.hub, { rescanMs: 3_600_000 });
    await add(2);
    // Dovecot itself goes away and comes back (same data dir), mid-stream.
    const conf = join(process.env.HUMMDESK_SERVICES_DIR ?? '/tmp/hummdesk-services', 'dovecot', 'dovecot.conf');
    execFileSync('doveadm', ['-c', conf, 'stop']);
    execFileSync('bash', ['scripts/services/up.sh'], { env: { ...process.env, HUMMDESK_SERVICES_ONLY: 'dovecot' }, stdio: ['ignore', 'ignore', 'ignore'] });
    await add(2);
    const rows = await eventually(async () => {
      const got = (await inbound()).filter((m) => ids.includes(m.externalId));
      return got.length >= ids.length ? got : undefined;
    }, 60_000);
    expect(rows.map((r) => r.externalId).sort()).toEqual([...ids].sort());
    const cp = await withAccount(t.hub.db, acct.accountId, (tx) => tx.query<{ value: { uidValidity: string; lastUid: number } }>(`SELECT value FROM channel_checkpoints WHERE channel_id = $1 AND key = 'imap:INBOX'`, [acct.channelId]));
    expect(cp.rows[0]!.value.lastUid).toBeGreaterThanOrEqual(ids.length + 2);
  }, 120_000);
});
