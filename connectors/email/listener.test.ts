import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow } from 'imapflow';
import pg from 'pg';
import type { Counter } from 'prom-client';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../../hub/testing/harness.js';
import { startListeners, type Listeners } from '../../hub/listeners.js';
import { withAccount } from '../../storage/session.js';
import { EmailConnector } from './connector.js';

// The mailbox listener's robustness against a real Dovecot and a real Postgres: a message the store
// keeps refusing, the full body beside the visible reply.
const imapUrl = process.env.IMAP_URL;
if (!imapUrl) console.warn('SKIPPED: IMAP_URL is not set (run through scripts/test.sh, which starts Dovecot)');
const imap = imapUrl ? new URL(imapUrl) : undefined;
const password = process.env.IMAP_PASSWORD ?? 'hummdesk';
const run = randomBytes(4).toString('hex');
const support = `listener-${run}@example.test`;

let t: TestHub;
let acct: TestAccount;
let listeners: Listeners | undefined;
let admin: pg.Client;

async function append(user: string, raws: string[]): Promise<void> {
  const c = new ImapFlow({ host: imap!.hostname, port: Number(imap!.port), secure: false, auth: { user, pass: password }, logger: false });
  await c.connect();
  for (const raw of raws) await c.append('INBOX', raw);
  await c.logout();
}

let seq = 0;
function customerMail(subject: string, body: string): { raw: string; id: string } {
  const id = `l${++seq}-${run}@customer.example`;
  return { id, raw: [`From: Jane Customer <jane-${run}@customer.example>`, `To: ${support}`, `Subject: ${subject}`, `Message-ID: <${id}>`, `Date: ${new Date().toUTCString()}`, '', body, ''].join('\r\n') };
}

interface Stored {
  id: string;
  externalId: string;
  conversationId: string;
  text: string;
  metadata: Record<string, unknown>;
  attachments: string[];
}

async function stored(): Promise<Stored[]> {
  return (
    await withAccount(t.hub.db, acct.accountId, (tx) =>
      tx.query<Stored>(
        `SELECT m.id, m.external_id AS "externalId", m.conversation_id AS "conversationId", m.text, m.metadata,
           array(SELECT a.name FROM attachments a WHERE a.message_id = m.id ORDER BY a.created_at) AS attachments
         FROM messages m WHERE m.channel_id = $1 ORDER BY m.created_at`,
        [acct.channelId],
      ),
    )
  ).rows;
}

beforeAll(async () => {
  if (!imap) return;
  t = await startTestHub({ jobs: false });
  // A real refusal by the store, as a constraint or a bad byte would be: the trigger stands in for the cause, not for our code.
  admin = new pg.Client({ connectionString: t.config.databaseUrl });
  await admin.connect();
  await admin.query(`CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF NEW.text LIKE '%poison-pill%' THEN RAISE EXCEPTION 'refused by the test trigger'; END IF; RETURN NEW; END $$`);
  await admin.query(`CREATE TRIGGER refuse_poison BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_poison()`);
  acct = await createTestAccount(t, {
    channelKind: 'email',
    channelKey: support,
    config: { address: support, imap: { host: imap.hostname, port: Number(imap.port), secure: false, pollMs: 5000 } },
    secrets: { imapPassword: password },
  });
  // Three failed attempts, no waiting between reconnects.
  t.hub.connectors.set('email', new EmailConnector({ egress: t.hub.egress, maxIngestAttempts: 3, backoff: () => 20 }));
}, 60_000);

afterAll(async () => {
  await listeners?.stop();
  await admin?.end();
  await t?.close();
});

describe.skipIf(!imap)('email listener against Dovecot', () => {
  it('a message the store keeps refusing is kept raw with the reason after N attempts, and the mailbox moves on', async () => {
    const before = customerMail('Invoice question', 'Where is my invoice?');
    const poison = customerMail('Broken', 'This one carries a poison-pill.');
    const after = customerMail('Delivery', 'When does my parcel arrive?');
    await append(support, [before.raw, poison.raw, after.raw]);
    listeners = startListeners(t.hub, { rescanMs: 3_600_000 });
    const rows = await eventually(async () => {
      const all = await stored();
      return all.length >= 3 ? all : undefined;
    }, 30_000);
    expect(rows.map((r) => r.externalId)).toEqual([before.id, poison.id, after.id]);
    const kept = rows[1]!;
    expect(kept.text).toBe('This email could not be stored as a message (ingest failed 3 times: refused by the test trigger). The original message is attached.');
    expect(kept.metadata.keptRaw).toEqual({ code: 'ingest_failed', reason: 'ingest failed 3 times: refused by the test trigger' });
    expect(kept.attachments).toEqual(['original.eml']);
    expect(rows[2]!.text).toBe('When does my parcel arrive?');
    // The checkpoint moves just after the commit that made the rows visible, so it is awaited too.
    const checkpoint = await eventually(async () => {
      const cp = await withAccount(t.hub.db, acct.accountId, (tx) => tx.query<{ value: Record<string, unknown> }>(`SELECT value FROM channel_checkpoints WHERE channel_id = $1 AND key = 'imap:INBOX'`, [acct.channelId]));
      const value = cp.rows[0]?.value;
      return value && value.lastUid === 3 ? value : undefined;
    }, 10_000);
    expect(checkpoint).toMatchObject({ lastUid: 3 });
    expect(checkpoint.failing).toBeUndefined();
    const metric = (await (t.hub.metrics.registry.getSingleMetric('hummdesk_messages_kept_raw_total') as Counter).get()).values;
    expect(metric).toEqual([expect.objectContaining({ value: 1, labels: { kind: 'email', code: 'ingest_failed' } })]);
  }, 60_000);

  it('keeps the full body beside the visible reply and serves it in the message API', async () => {
    const reply = customerMail('Re: Delivery', 'Still nothing arrived.\n\nOn Mon, 3 Mar 2025 at 10:00, Support <support@example.test> wrote:\n> It ships today.');
    await append(support, [reply.raw]);
    const row = await eventually(async () => (await stored()).find((r) => r.externalId === reply.id), 20_000);
    expect(row.text).toBe('Still nothing arrived.');
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/conversations/${row.conversationId}/messages`, headers: { authorization: `Bearer ${acct.users.agent.token}` } });
    expect(res.statusCode).toBe(200);
    const msg = res.json<{ items: { id: string; text: string; fullText: string | null }[] }>().items.find((m) => m.id === row.id)!;
    expect(msg.text).toBe('Still nothing arrived.');
    expect(msg.fullText).toBe('Still nothing arrived.\n\nOn Mon, 3 Mar 2025 at 10:00, Support <support@example.test> wrote:\n> It ships today.\n');
  }, 30_000);

  it('moves or flags processed mail only once it is stored', async () => {
    const mover = `mover-${run}@example.test`;
    const flagger = `flagger-${run}@example.test`;
    const channel = (address: string, processed: unknown) => createTestAccount(t, { channelKind: 'email', channelKey: address, config: { address, processed, imap: { host: imap!.hostname, port: Number(imap!.port), secure: false, pollMs: 5000 } }, secrets: { imapPassword: password } });
    const [moveAcct, flagAcct] = [await channel(mover, { moveTo: 'Processed' }), await channel(flagger, { flag: '\\Seen' })];
    await append(mover, [customerMail('Move me', 'one').raw, customerMail('Move me too', 'two').raw]);
    await append(flagger, [customerMail('Flag me', 'three').raw]);
    await listeners!.refresh();
    const count = (a: TestAccount) => withAccount(t.hub.db, a.accountId, async (tx) => Number((await tx.query<{ n: string }>(`SELECT count(*) n FROM messages WHERE channel_id = $1`, [a.channelId])).rows[0]!.n));
    await eventually(async () => (await count(moveAcct)) === 2 && (await count(flagAcct)) === 1, 20_000);
    const look = async (user: string, folder: string) => {
      const c = new ImapFlow({ host: imap!.hostname, port: Number(imap!.port), secure: false, auth: { user, pass: password }, logger: false });
      await c.connect();
      const status = (await c.status(folder, { messages: true, unseen: true })) as { messages?: number; unseen?: number };
      await c.logout();
      return status;
    };
    // The move follows the commit on the listener's connection; wait for it rather than assume its timing.
    await eventually(async () => (await look(mover, 'INBOX')).messages === 0, 10_000);
    expect((await look(mover, 'Processed')).messages).toBe(2);
    await eventually(async () => (await look(flagger, 'INBOX')).unseen === 0, 10_000);
    expect((await look(flagger, 'INBOX')).messages).toBe(1);
  }, 40_000);
});
