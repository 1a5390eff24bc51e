import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import type { ChannelInstallation, OutboundMessage } from '../core/types.js';
import { ConnectorError, PermanentError, RateLimitError } from '../core/errors.js';
import { EgressGuard } from '../core/egress.js';
import { EmailSender } from './send.js';
import { parseEmail } from './parse.js';
import { messageIdFromReturnPath } from './bounce.js';

// A real SMTP server on loopback (nodemailer's smtp-server): what it receives is what a customer would.
const received: { from: string; to: string[]; raw: Buffer }[] = [];
let server: SMTPServer;
let port: number;
const returnPathKey = Buffer.alloc(32, 7);
// The operator's allow-list for this test: the SMTP server on loopback, on whatever port it got.
const egress = new EgressGuard({ allow: ['127.0.0.1:*'] });
const sender = new EmailSender({ egress, returnPathKey });

beforeAll(async () => {
  server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onAuth: (auth, _s, cb) => (auth.username === 'support@example.com' && auth.password === 'pw' ? cb(null, { user: auth.username }) : cb(new Error('bad login'))),
    onRcptTo: (addr, _s, cb) => {
      if (addr.address.startsWith('nobody@')) return cb(Object.assign(new Error('5.1.1 <nobody@customer.example>: user unknown'), { responseCode: 550 }));
      if (addr.address.startsWith('later@')) return cb(Object.assign(new Error('4.2.1 mailbox busy, try later'), { responseCode: 451 }));
      cb();
    },
    onData: (stream, session, cb) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks) });
        cb();
      });
    },
    logger: false,
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.server.address() as AddressInfo).port;
});
afterAll(async () => {
  sender.close();
  await new Promise<void>((r) => server.close(() => r()));
});

const channel = (smtp: Record<string, unknown> = {}, config: Record<string, unknown> = {}): ChannelInstallation => ({
  id: 'ch-1', accountId: 'acc', kind: 'email', externalKey: 'support@example.com', teamId: null,
  config: { address: 'support@example.com', displayName: 'ACME Support', signature: 'ACME Support\nhttps://acme.example', plusAddressing: true, smtp: { host: '127.0.0.1', port, secure: false, ...smtp }, ...config },
  secrets: { smtpPassword: 'pw' },
});
const reply = (over: Partial<OutboundMessage> = {}): OutboundMessage => ({
  channel: channel(),
  conversation: { id: '0f0e0d0c-0b0a-4908-8706-050403020100', threadKey: 'email:ch-1:root-1@customer.example', subject: 'Printer on fire' },
  recipient: { externalId: 'jane@customer.example', address: 'jane@customer.example', displayName: 'Jane Doe' },
  author: { displayName: 'Alice' },
  text: 'Please unplug it.',
  attachments: [{ name: 'steps.txt', mimeType: 'text/plain', content: Buffer.from('1. unplug') }],
  inReplyToExternalId: 'last-2@customer.example',
  idempotencyKey: '11111111-2222-4333-8444-555555555555',
  ...over,
});

describe('EmailSender over a real SMTP server', () => {
  it('sends a threaded reply from the mailbox with the agent name, signature, attachment and reply token', async () => {
    const sent = await sender.send(reply());
    expect(sent.externalId).toBe('hd-11111111-2222-4333-8444-555555555555@example.com');
    const got = received.at(-1)!;
    expect(got).toMatchObject({ to: ['jane@customer.example'] });
    // The envelope sender is this reply's own signed return path (VERP), not the bare mailbox.
    expect(got.from).toMatch(/^support\+bounce-[a-z2-7]{39}@example\.com$/u);
    expect(messageIdFromReturnPath([got.from], 'support@example.com', returnPathKey)).toBe(sent.externalId);
    expect(messageIdFromReturnPath([got.from], 'support@example.com', Buffer.alloc(32, 8))).toBeUndefined();
    const p = await parseEmail(got.raw, { channelId: 'x' });
    expect(p).toMatchObject({
      messageId: sent.externalId,
      inReplyTo: 'last-2@customer.example',
      references: ['root-1@customer.example', 'last-2@customer.example'],
      from: { address: 'support@example.com', name: 'Alice (ACME Support)' },
      to: ['jane@customer.example'],
      subject: 'Re: Printer on fire',
      visibleText: 'Please unplug it.',
      autoReply: false,
    });
    expect(p.text).toContain('-- \nACME Support');
    expect(p.html).toContain('Please unplug it.');
    expect(p.attachments.map((a) => a.name)).toEqual(['steps.txt']);
    expect(got.raw.toString()).toMatch(/^Reply-To: support\+c0f0e0d0c0b0a49088706050403020100@example\.com/mu);
    // The customer's reply to it threads back to the same root.
    expect(p.event.type === 'message' && p.event.message.threadKey).toBe('email:x:root-1@customer.example');
  });

  it('copies Cc in the headers and Bcc only in the envelope, never the mailbox or the recipient twice', async () => {
    const sent = await sender.send(reply({
      cc: ['bob@partner.example', 'support@example.com', 'support+c0f0e0d0c0b0a49088706050403020100@example.com', 'JANE@customer.example', 'Bob@Partner.example'],
      bcc: ['audit@acme.example', 'bob@partner.example', 'SUPPORT@example.com'],
    }));
    const got = received.at(-1)!;
    expect(got.to).toEqual(['jane@customer.example', 'bob@partner.example', 'audit@acme.example']);
    const p = await parseEmail(got.raw, { channelId: 'x' });
    expect(p).toMatchObject({ messageId: sent.externalId, to: ['jane@customer.example'], cc: ['bob@partner.example'] });
    expect(got.raw.toString()).not.toMatch(/^Bcc:|audit@acme\.example/imu);
  });

  it('a 5xx is a PermanentError with its codes in our words, never the server text; a 4xx is retried later', async () => {
    const perm = await sender.send(reply({ recipient: { externalId: 'nobody@customer.example', address: 'nobody@customer.example' } })).catch((e: unknown) => e);
    expect(perm).toBeInstanceOf(PermanentError);
    expect((perm as PermanentError).code).toBe('mail_rejected');
    expect((perm as Error).message).toBe('mail_rejected: the SMTP server refused the message (550 5.1.1, recipient address unknown)');
    const temp = await sender.send(reply({ recipient: { externalId: 'later@customer.example', address: 'later@customer.example' } })).catch((e: unknown) => e);
    expect(temp).toBeInstanceOf(RateLimitError);
  });

  it('a wrong password is an AuthError and an unreachable server is a retryable error', async () => {
    const auth = await new EmailSender({ egress }).send(reply({ channel: { ...channel(), secrets: { smtpPassword: 'wrong' } } })).catch((e: unknown) => e);
    expect((auth as ConnectorError).code).toBe('channel_auth_failed');
    const down = await new EmailSender({ egress }).send(reply({ channel: channel({ port: 1 }) })).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(ConnectorError);
    expect((down as ConnectorError).code).toBe('mail_connect_failed');
    expect(down).not.toBeInstanceOf(PermanentError);
  });
});

describe('EmailSender and the egress guard', () => {
  it('without the operator allowing it, a loopback SMTP server is refused before any connection', async () => {
    const before = received.length;
    let connections = 0;
    server.server.once('connection', () => connections++);
    const refused = await new EmailSender().send(reply()).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PermanentError);
    expect((refused as ConnectorError).code).toBe('egress_forbidden');
    expect(connections).toBe(0);
    expect(received.length).toBe(before);
    // A port outside SMTP's own is refused even on an allowed public-looking literal.
    const port = await new EmailSender({ egress: new EgressGuard() }).send(reply({ channel: channel({ host: '93.184.215.14', port: 6379 }) })).catch((e: unknown) => e);
    expect((port as ConnectorError).code).toBe('egress_port_forbidden');
  });

  it('what answers on the port never reaches the error: a service that is not SMTP gives a code and our words', async () => {
    // A stand-in for an internal service (Redis, an admin port) answering the connection with its own line.
    const banner: Server = createServer((socket) => socket.end('-ERR internal-secret-banner v7.2.4\r\n'));
    await new Promise<void>((r) => banner.listen(0, '127.0.0.1', r));
    try {
      const err = await new EmailSender({ egress }).send(reply({ channel: channel({ port: (banner.address() as AddressInfo).port }) })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectorError);
      expect((err as ConnectorError).code).toMatch(/^mail_(?:protocol_error|connect_failed)$/u);
      expect((err as Error).message).not.toMatch(/internal-secret-banner|ERR/u);
      expect((err as Error).message).toMatch(/^mail_(?:protocol_error|connect_failed): /u);
    } finally {
      await new Promise<void>((r) => banner.close(() => r()));
    }
  });

  it("only the operator can switch certificate checks off: a tenant's rejectUnauthorized: false is not enough", async () => {
    // smtp-server's own self-signed certificate, TLS from the first byte.
    const tls = new SMTPServer({ secure: true, authOptional: true, logger: false, onAuth: (a, _s, cb) => cb(null, { user: a.username }), onData: (stream, _s, cb) => (stream.resume(), stream.on('end', () => cb())) });
    tls.on('error', () => undefined); // the refused handshake, seen from the server side
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    try {
      const insecure = reply({ channel: channel({ port: (tls.server.address() as AddressInfo).port, secure: true, rejectUnauthorized: false }) });
      const refused = await new EmailSender({ egress }).send(insecure).catch((e: unknown) => e);
      expect((refused as ConnectorError).code).toBe('mail_tls_failed');
      const allowed = new EmailSender({ egress: new EgressGuard({ allow: ['127.0.0.1:*'], allowInsecureTls: true }) });
      try {
        expect((await allowed.send(insecure)).externalId).toMatch(/^hd-/u);
      } finally {
        allowed.close();
      }
    } finally {
      await new Promise<void>((r) => tls.close(() => r()));
    }
  });
});
