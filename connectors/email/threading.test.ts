import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelInstallation, InboundEvent } from '../core/types.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../../hub/testing/harness.js';
import { findInstallation } from '../../storage/repositories/channels.js';
import { insertMessage } from '../../storage/repositories/messages.js';
import { withAccount } from '../../storage/session.js';
import { parseEmail } from './parse.js';
import { plusAddress, replyTokenFor } from './thread.js';
import { returnPathFor } from './bounce.js';
import { emailReturnPathKey } from '../../hub/connectors.js';

// Real Postgres through the hub's one ingest path: thread headers first, then the fallbacks.
let t: TestHub;
let acct: TestAccount;
let channel: ChannelInstallation;
const mailbox = 'support@example.com';

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  acct = await createTestAccount(t, { channelKind: 'email', channelKey: mailbox, secrets: {}, config: { address: mailbox } });
  channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'email', id: acct.channelId }))!;
});
afterAll(() => t?.close());

let n = 0;
async function deliver(headers: string[], body = 'hello'): Promise<string> {
  const raw = Buffer.from([...headers, `Message-ID: <m${++n}-${Date.now()}@customer.example>`, 'Date: Mon, 03 Jun 2024 10:00:00 +0000', '', body].join('\r\n'));
  const parsed = await parseEmail(raw, { channelId: channel.id, mailbox });
  const [outcome] = await t.hub.ingest.ingest(channel, [parsed.event as InboundEvent]);
  expect(outcome!.result).toBe('created');
  return outcome!.conversationId!;
}

/** Stands in for the delivery worker having sent our reply with this Message-ID. */
async function storeOutbound(conversationId: string, externalId: string): Promise<void> {
  await withAccount(t.hub.db, acct.accountId, (tx) =>
    insertMessage(tx, { accountId: acct.accountId, conversationId, channelId: channel.id, direction: 'outbound', authorKind: 'agent', text: 'our answer', externalId, deliveryStatus: 'sent' }),
  );
}

describe('email threading through ingest', () => {
  it('joins replies by References, by In-Reply-To alone, by reply token and by subject', async () => {
    const first = await deliver(['From: Jane <jane@customer.example>', `To: ${mailbox}`, 'Subject: Printer on fire']);
    const ours = `hd-${crypto.randomUUID()}@example.com`;
    await storeOutbound(first, ours);

    // A well-behaved client: References root is the customer's first message.
    const rows = await withAccount(t.hub.db, acct.accountId, (tx) => tx.query<{ external_id: string }>(`SELECT external_id FROM messages WHERE conversation_id = $1 AND direction = 'inbound'`, [first]));
    const root = rows.rows[0]!.external_id;
    expect(await deliver(['From: jane@customer.example', `To: ${mailbox}`, 'Subject: Re: Printer on fire', `In-Reply-To: <${ours}>`, `References: <${root}> <${ours}>`])).toBe(first);
    // Outlook-style: References dropped, In-Reply-To names our reply only.
    expect(await deliver(['From: jane@customer.example', `To: ${mailbox}`, 'Subject: RE: Printer on fire', `In-Reply-To: <${ours}>`])).toBe(first);
    // All thread headers gone, but the reply went to our plus-address.
    expect(await deliver(['From: jane@customer.example', `To: ${plusAddress(mailbox, replyTokenFor(first))}`, 'Subject: something else'])).toBe(first);
    // Nothing but the subject: same contact, reply prefix, within the window.
    expect(await deliver(['From: jane@customer.example', `To: ${mailbox}`, 'Subject: AW: Re: printer  on FIRE'])).toBe(first);
  });

  it('opens a new conversation for a new subject, another contact, or an unknown reply token', async () => {
    const first = await deliver(['From: bob@customer.example', `To: ${mailbox}`, 'Subject: Invoice question']);
    expect(await deliver(['From: bob@customer.example', `To: ${mailbox}`, 'Subject: Delivery date'])).not.toBe(first);
    expect(await deliver(['From: eve@other.example', `To: ${mailbox}`, 'Subject: Re: Invoice question'])).not.toBe(first);
    expect(await deliver(['From: bob@customer.example', `To: ${plusAddress(mailbox, replyTokenFor(crypto.randomUUID()))}`, 'Subject: hi'])).not.toBe(first);
  });

  it('a redelivered message is a duplicate, not a second message', async () => {
    const raw = Buffer.from(['From: ann@customer.example', `To: ${mailbox}`, 'Subject: once', 'Message-ID: <once@customer.example>', '', 'x'].join('\r\n'));
    const parsed = await parseEmail(raw, { channelId: channel.id, mailbox });
    const [a] = await t.hub.ingest.ingest(channel, [parsed.event]);
    const [b] = await t.hub.ingest.ingest(channel, [(await parseEmail(raw, { channelId: channel.id, mailbox })).event]);
    expect(a!.result).toBe('created');
    expect(b).toMatchObject({ result: 'duplicate', conversationId: a!.conversationId });
  });

  it('a bounce marks our outbound message failed with the reason and opens nothing', async () => {
    const conv = await deliver(['From: zed@customer.example', `To: ${mailbox}`, 'Subject: bounce me']);
    const id = crypto.randomUUID();
    const ours = `hd-${id}@example.com`;
    await storeOutbound(conv, ours);
    // Sent back to the reply's own signed return path (VERP), as the delivering MTA does.
    const key = emailReturnPathKey(t.config.secretKey);
    const dsn = Buffer.from([
      'From: Mail Delivery System <MAILER-DAEMON@mx.example.com>', `To: ${returnPathFor(mailbox, id, key)}`, 'Subject: Undelivered Mail Returned to Sender', 'Message-ID: <dsn1@mx.example.com>',
      'MIME-Version: 1.0', 'Content-Type: multipart/report; report-type=delivery-status; boundary=b', '',
      '--b', 'Content-Type: text/plain', '', 'I could not deliver your message.', '',
      '--b', 'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; mx.example.com', '', 'Final-Recipient: rfc822; zed@customer.example', 'Action: failed', 'Status: 5.1.1', 'Diagnostic-Code: smtp; 550 5.1.1 <zed@customer.example>: user unknown', '',
      '--b', 'Content-Type: text/rfc822-headers', '', `Message-ID: <${ours}>`, `From: ${mailbox}`, '', '--b--',
    ].join('\r\n'));
    const [o] = await t.hub.ingest.ingest(channel, [(await parseEmail(dsn, { channelId: channel.id, mailbox, returnPathKey: key })).event]);
    expect(o).toMatchObject({ result: 'status', conversationId: conv });
    const m = await withAccount(t.hub.db, acct.accountId, (tx) => tx.query<{ delivery_status: string; delivery_error: string }>(`SELECT delivery_status, delivery_error FROM messages WHERE external_id = $1`, [ours]));
    expect(m.rows[0]).toEqual({ delivery_status: 'failed', delivery_error: 'zed@customer.example: 550 5.1.1 <zed@customer.example>: user unknown' });
  });
});
