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
