import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withAccount } from '../../storage/session.js';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { startListeners } from '../listeners.js';
import { call, seedConversation } from '../testing/seed.js';

const imapUrl = process.env.IMAP_URL;
if (!imapUrl) console.warn('SKIPPED (connection tests): IMAP_URL is not set (run through scripts/test.sh, which starts Dovecot)');
const imap = imapUrl ? new URL(imapUrl) : undefined;
const password = process.env.IMAP_PASSWORD ?? 'hummdesk';

let t: TestHub;
let acct: TestAccount;
let smtp: SMTPServer;
let smtpPort = 0;

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
    onAuth: (auth, _s, cb) => (auth.password === 'smtp secret' ? cb(null, { user: auth.username }) : cb(new Error('bad login'))),
    onData: (stream, _s, cb) => (stream.resume(), stream.on('end', () => cb())),
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  smtpPort = (smtp.server.address() as AddressInfo).port;
  t = await startTestHub({ jobs: false });
  acct = await createTestAccount(t);
});
afterAll(async () => {
  await t?.close();
  if (smtp) await new Promise<void>((r) => smtp.close(() => r()));
});

const mailbox = (imapPassword: string, smtpPassword = 'smtp secret') => ({
  kind: 'email',
  config: {
    address: 'check@example.test',
    imap: { host: imap!.hostname, port: Number(imap!.port), secure: false, folder: 'INBOX' },
    smtp: { host: '127.0.0.1', port: smtpPort, secure: false },
  },
  secrets: { imapPassword, smtpPassword },
});

describe('channel checks (the admin console\'s "Test connection")', () => {
  it.skipIf(!imap)('a dry run logs in to IMAP and SMTP and stores nothing', async () => {
    const before = await call(t, acct.users.admin.token, 'GET', '/api/v1/channels');
    const res = await call(t, acct.users.admin.token, 'POST', '/api/v1/channels/check', mailbox(password));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ ok: true });
    expect((await call(t, acct.users.admin.token, 'GET', '/api/v1/channels')).json().items).toHaveLength(before.json().items.length);
  });

  it.skipIf(!imap)('says which server refused and why, with a stable code', async () => {
    const imapRefused = (await call(t, acct.users.admin.token, 'POST', '/api/v1/channels/check', mailbox('wrong password'))).json();
    expect(imapRefused).toMatchObject({ ok: false, code: 'channel_auth_failed' });
    expect(imapRefused.message).toContain('IMAP');
    const smtpRefused = (await call(t, acct.users.admin.token, 'POST', '/api/v1/channels/check', mailbox(password, 'wrong'))).json();
    expect(smtpRefused.ok).toBe(false);
    expect(smtpRefused.message).toContain('SMTP');
  });

  it('refuses settings the egress guard refuses, as creating the channel would', async () => {
    const res = await call(t, acct.users.admin.token, 'POST', '/api/v1/channels/check', { kind: 'email', config: { address: 'support@example.com', imap: { host: '169.254.169.254', port: 993 } } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('egress_forbidden');
    const noHost = await call(t, acct.users.admin.token, 'POST', '/api/v1/channels/check', { kind: 'email', config: { address: 'support@example.com', imap: { port: 993 } } });
    expect(noHost.json().error.code).toBe('email_host_required');
  });

  it.skipIf(!imap)('tests a stored channel with its stored secrets', async () => {
    const created = await call(t, acct.users.admin.token, 'POST', '/api/v1/channels', { ...mailbox(password), name: 'Checked', externalKey: 'check@example.test' });
    expect(created.statusCode, created.body).toBe(201);
    const res = await call(t, acct.users.admin.token, 'POST', `/api/v1/channels/${created.json().id}/check`);
    expect(res.json()).toEqual({ ok: true });
    expect((await call(t, acct.users.admin.token, 'POST', '/api/v1/channels/00000000-0000-4000-8000-000000000000/check')).json().error.code).toBe('channel_not_found');
  });

  it('lists a channel whose latest delivery failed as failing, with the reason, and a disabled one as disabled', async () => {
    const s = await seedConversation(t, acct);
    const state = async () => (await call(t, acct.users.viewer.token, 'GET', '/api/v1/channels/status')).json().items.find((i: { channelId: string }) => i.channelId === acct.channelId);
    expect(await state()).toEqual({ channelId: acct.channelId, state: 'active', lastError: null, since: null });
    await withAccount(t.hub.db, acct.accountId, (tx) =>
      tx.query(`INSERT INTO messages (account_id, conversation_id, channel_id, direction, author_kind, text, delivery_status, delivery_error)
                VALUES ($1, $2, $3, 'outbound', 'agent', 'hello', 'failed', 'mail_rejected: the recipient address is unknown')`, [acct.accountId, s.conversationId, acct.channelId]));
    expect(await state()).toMatchObject({ state: 'failing', lastError: { message: 'mail_rejected: the recipient address is unknown' } });
    await call(t, acct.users.admin.token, 'DELETE', `/api/v1/channels/${acct.channelId}`);
    expect((await state()).state).toBe('disabled');
  });

  it.skipIf(!imap)('lists an email channel whose IMAP login fails as failing, with the error and since when, once its listener polled', async () => {
    const created = await call(t, acct.users.admin.token, 'POST', '/api/v1/channels', { ...mailbox('wrong password'), name: 'Locked out', externalKey: 'locked@example.test' });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    // Only this channel is listened to: a mailbox that logs in would read the shared test Dovecot.
    for (const c of (await call(t, acct.users.admin.token, 'GET', '/api/v1/channels')).json().items as { id: string; kind: string }[])
      if (c.kind === 'email' && c.id !== id) await call(t, acct.users.admin.token, 'DELETE', `/api/v1/channels/${c.id}`);
    const status = async () => (await call(t, acct.users.viewer.token, 'GET', '/api/v1/channels/status')).json().items.find((i: { channelId: string }) => i.channelId === id);
    expect((await status()).state).toBe('active');
    const listeners = startListeners(t.hub, { rescanMs: 3_600_000 });
    try {
      const failing = await eventually(async () => { const s = await status(); return s.state === 'failing' && s; });
      expect(failing.lastError).toMatchObject({ code: 'channel_auth_failed', message: expect.stringContaining(`the IMAP server ${imap!.hostname}:${imap!.port} refused the login`) });
      expect(failing.since).toBe(failing.lastError.at);
      // A second failed attempt keeps since (the first failure) and moves at.
      const again = await eventually(async () => { const s = await status(); return s.lastError.at !== failing.lastError.at && s; });
      expect(again).toMatchObject({ state: 'failing', since: failing.since, lastError: { code: 'channel_auth_failed' } });
    } finally {
      await listeners.stop();
    }
  }, 120_000);

  it('lists a Slack installation the workspace uninstalled as disconnected, with the reason and since when', async () => {
    const at = '2026-12-01T10:00:00.000Z';
    const slack = await withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<{ id: string }>(
      `INSERT INTO channels (account_id, kind, name, external_key, enabled, config) VALUES ($1, 'slack', 'Acme Slack', 'T0DISCONN', false, $2) RETURNING id`,
      [acct.accountId, JSON.stringify({ disconnected: { reason: 'app_uninstalled', at } })])).rows[0]!.id);
    const s = (await call(t, acct.users.viewer.token, 'GET', '/api/v1/channels/status')).json().items.find((i: { channelId: string }) => i.channelId === slack);
    expect(s).toEqual({ channelId: slack, state: 'disconnected', since: at, lastError: { code: 'app_uninstalled', message: expect.stringContaining('uninstalled'), at } });
  });
});
