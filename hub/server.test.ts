import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgres } from '../storage/postgres.js';
import { findInstallation } from '../storage/repositories/channels.js';
import { withAccount } from '../storage/session.js';
import { loadConfig } from './config.js';
import { startServer, type RunningHub } from './server.js';
import { createTestAccount, eventually, freshDatabase } from './testing/harness.js';
import { ChannelEmulator, TestChannelConnector, openConversation, openEventStream } from './testing/test-channel.js';

let database: Awaited<ReturnType<typeof freshDatabase>>;
let dataDir: string;
let platform: ChannelEmulator;
let running: RunningHub;
/** What `hummdesk start` printed for the person who started it. */
let printed = '';

beforeAll(async () => {
  database = await freshDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'hummdesk-server-'));
  platform = await ChannelEmulator.start();
  const write = vi.spyOn(process.stdout, 'write');
  try {
    running = await startServer(
      loadConfig({ PORT: '0', DATABASE_URL: database.url, HUMMDESK_DATA_DIR: dataDir, HUMMDESK_SECRET_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'silent', HUMMDESK_JOB_BACKOFF_MS: '0' }),
    );
    printed = write.mock.calls.map(([chunk]) => String(chunk)).join('');
  } finally {
    write.mockRestore();
  }
  running.hub.connectors.set('whatsapp', new TestChannelConnector(platform, { timeoutMs: 30_000 }));
});
afterAll(async () => {
  await running?.stop();
  await platform?.close();
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('first start on PostgreSQL', () => {
  it('seeds nothing and prints the setup link with the token only this terminal shows; the page\'s API wants that token', async () => {
    expect(printed).toContain(`HummDesk is running at ${running.url}`);
    const link = /No workspace yet: open (\S+) to create yours and become its owner\./.exec(printed)?.[1];
    expect(link, printed).toMatch(new RegExp(`^${running.url}/#setup=[0-9a-f]{32}$`));
    const token = new URL(link!).hash.slice('#setup='.length);
    expect(printed).toMatch(new RegExp(`Setup token: +${token} `));
    expect(printed).not.toContain('Demo agent login');
    // Reaching the hub is not enough: without the printed token, or with another, no workspace is made.
    const owner = { workspace: 'Acme', name: 'Lea Lead', email: 'lea@acme.test', password: 'a long owner password' };
    const post = (body: object) => fetch(`${running.url}/api/v1/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const missing = await post(owner);
    expect([missing.status, ((await missing.json()) as { error: { code: string } }).error.code]).toEqual([401, 'setup_token_required']);
    const wrong = await post({ ...owner, setupToken: token.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) });
    expect([wrong.status, ((await wrong.json()) as { error: { code: string } }).error.code]).toEqual([403, 'setup_token_invalid']);
    expect((await running.hub.db.query(`SELECT 1 FROM accounts`)).rowCount).toBe(0);
  });
});

describe('links', () => {
  it('point at the port the hub got when PORT=0 chose any', () => {
    expect(running.hub.config.publicUrl).toBe(running.url);
    expect(running.url).not.toMatch(/:0$/);
  });
});

describe('graceful shutdown', () => {
  it('stops taking requests, ends event streams, and lets a job in flight finish before it resolves', async () => {
    const { hub, app, url } = running;
    const acct = await createTestAccount({ hub, app, config: hub.config, close: async () => undefined }, { channelKind: 'whatsapp', secrets: {} });
    const channel = (await findInstallation(hub.db, hub.box, { kind: 'whatsapp', id: acct.channelId }))!;
    const stream = await openEventStream(`${url}/api/v1/events`, { 'x-api-key': acct.apiKeys.viewer });
    expect(stream.status).toBe(200);

    // The platform holds the send until the test lets it answer: the job is in flight.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let arrived!: () => void;
    const inFlight = new Promise<void>((r) => (arrived = r));
    platform.onSend = async () => {
      arrived();
      await held;
    };
    const conversationId = await openConversation(hub.ingest, channel);
    const message = await hub.conversations.reply({ accountId: acct.accountId, kind: 'user', id: acct.users.agent.id }, conversationId, { text: 'Sent during shutdown' });
    await inFlight;

    let stopped = false;
    const stopping = running.stop().then(() => (stopped = true));
    // The stream is ended and the port closed while the job is still running…
    await stream.ended;
    await eventually(async () => fetch(`${url}/health`).then(() => false, () => true));
    expect(stopped).toBe(false);
    // …and close resolves only after the job has finished and recorded its outcome.
    release();
    await stopping;
    const db = await openPostgres(database.url, { max: 1 });
    try {
      const status = await withAccount(db, acct.accountId, async (tx) => (await tx.query<{ s: string }>(`SELECT delivery_status s FROM messages WHERE id = $1`, [message.id])).rows[0]!.s);
      expect(status).toBe('sent');
      const job = await db.query<{ done: boolean }>(`SELECT done_at IS NOT NULL AS done FROM outbox WHERE topic = 'deliver' AND payload->>'messageId' = $1`, [message.id]);
      expect(job.rows).toEqual([{ done: true }]);
    } finally {
      await db.close();
    }
  });
});
