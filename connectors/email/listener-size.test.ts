import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow } from 'imapflow';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../../hub/testing/harness.js';
import { startListeners, type Listeners } from '../../hub/listeners.js';
import { withAccount } from '../../storage/session.js';
import { EmailConnector } from './connector.js';

// Message sizes against a real Dovecot: sizes are read first, a large message is fetched on its
// own, and one over the limit is never downloaded; it becomes a notice and the folder moves on.
const imapUrl = process.env.IMAP_URL;
if (!imapUrl) console.warn('SKIPPED: IMAP_URL is not set (run through scripts/test.sh, which starts Dovecot)');
const imap = imapUrl ? new URL(imapUrl) : undefined;
const password = process.env.IMAP_PASSWORD ?? 'hummdesk';
const run = randomBytes(4).toString('hex');
const support = `sizes-${run}@example.test`;
const LIMIT = 512 * 1024;

let t: TestHub;
let acct: TestAccount;
let listeners: Listeners | undefined;

function imapAs(user: string): ImapFlow {
  return new ImapFlow({ host: imap!.hostname, port: Number(imap!.port), secure: false, auth: { user, pass: password }, logger: false });
}

let seq = 0;
function mail(subject: string, bodyBytes: number): { raw: string; id: string } {
  const id = `s${++seq}-${run}@customer.example`;
  const line = 'x'.repeat(76);
  const body = [`${subject} body.`, ...Array.from({ length: Math.ceil(bodyBytes / 78) }, () => line)].join('\r\n');
  return { id, raw: [`From: Jane Customer <jane-${run}@customer.example>`, `To: ${support}`, `Subject: ${subject}`, `Message-ID: <${id}>`, `Date: ${new Date().toUTCString()}`, '', body, ''].join('\r\n') };
}

beforeAll(async () => {
  if (!imap) return;
  t = await startTestHub({ jobs: false });
  acct = await createTestAccount(t, {
    channelKind: 'email',
    channelKey: support,
    config: { address: support, imap: { host: imap.hostname, port: Number(imap.port), secure: false, pollMs: 5000 } },
    secrets: { imapPassword: password },
  });
  // A small limit so the test stays small: the client refuses any literal above LIMIT + 256 KB, so
  // fetching the large message whole would fail the connection on every try and stall the folder.
  t.hub.connectors.set('email', new EmailConnector({ egress: t.hub.egress, parse: { maxMessageBytes: LIMIT }, batchBytes: 200 * 1024, backoff: () => 50 }));
}, 60_000);

afterAll(async () => {
  await listeners?.stop();
  await t?.close();
});

describe.skipIf(!imap)('email listener and message sizes', () => {
  it('stores a message over the limit as a "too large, kept on the server" notice and moves on', async () => {
    const small = mail('Small one', 1_000);
    const huge = mail('Scanned contract', 2 * 1024 * 1024);
    const medium = mail('Photo of the error', 300 * 1024);
    const last = mail('Another small one', 1_000);
    const c = imapAs(support);
    await c.connect();
    for (const m of [small, huge, medium, last]) await c.append('INBOX', m.raw);
    await c.logout();

    listeners = startListeners(t.hub, { rescanMs: 3_600_000 });
    const rows = await eventually(async () => {
      const r = await withAccount(t.hub.db, acct.accountId, (tx) =>
        tx.query<{ externalId: string; text: string; subject: string | null; metadata: Record<string, unknown>; sender: string }>(
          `SELECT m.external_id AS "externalId", m.text, c.subject, m.metadata, ci.address AS sender
           FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN contact_identities ci ON ci.contact_id = c.contact_id
           WHERE m.channel_id = $1 ORDER BY m.created_at, m.external_id`,
          [acct.channelId],
        ),
      );
      return r.rows.length >= 4 ? r.rows : undefined;
    }, 40_000);
    const byId = new Map(rows.map((r) => [r.externalId, r]));
    expect(rows.map((r) => r.externalId).sort()).toEqual([small.id, huge.id, medium.id, last.id].sort());
    const notice = byId.get(huge.id)!;
    expect(notice.text).toBe('This email is too large (2.0 MB; the limit is 0.5 MB) and was not fetched. It is kept on the server, in folder "INBOX" (UID 2).');
    expect(notice).toMatchObject({ subject: 'Scanned contract', sender: `jane-${run}@customer.example` });
    expect(notice.metadata.keptRaw).toMatchObject({ code: 'email_too_large' });
    expect(byId.get(medium.id)!.text).toMatch(/^Photo of the error body\./u);
    expect(byId.get(last.id)!.text).toMatch(/^Another small one body\./u);

    const checkpoint = await eventually(async () => {
      const cp = await withAccount(t.hub.db, acct.accountId, (tx) => tx.query<{ value: { lastUid: number } }>(`SELECT value FROM channel_checkpoints WHERE channel_id = $1 AND key = 'imap:INBOX'`, [acct.channelId]));
      return cp.rows[0]?.value.lastUid === 4 ? cp.rows[0].value : undefined;
    }, 10_000);
    expect(checkpoint.lastUid).toBe(4);
    // The large mail itself is untouched on the server.
    const look = imapAs(support);
    await look.connect();
    expect(((await look.status('INBOX', { messages: true })) as { messages?: number }).messages).toBe(4);
    await look.logout();
  }, 90_000);
});
