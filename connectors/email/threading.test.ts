import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelInstallation, InboundEvent } from '../core/types.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../../hub/testing/harness.js';
import { findInstallation } from '../../storage/repositories/channels.js';
import { insertMessage } from '../../storage/repositories/messages.js';
import { withAccount } from '../../storage/session.js';
import { call } from '../../hub/testing/seed.js';
import { mailboxConfig } from './config.js';
import { parseEmail } from './parse.js';
import { plusAddress, replyTokenFor } from './thread.js';
import { returnPathFor } from './bounce.js';
import { emailReturnPathKey } from '../../hub/connectors.js';

// Real Postgres through the hub's one ingest path: thread headers first, then the fallbacks.
let t: TestHub;
let acct: TestAccount;
let channel: ChannelInstallation;
const mailbox = 'support@example.com';
/** The authserv-id of the mailbox's own receiving server (channel setting `authservId`). */
const authserv = 'mx.support.example';

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  acct = await createTestAccount(t, { channelKind: 'email', channelKey: mailbox, secrets: {}, config: { address: mailbox, authservId: authserv } });
  channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'email', id: acct.channelId }))!;
});
afterAll(() => t?.close());

let n = 0;
async function deliver(headers: string[], body = 'hello'): Promise<string> {
  return (await deliverMessage(headers, body)).conversationId;
}

/** As the IMAP listener does: parsed with the channel's settings, then ingested. */
async function deliverMessage(headers: string[], body = 'hello'): Promise<{ conversationId: string; messageId: string; externalId: string }> {
  const externalId = `m${++n}-${Date.now()}@customer.example`;
  const raw = Buffer.from([...headers, `Message-ID: <${externalId}>`, 'Date: Mon, 03 Jun 2024 10:00:00 +0000', '', body].join('\r\n'));
  const parsed = await parseEmail(raw, { channelId: channel.id, mailbox, authservId: mailboxConfig(channel).authservId });
  const [outcome] = await t.hub.ingest.ingest(channel, [parsed.event as InboundEvent]);
  expect(outcome!.result).toBe('created');
  return { conversationId: outcome!.conversationId!, messageId: outcome!.messageId!, externalId };
}

type ApiMessage = { id: string; authentication: string | null; authorKind: string; authorName: string | null; isPrivate: boolean; text: string; notice: string | null; sender: { name: string | null; address: string | null } | null };
async function messagesOf(conversationId: string): Promise<ApiMessage[]> {
  const res = await call(t, acct.users.agent.token, 'GET', `/api/v1/conversations/${conversationId}/messages`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ items: ApiMessage[] }>().items;
}
const ccOf = (conversationId: string) =>
  withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<{ cc: string[] | null }>(`SELECT metadata->'cc' AS cc FROM conversations WHERE id = $1`, [conversationId])).rows[0]!.cc ?? []);

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
    // Nothing but the subject: same contact, reply prefix, within the window, and our receiving server found From genuine.
    expect(await deliver([`Authentication-Results: ${authserv}; dkim=pass header.d=customer.example; dmarc=pass header.from=customer.example`, 'From: jane@customer.example', `To: ${mailbox}`, 'Subject: AW: Re: printer  on FIRE'])).toBe(first);
    // …or found nothing failing (the domain neither signs nor publishes DMARC).
    expect(await deliver([`Authentication-Results: ${authserv}; spf=pass smtp.mailfrom=customer.example; dkim=none; dmarc=none`, 'From: jane@customer.example', `To: ${mailbox}`, 'Subject: Re: Printer on fire'])).toBe(first);
  });

  it('opens a new conversation for a new subject, another contact, or an unknown reply token', async () => {
    const first = await deliver(['From: bob@customer.example', `To: ${mailbox}`, 'Subject: Invoice question']);
    expect(await deliver(['From: bob@customer.example', `To: ${mailbox}`, 'Subject: Delivery date'])).not.toBe(first);
    expect(await deliver(['From: eve@other.example', `To: ${mailbox}`, 'Subject: Re: Invoice question'])).not.toBe(first);
    expect(await deliver(['From: bob@customer.example', `To: ${plusAddress(mailbox, replyTokenFor(crypto.randomUUID()))}`, 'Subject: hi'])).not.toBe(first);
  });

  it('a forged From with "Re: <subject>" opens a new conversation unless our own server vouches for it', async () => {
    const first = await deliver(['From: Kim <kim@customer.example>', `To: ${mailbox}`, 'Subject: Refund for order 77']);
    const forged = (extra: string[]) => deliver([...extra, 'From: Kim <kim@customer.example>', `To: ${mailbox}`, 'Subject: Re: Refund for order 77'], 'Please send the refund to my new account instead.');
    // No Authentication-Results at all.
    expect(await forged([])).not.toBe(first);
    // Our server says DMARC failed (a pass the sender wrote further down does not count); agents see the verdict.
    const failed = await forged([`Authentication-Results: ${authserv}; spf=fail smtp.mailfrom=customer.example; dmarc=fail header.from=customer.example`, `Authentication-Results: ${authserv}; dmarc=pass header.from=customer.example`]);
    expect(failed).not.toBe(first);
    expect((await messagesOf(failed))[0]).toMatchObject({ authentication: 'fail', sender: { address: 'kim@customer.example' } });
    expect((await messagesOf(first))[0]).toMatchObject({ authentication: null });
    // DKIM failed and no DMARC verdict.
    expect(await forged([`Authentication-Results: ${authserv}; dkim=fail header.d=customer.example`])).not.toBe(first);
    // A passing header from someone else's server (or written by the sender).
    expect(await forged(['Authentication-Results: mx.evil.example; dkim=pass header.d=customer.example; dmarc=pass header.from=customer.example'])).not.toBe(first);
    // The genuine customer, vouched for by our server, still threads by subject (its own conversation).
    const second = await deliver(['From: Kim <kim@customer.example>', `To: ${mailbox}`, 'Subject: Invoice copy']);
    expect(await deliver([`Authentication-Results: ${authserv}; dmarc=pass header.from=customer.example`, 'From: kim@customer.example', `To: ${mailbox}`, 'Subject: Re: Invoice copy'])).toBe(second);
  });

  it('someone who knows a Message-ID joins as themselves: never widens Cc, and agents see they joined', async () => {
    const opened = await deliverMessage(['From: Jane Roe <jane.roe@customer.example>', `To: ${mailbox}`, 'Cc: colleague@customer.example', 'Subject: Contract renewal']);
    const conv = opened.conversationId;
    expect(await ccOf(conv)).toEqual(['colleague@customer.example']);

    // A stranger answers the customer's message (the id is in every reply) and copies a friend.
    const hijack = await deliverMessage(['From: Jane Roe <mallory@evil.example>', `To: ${mailbox}`, 'Cc: friend@evil.example', 'Subject: Re: Contract renewal', `In-Reply-To: <${opened.externalId}>`, `References: <${opened.externalId}>`], 'Cancel the contract please.');
    expect(hijack.conversationId).toBe(conv);
    // Later replies are not copied to the stranger's friend.
    expect(await ccOf(conv)).toEqual(['colleague@customer.example']);
    let thread = await messagesOf(conv);
    const shown = thread.find((m) => m.id === hijack.messageId)!;
    // Shown as its real sender, whatever display name they chose.
    expect(shown.sender).toMatchObject({ address: 'mallory@evil.example' });
    expect(thread.find((m) => m.id === opened.messageId)!.sender).toMatchObject({ name: 'Jane Roe', address: 'jane.roe@customer.example' });
    const notices = thread.filter((m) => m.notice === 'participant_joined');
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ authorKind: 'system', isPrivate: true, text: 'Jane Roe <mallory@evil.example> joined this thread', sender: { address: 'mallory@evil.example' } });

    // Writing again is not announced again, and still widens nothing.
    await deliverMessage(['From: mallory@evil.example', `To: ${mailbox}`, 'Cc: another@evil.example', `References: <${opened.externalId}>`, 'Subject: Re: Contract renewal']);
    thread = await messagesOf(conv);
    expect(thread.filter((m) => m.notice === 'participant_joined')).toHaveLength(1);
    expect(await ccOf(conv)).toEqual(['colleague@customer.example']);

    // A participant on the Cc list may copy others, as before, and is not announced.
    await deliverMessage(['From: colleague@customer.example', `To: ${mailbox}`, 'Cc: boss@customer.example', `References: <${opened.externalId}>`, 'Subject: Re: Contract renewal']);
    expect(await ccOf(conv)).toEqual(['colleague@customer.example', 'boss@customer.example']);
    expect((await messagesOf(conv)).filter((m) => m.notice === 'participant_joined')).toHaveLength(1);

    // An agent may add the newcomer; from then on they are a participant.
    const added = await call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${conv}/participants`, { address: 'Mallory@Evil.example' });
    expect(added.statusCode, added.body).toBe(200);
    expect(added.json()).toEqual({ cc: ['colleague@customer.example', 'boss@customer.example', 'mallory@evil.example'] });
  });

  it('adding a participant is for email conversations, and needs an address', async () => {
    const conv = await deliver(['From: lee@customer.example', `To: ${mailbox}`, 'Subject: add me']);
    const bad = await call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${conv}/participants`, { address: 'not an address' });
    expect(bad.statusCode).toBe(400);
    const viewer = await call(t, acct.users.viewer.token, 'POST', `/api/v1/conversations/${conv}/participants`, { address: 'x@y.example' });
    expect(viewer.statusCode).toBe(403);
    const missing = await call(t, acct.users.agent.token, 'POST', `/api/v1/conversations/${crypto.randomUUID()}/participants`, { address: 'x@y.example' });
    expect(missing.statusCode).toBe(404);
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
