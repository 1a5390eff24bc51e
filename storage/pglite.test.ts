import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelInstallation } from '../connectors/core/types.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../hub/testing/harness.js';
import { openConversation } from '../hub/testing/test-channel.js';
import { findInstallation } from './repositories/channels.js';
import { migrate } from './migrate.js';
import { withAccount } from './session.js';

/** Smoke test of the embedded default: the same repositories and tenant isolation on PGlite. */
let t: TestHub;
let a: TestAccount;
let b: TestAccount;
let channel: ChannelInstallation;

beforeAll(async () => {
  t = await startTestHub({ embedded: true, jobs: false });
  a = await createTestAccount(t);
  b = await createTestAccount(t);
  channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: a.channelId }))!;
});
afterAll(() => t?.close());

describe('PGlite store', () => {
  it('runs on PGlite with pgvector', async () => {
    expect(t.hub.db.kind).toBe('pglite');
    const ext = await t.hub.db.query<{ extname: string }>(`SELECT extname FROM pg_extension WHERE extname = 'vector'`);
    expect(ext.rows).toHaveLength(1);
  });

  it('ingests a message and lists its conversation through the API', async () => {
    const conversationId = await openConversation(t.hub.ingest, channel);
    const res = await t.app.inject({ url: '/api/v1/conversations', headers: { authorization: `Bearer ${a.users.agent.token}` } });
    expect(res.statusCode).toBe(200);
    expect(res.json().items.map((c: { id: string }) => c.id)).toEqual([conversationId]);
  });

  it('keeps tenants apart with row-level security', async () => {
    const other = await t.app.inject({ url: '/api/v1/conversations', headers: { authorization: `Bearer ${b.users.agent.token}` } });
    expect(other.json().items).toEqual([]);
    // Even a query that forgets account_id sees one tenant only.
    const seen = await withAccount(t.hub.db, b.accountId, async (tx) => (await tx.query(`SELECT id FROM messages`)).rowCount);
    expect(seen).toBe(0);
    const own = await withAccount(t.hub.db, a.accountId, async (tx) => (await tx.query(`SELECT id FROM messages`)).rowCount);
    expect(own).toBe(1);
  });

  it('migrates down to 0 and up again', async () => {
    const { to: newest } = await migrate(t.hub.db);
    expect(await migrate(t.hub.db, '0')).toEqual({ from: newest, to: 0 });
    const left = await t.hub.db.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'hummdesk_schema_version'`);
    expect(left.rows).toEqual([]);
    expect(await migrate(t.hub.db)).toEqual({ from: 0, to: newest });
    expect((await t.hub.db.query(`SELECT count(*)::int AS n FROM conversations`)).rows).toEqual([{ n: 0 }]);
  });
});
