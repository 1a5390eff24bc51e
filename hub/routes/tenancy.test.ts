import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertAiResult, insertDraft } from '../../storage/repositories/ai.js';
import { APP_ROLE, withAccount } from '../../storage/session.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { TENANT_TABLES, call, seedConversation, snapshotAccount } from '../testing/seed.js';

/*
 * Account A must not read, change or delete account B's rows through any route, even with B's ids,
 * and row-level security must hold even for SQL that forgets the account filter.
 */

let t: TestHub;
let A: TestAccount;
let B: TestAccount;
let a: Fixture;
let b: Fixture;

interface Fixture {
  conversationId: string;
  messageId: string;
  contactId: string;
  draftId: string;
  attachmentId: string;
  teamId: string;
  deadJobId: string;
  apiKeyId: string;
  secretWord: string;
}

/** Puts at least one row of this account into every tenant table. */
async function populate(acct: TestAccount, secretWord: string): Promise<Fixture> {
  const owner = acct.users.owner.token;
  const s = await seedConversation(t, acct, { text: `Customer says ${secretWord}` });
  const team = await call(t, owner, 'POST', '/api/v1/teams', { name: 'Support' });
  const teamId = team.json().id as string;
  await call(t, owner, 'PUT', `/api/v1/teams/${teamId}/members/${acct.users.agent.id}`);
  const login = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: acct.users.agent.email, password: 'correct horse battery' }, remoteAddress: `10.2.0.${secretWord.length}` });
  expect(login.statusCode).toBe(200);
  const apiKeyId = (await call(t, owner, 'GET', '/api/v1/api-keys')).json().items[0].id as string;
  const ids = await withAccount(t.hub.db, acct.accountId, async (tx) => {
    const aiResultId = await insertAiResult(tx, { accountId: acct.accountId, conversationId: s.conversationId, messageId: s.messageId, provider: 'test', model: 'test', latencyMs: 1, category: 'billing' });
    const draftId = await insertDraft(tx, { accountId: acct.accountId, conversationId: s.conversationId, messageId: s.messageId, aiResultId, text: 'A draft', extractive: true, citations: [] });
    const blobKey = await t.hub.blobs.put(Buffer.from(`attachment of ${secretWord}`));
    const attachment = await tx.query<{ id: string }>(`INSERT INTO attachments (account_id, message_id, kind, name, blob_key) VALUES ($1, $2, 'file', 'a.txt', $3) RETURNING id`, [acct.accountId, s.messageId, blobKey]);
    await tx.query(`INSERT INTO surface_threads (account_id, conversation_id, surface, surface_key) VALUES ($1, $2, 'slack', $3)`, [acct.accountId, s.conversationId, `C1:${secretWord}`]);
    await tx.query(`INSERT INTO channel_checkpoints (account_id, channel_id, key, value) VALUES ($1, $2, 'uid', '1')`, [acct.accountId, acct.channelId]);
    const dead = await tx.query<{ id: string }>(`INSERT INTO outbox (account_id, topic, payload, dead_at) VALUES ($1, 'noop', '{}', now()) RETURNING id::text`, [acct.accountId]);
    return { draftId, attachmentId: attachment.rows[0]!.id, deadJobId: dead.rows[0]!.id };
  });
  return { ...s, ...ids, teamId, apiKeyId, secretWord };
}

beforeAll(async () => {
  // No workers: nothing but the requests under test may change a row.
  t = await startTestHub({ jobs: false });
  A = await createTestAccount(t);
  B = await createTestAccount(t);
  a = await populate(A, 'aardvark');
  b = await populate(B, 'bumblebee');
});
afterAll(() => t?.close());

describe("A's credentials with B's ids", () => {
  type Probe = { route: string; method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'; url: () => string; body?: () => unknown; code: string };
  const PROBES: Probe[] = [
    { route: 'GET conversation', method: 'GET', url: () => `/conversations/${b.conversationId}`, code: 'conversation_not_found' },
    { route: 'GET messages', method: 'GET', url: () => `/conversations/${b.conversationId}/messages`, code: 'conversation_not_found' },
    { route: 'reply', method: 'POST', url: () => `/conversations/${b.conversationId}/reply`, body: () => ({ text: 'leak?' }), code: 'conversation_not_found' },
    { route: 'note', method: 'POST', url: () => `/conversations/${b.conversationId}/notes`, body: () => ({ text: 'leak?' }), code: 'conversation_not_found' },
    { route: 'assign', method: 'POST', url: () => `/conversations/${b.conversationId}/assign`, body: () => ({ assigneeId: A.users.agent.id }), code: 'conversation_not_found' },
    { route: 'status', method: 'POST', url: () => `/conversations/${b.conversationId}/status`, body: () => ({ status: 'resolved' }), code: 'conversation_not_found' },
    { route: 'priority', method: 'POST', url: () => `/conversations/${b.conversationId}/priority`, body: () => ({ priority: 'urgent' }), code: 'conversation_not_found' },
    { route: 'GET attachment', method: 'GET', url: () => `/conversations/${b.conversationId}/attachments/${b.attachmentId}`, code: 'conversation_not_found' },
    { route: "GET B's attachment through A's conversation", method: 'GET', url: () => `/conversations/${a.conversationId}/attachments/${b.attachmentId}`, code: 'attachment_not_found' },
    { route: 'reject draft', method: 'POST', url: () => `/conversations/${b.conversationId}/drafts/${b.draftId}/reject`, code: 'draft_not_found' },
    { route: "reject B's draft on A's conversation", method: 'POST', url: () => `/conversations/${a.conversationId}/drafts/${b.draftId}/reject`, code: 'draft_not_found' },
    { route: "reply sending B's draft", method: 'POST', url: () => `/conversations/${a.conversationId}/reply`, body: () => ({ text: 'A draft', draftId: b.draftId }), code: 'draft_not_found' },
    { route: "assign A's conversation to B's user", method: 'POST', url: () => `/conversations/${a.conversationId}/assign`, body: () => ({ assigneeId: B.users.agent.id }), code: 'user_not_found' },
    // Neither is A's: the conversation is named (the change checks it only when the patch is refused).
    { route: "assign B's conversation to B's user", method: 'POST', url: () => `/conversations/${b.conversationId}/assign`, body: () => ({ assigneeId: B.users.agent.id }), code: 'conversation_not_found' },
    { route: "assign A's conversation to B's team", method: 'POST', url: () => `/conversations/${a.conversationId}/assign`, body: () => ({ teamId: b.teamId }), code: 'team_not_found' },
    { route: 'GET contact', method: 'GET', url: () => `/contacts/${b.contactId}`, code: 'contact_not_found' },
    { route: 'PATCH contact', method: 'PATCH', url: () => `/contacts/${b.contactId}`, body: () => ({ name: 'pwned' }), code: 'contact_not_found' },
    { route: 'GET team', method: 'GET', url: () => `/teams/${b.teamId}`, code: 'team_not_found' },
    { route: 'PATCH team', method: 'PATCH', url: () => `/teams/${b.teamId}`, body: () => ({ name: 'pwned' }), code: 'team_not_found' },
    { route: 'DELETE team', method: 'DELETE', url: () => `/teams/${b.teamId}`, code: 'team_not_found' },
    { route: 'add member to B team', method: 'PUT', url: () => `/teams/${b.teamId}/members/${A.users.agent.id}`, code: 'team_not_found' },
    { route: 'add B user to A team', method: 'PUT', url: () => `/teams/${a.teamId}/members/${B.users.agent.id}`, code: 'user_not_found' },
    { route: 'remove member of B team', method: 'DELETE', url: () => `/teams/${b.teamId}/members/${B.users.agent.id}`, code: 'team_not_found' },
    { route: 'GET user', method: 'GET', url: () => `/users/${B.users.owner.id}`, code: 'user_not_found' },
    { route: 'PATCH user', method: 'PATCH', url: () => `/users/${B.users.agent.id}`, body: () => ({ role: 'viewer' }), code: 'user_not_found' },
    { route: 'DELETE user', method: 'DELETE', url: () => `/users/${B.users.agent.id}`, code: 'user_not_found' },
    { route: 'GET channel', method: 'GET', url: () => `/channels/${B.channelId}`, code: 'channel_not_found' },
    { route: 'PATCH channel', method: 'PATCH', url: () => `/channels/${B.channelId}`, body: () => ({ secrets: { identitySecret: 'mine now' } }), code: 'channel_not_found' },
    { route: 'DELETE channel', method: 'DELETE', url: () => `/channels/${B.channelId}`, code: 'channel_not_found' },
    { route: "PATCH A's channel onto B's team", method: 'PATCH', url: () => `/channels/${A.channelId}`, body: () => ({ teamId: b.teamId }), code: 'team_not_found' },
    { route: "POST channel on B's team", method: 'POST', url: () => '/channels', body: () => ({ kind: 'email', name: 'x', externalKey: 'x@a.test', teamId: b.teamId }), code: 'team_not_found' },
    { route: 'revoke API key', method: 'DELETE', url: () => `/api-keys/${b.apiKeyId}`, code: 'api_key_not_found' },
    { route: 'retry dead job', method: 'POST', url: () => `/jobs/dead/${b.deadJobId}/retry`, code: 'dead_job_not_found' },
  ];
  const CALLERS = [
    { name: 'owner token', credential: () => A.users.owner.token },
    { name: 'admin API key', credential: () => A.apiKeys.admin },
  ];

  it.each(PROBES.flatMap((p) => CALLERS.map((c) => ({ ...p, caller: c }))))('$route as $caller.name → 404, B unchanged', async (p) => {
    const before = await snapshotAccount(t, B.accountId);
    const res = await call(t, p.caller.credential(), p.method, `/api/v1${p.url()}`, p.body?.());
    expect(res.statusCode, res.body).toBe(404);
    expect(res.json().error.code).toBe(p.code);
    expect(await snapshotAccount(t, B.accountId)).toEqual(before);
  });
});

describe("A's lists never include B's rows", () => {
  const get = async (url: string) => {
    const res = await call(t, A.users.owner.token, 'GET', `/api/v1${url}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.body;
  };
  const bIds = () => [B.accountId, B.channelId, b.conversationId, b.contactId, b.teamId, b.apiKeyId, ...Object.values(B.users).map((u) => u.id)];

  it.each(['/conversations?limit=100', '/contacts?limit=100', '/teams', '/users', '/channels', '/api-keys', '/jobs/dead', '/audit?limit=200'])('%s', async (url) => {
    const body = await get(url);
    expect(JSON.parse(body).items.length).toBeGreaterThan(0);
    for (const id of bIds()) expect(body).not.toContain(id);
    expect(body).not.toContain('bumblebee');
  });

  it("filters and searches that name B's things come back empty", async () => {
    expect(JSON.parse(await get(`/conversations?channel=${B.channelId}`)).items).toEqual([]);
    expect(JSON.parse(await get(`/conversations?contact=${b.contactId}`)).items).toEqual([]);
    expect(JSON.parse(await get(`/conversations?team=${b.teamId}`)).items).toEqual([]);
    expect(JSON.parse(await get(`/conversations?assignee=${B.users.agent.id}`)).items).toEqual([]);
    expect(JSON.parse(await get('/conversations?q=bumblebee')).items).toEqual([]);
    expect(JSON.parse(await get(`/audit?targetId=${b.teamId}`)).items).toEqual([]);
    expect(JSON.parse(await get('/conversations?q=aardvark')).items).toHaveLength(1);
  });
});

describe('row-level security in the store', () => {
  it.each([...TENANT_TABLES])('a query on %s without an account filter sees only its own rows', async (table) => {
    const rows = await withAccount(t.hub.db, A.accountId, async (tx) => (await tx.query<{ account_id: string }>(`SELECT * FROM ${table}`)).rows);
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.account_id))).toEqual(new Set([A.accountId]));
  });

  it('every table with an account_id has row-level security with a tenant policy, and only own rows show', async () => {
    const tables = (await t.hub.db.query<{ table: string; rls: boolean; policies: number }>(
      `SELECT c.relname AS table, c.relrowsecurity AS rls,
         (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid AND pg_get_expr(p.polqual, p.polrelid) LIKE '%hd_account()%') AS policies
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
         AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'account_id' AND NOT a.attisdropped)`,
    )).rows;
    expect(tables.map((r) => r.table)).toEqual(expect.arrayContaining([...TENANT_TABLES]));
    for (const r of tables) {
      expect({ table: r.table, rls: r.rls, hasPolicy: r.policies > 0 }).toEqual({ table: r.table, rls: true, hasPolicy: true });
      const seen = await withAccount(t.hub.db, A.accountId, async (tx) => (await tx.query<{ account_id: string }>(`SELECT account_id FROM ${r.table}`)).rows);
      expect(seen.filter((x) => x.account_id !== A.accountId), r.table).toEqual([]);
    }
  });

  it('accounts shows only the own account', async () => {
    const rows = await withAccount(t.hub.db, A.accountId, async (tx) => (await tx.query<{ id: string }>(`SELECT id FROM accounts`)).rows);
    expect(rows.map((r) => r.id)).toEqual([A.accountId]);
  });

  it('the application role without an account sees nothing', async () => {
    const n = await t.hub.db.transaction(async (tx) => {
      await tx.query(`SELECT set_config('role', $1, true)`, [APP_ROLE]);
      return Number((await tx.query<{ n: string }>(`SELECT count(*) n FROM conversations`)).rows[0]!.n);
    });
    expect(n).toBe(0);
  });

  it.each([...TENANT_TABLES])('an UPDATE that moves a row of %s to B is refused', async (table) => {
    const attempt = withAccount(t.hub.db, A.accountId, (tx) => tx.query(`UPDATE ${table} SET account_id = $1`, [B.accountId]));
    await expect(attempt).rejects.toMatchObject({ code: '42501' });
  });

  it("an INSERT that names B's account is refused", async () => {
    const before = await snapshotAccount(t, B.accountId);
    const inserts: [string, unknown[]][] = [
      [`INSERT INTO teams (account_id, name) VALUES ($1, 'intruder')`, [B.accountId]],
      [`INSERT INTO contacts (account_id, name) VALUES ($1, 'intruder')`, [B.accountId]],
      [`INSERT INTO audit_log (account_id, actor_kind, action) VALUES ($1, 'user', 'forged')`, [B.accountId]],
      [`INSERT INTO outbox (account_id, topic, payload) VALUES ($1, 'deliver', '{}')`, [B.accountId]],
      [`INSERT INTO messages (account_id, conversation_id, channel_id, direction, author_kind, text) VALUES ($1, $2, $3, 'outbound', 'agent', 'x')`, [B.accountId, b.conversationId, B.channelId]],
    ];
    for (const [sql, params] of inserts) {
      await expect(withAccount(t.hub.db, A.accountId, (tx) => tx.query(sql, params))).rejects.toMatchObject({ code: '42501' });
    }
    expect(await snapshotAccount(t, B.accountId)).toEqual(before);
  });

  it("UPDATE and DELETE by B's ids touch nothing", async () => {
    const before = await snapshotAccount(t, B.accountId);
    const counts = await withAccount(t.hub.db, A.accountId, async (tx) => [
      (await tx.query(`UPDATE conversations SET status = 'resolved' WHERE id = $1`, [b.conversationId])).rowCount,
      (await tx.query(`DELETE FROM messages WHERE id = $1`, [b.messageId])).rowCount,
      (await tx.query(`DELETE FROM users WHERE id = $1`, [B.users.owner.id])).rowCount,
      (await tx.query(`UPDATE channels SET enabled = false WHERE id = $1`, [B.channelId])).rowCount,
    ]);
    expect(counts).toEqual([0, 0, 0, 0]);
    expect(await snapshotAccount(t, B.accountId)).toEqual(before);
  });
});
