import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelInstallation } from '../core/types.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../../hub/testing/harness.js';
import { emailReturnPathKey } from '../../hub/connectors.js';
import { findInstallation } from '../../storage/repositories/channels.js';
import { insertMessage } from '../../storage/repositories/messages.js';
import { withAccount } from '../../storage/session.js';
import { messageIdFromReturnPath, returnPathFor } from './bounce.js';
import { parseEmail } from './parse.js';

const mailbox = 'support@example.com';
const key = Buffer.alloc(32, 1);

/** A DSN (RFC 3464) as an MTA sends it: to `to`, about `original`, with the recipient's failure. */
function dsn(to: string, original: string, extra: string[] = []): Buffer {
  return Buffer.from([
    'From: Mail Delivery System <MAILER-DAEMON@mx.example.net>', `To: ${to}`, ...extra, 'Subject: Undelivered Mail Returned to Sender', `Message-ID: <dsn-${randomUUID()}@mx.example.net>`,
    'MIME-Version: 1.0', 'Content-Type: multipart/report; report-type=delivery-status; boundary=b', '',
    '--b', 'Content-Type: text/plain', '', 'I could not deliver your message.', '',
    '--b', 'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; mx.example.net', '', 'Final-Recipient: rfc822; zed@customer.example', 'Action: failed', 'Status: 5.1.1', 'Diagnostic-Code: smtp; 550 5.1.1 <zed@customer.example>: user unknown', '',
    '--b', 'Content-Type: text/rfc822-headers', '', `Message-ID: <${original}>`, `From: ${mailbox}`, '', '--b--',
  ].join('\r\n'));
}

/** A read receipt (RFC 8098 MDN) to `to` about `original`. */
function mdn(to: string, original: string): Buffer {
  return Buffer.from([
    'From: zed@customer.example', `To: ${to}`, 'Subject: Read: Re: help', `Message-ID: <mdn-${randomUUID()}@customer.example>`,
    'MIME-Version: 1.0', 'Content-Type: multipart/report; report-type=disposition-notification; boundary=b', '',
    '--b', 'Content-Type: text/plain', '', 'Your message was read.', '',
    '--b', 'Content-Type: message/disposition-notification', '', 'Reporting-UA: mua.customer.example', 'Final-Recipient: rfc822; zed@customer.example', `Original-Message-ID: <${original}>`, 'Disposition: manual-action/MDN-sent-manually; displayed', '', '--b--',
  ].join('\r\n'));
}

const parse = (raw: Buffer, withKey = true) => parseEmail(raw, { channelId: 'ch1', mailbox, ...(withKey ? { returnPathKey: key } : {}) });

describe('signed return paths (VERP)', () => {
  const id = randomUUID();
  const ours = `hd-${id}@example.com`;
  const returnPath = returnPathFor(mailbox, id, key)!;

  it('a return path names one message, is signed, and fits an address', () => {
    expect(returnPath).toMatch(/^support\+bounce-[a-z2-7]{39}@example\.com$/u);
    expect(messageIdFromReturnPath([returnPath], mailbox, key)).toBe(ours);
    expect(messageIdFromReturnPath([returnPath.toUpperCase()], mailbox, key)).toBe(ours);
    expect(messageIdFromReturnPath([returnPath], mailbox, Buffer.alloc(32, 2))).toBeUndefined();
    expect(messageIdFromReturnPath([returnPath.replace('@example.com', '@other.example')], mailbox, key)).toBeUndefined();
    expect(messageIdFromReturnPath([returnPath.replace('support+', 'sales+')], mailbox, key)).toBeUndefined();
    // One character changed anywhere in the token, and it no longer verifies.
    const at = returnPath.indexOf('@') - 3;
    expect(messageIdFromReturnPath([`${returnPath.slice(0, at)}${returnPath[at] === 'a' ? 'b' : 'a'}${returnPath.slice(at + 1)}`], mailbox, key)).toBeUndefined();
    expect(returnPathFor(mailbox, 'not-a-uuid', key)).toBeUndefined();
  });

  it('a DSN to the signed return path marks that message failed, whatever Message-ID it claims', async () => {
    expect((await parse(dsn(returnPath, ours))).event).toEqual({ type: 'status', channelId: 'ch1', externalId: ours, status: 'failed', error: 'zed@customer.example: 550 5.1.1 <zed@customer.example>: user unknown' });
    expect((await parse(dsn(returnPath, `hd-${randomUUID()}@example.com`))).event).toMatchObject({ type: 'status', externalId: ours });
    // The delivering server's own headers carry it when the report's To does not.
    expect((await parse(dsn(mailbox, ours, [`Delivered-To: ${returnPath}`]))).event).toMatchObject({ type: 'status', externalId: ours, status: 'failed' });
  });

  it('a DSN or read receipt that names our Message-ID but not its signed return path changes nothing', async () => {
    const forged = [dsn(mailbox, ours), dsn(`support+bounce-${'a'.repeat(39)}@example.com`, ours), dsn(returnPath.replace('support+', 'sales+'), ours), mdn(mailbox, ours)];
    for (const raw of forged) {
      const p = await parse(raw);
      expect(p.event.type).toBe('ignored');
      expect(p.event.type === 'ignored' && p.event.reason).toMatch(/not addressed to that message's signed return path/u);
    }
    // Without the key nothing is ever signed, so nothing is accepted either.
    expect((await parse(dsn(returnPath, ours), false)).event.type).toBe('ignored');
  });

  it('a read receipt that came back to the signed return path marks the message read', async () => {
    expect((await parse(mdn(returnPath, ours))).event).toEqual({ type: 'status', channelId: 'ch1', externalId: ours, status: 'read' });
  });
});

describe('reports through the hub', () => {
  let t: TestHub;
  let acct: TestAccount;
  let channel: ChannelInstallation;

  beforeAll(async () => {
    t = await startTestHub({ jobs: false });
    acct = await createTestAccount(t, { channelKind: 'email', channelKey: mailbox, secrets: {}, config: { address: mailbox } });
    channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'email', id: acct.channelId }))!;
  });
  afterAll(() => t?.close());

  it("a forged bounce leaves our reply's delivery state alone; the real one, to its return path, fails it", async () => {
    const hubKey = emailReturnPathKey(t.config.secretKey);
    const conversationId = await openConversation();
    // The uuid in our Message-ID is the outbound message's own id, as the delivery worker sends it.
    const id = randomUUID();
    const ours = `hd-${id}@example.com`;
    await withAccount(t.hub.db, acct.accountId, (tx) =>
      insertMessage(tx, { accountId: acct.accountId, conversationId, channelId: channel.id, direction: 'outbound', authorKind: 'agent', text: 'our answer', externalId: ours, deliveryStatus: 'sent' }),
    );
    const state = async () => (await withAccount(t.hub.db, acct.accountId, (tx) => tx.query<{ status: string; error: string | null }>(`SELECT delivery_status AS status, delivery_error AS error FROM messages WHERE external_id = $1`, [ours]))).rows[0];

    const forged = await parseEmail(dsn(mailbox, ours), { channelId: channel.id, mailbox, returnPathKey: hubKey });
    expect((await t.hub.ingest.ingest(channel, [forged.event]))[0]).toMatchObject({ result: 'ignored' });
    expect(await state()).toEqual({ status: 'sent', error: null });

    const real = await parseEmail(dsn(returnPathFor(mailbox, id, hubKey)!, ours), { channelId: channel.id, mailbox, returnPathKey: hubKey });
    expect((await t.hub.ingest.ingest(channel, [real.event]))[0]).toMatchObject({ result: 'status', conversationId });
    expect(await state()).toEqual({ status: 'failed', error: 'zed@customer.example: 550 5.1.1 <zed@customer.example>: user unknown' });
  });

  /** A conversation as a customer's first mail makes it. */
  async function openConversation(): Promise<string> {
    const first = await parseEmail(Buffer.from(['From: zed@customer.example', `To: ${mailbox}`, 'Subject: help', `Message-ID: <${randomUUID()}@customer.example>`, '', 'hello'].join('\r\n')), { channelId: channel.id, mailbox });
    return (await t.hub.ingest.ingest(channel, [first.event]))[0]!.conversationId!;
  }
});
