import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withAccount } from '../../storage/session.js';
import type { Queryable } from '../../storage/database.js';
import { insertTeam, addTeamMember } from '../../storage/repositories/teams.js';
import { insertUser, updateUser, type Role } from '../../storage/repositories/users.js';
import { updateConversation } from '../../storage/repositories/conversations.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../../hub/testing/harness.js';
import { replaceRoutingRules, routeConversation, type TeamRouting } from './router.js';

let t: TestHub;

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
}, 60_000);
afterAll(() => t?.close());

const tx = <T>(acct: TestAccount, fn: (tx: Queryable) => Promise<T>) => withAccount(t.hub.db, acct.accountId, fn);

async function team(acct: TestAccount, routing: TeamRouting, agents: { name: string; role?: Role; available?: boolean; skills?: string[]; maxOpen?: number }[]) {
  return tx(acct, async (q) => {
    const tm = await insertTeam(q, { accountId: acct.accountId, name: `team-${randomBytes(3).toString('hex')}`, settings: { routing } });
    const ids: Record<string, string> = {};
    for (const a of agents) {
      const u = await insertUser(q, { accountId: acct.accountId, email: `${a.name}-${randomBytes(3).toString('hex')}@${acct.slug}.test`, name: a.name, role: a.role ?? 'agent', passwordHash: null });
      await updateUser(q, u.id, { available: a.available ?? true, skills: a.skills ?? [], maxOpenConversations: a.maxOpen ?? null });
      await addTeamMember(q, { accountId: acct.accountId, teamId: tm.id, userId: u.id });
      ids[a.name] = u.id;
    }
    return { id: tm.id, users: ids, name: (id: string | null) => Object.entries(ids).find(([, v]) => v === id)?.[0] ?? null };
  });
}

async function conversation(acct: TestAccount, o: { teamId?: string | null; assigneeId?: string | null; status?: string } = {}): Promise<string> {
  return tx(acct, async (q) => {
    const contact = (await q.query<{ id: string }>(`INSERT INTO contacts (account_id, name) VALUES ($1, 'C') RETURNING id`, [acct.accountId])).rows[0]!.id;
    return (await q.query<{ id: string }>(
      `INSERT INTO conversations (account_id, channel_id, contact_id, thread_key, team_id, assignee_id, status) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [acct.accountId, acct.channelId, contact, `t:${randomBytes(6).toString('hex')}`, o.teamId ?? null, o.assigneeId ?? null, o.status ?? 'open'],
    )).rows[0]!.id;
  });
}

/** What the AI stage does: route, then store the assignment, in one transaction. */
async function route(acct: TestAccount, teamId: string | null, category = 'billing', language = 'en') {
  const id = await conversation(acct, { teamId });
  return tx(acct, async (q) => {
    const d = await routeConversation(q, { accountId: acct.accountId, conversation: { teamId, assigneeId: null }, category, language });
    if (d) await updateConversation(q, id, { teamId: d.teamId, assigneeId: d.assigneeId ?? undefined });
    return d;
  });
}

describe('routing rules', () => {
  it('maps category and language to a team, first match wins, and keeps the channel team otherwise', async () => {
    const acct = await createTestAccount(t);
    const fi = await team(acct, {}, [{ name: 'aino' }]);
    const billing = await team(acct, {}, [{ name: 'bea' }]);
    const general = await team(acct, {}, [{ name: 'gus' }]);
    const channelTeam = await team(acct, {}, [{ name: 'cai' }]);
    await tx(acct, (q) => replaceRoutingRules(q, acct.accountId, [
      { language: 'fi', teamId: fi.id },
      { category: 'billing', teamId: billing.id },
      { category: 'technical', language: 'sv', teamId: general.id },
    ]));
    expect((await route(acct, null, 'billing', 'fi'))?.teamId).toBe(fi.id);
    expect((await route(acct, null, 'billing', 'en'))?.teamId).toBe(billing.id);
    expect((await route(acct, null, 'technical', 'sv'))?.teamId).toBe(general.id);
    const kept = await route(acct, channelTeam.id, 'technical', 'en');
    expect(kept).toMatchObject({ teamId: channelTeam.id, ruleId: null, assigneeId: channelTeam.users.cai });
    expect(await route(acct, null, 'technical', 'en')).toBeUndefined();
  });

  it('leaves an assigned conversation alone', async () => {
    const acct = await createTestAccount(t);
    const tm = await team(acct, {}, [{ name: 'a' }]);
    const d = await tx(acct, (q) => routeConversation(q, { accountId: acct.accountId, conversation: { teamId: tm.id, assigneeId: tm.users.a! }, category: 'billing' }));
    expect(d).toBeUndefined();
  });

  it('cannot route to another tenant’s team through the API', async () => {
    const acct = await createTestAccount(t);
    const other = await createTestAccount(t);
    const theirs = await team(other, {}, []);
    const r = await t.app.inject({ method: 'PUT', url: '/api/v1/ai/routing/rules', headers: { 'x-api-key': acct.apiKeys.admin }, payload: { rules: [{ category: 'billing', teamId: theirs.id }] } });
    expect(r.statusCode).toBe(404);
    const mine = await team(acct, {}, []);
    const ok = await t.app.inject({ method: 'PUT', url: '/api/v1/ai/routing/rules', headers: { 'x-api-key': acct.apiKeys.admin }, payload: { rules: [{ category: 'billing', teamId: mine.id }, { teamId: mine.id }] } });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().items.map((i: { category: string | null }) => i.category)).toEqual(['billing', null]);
    const agent = await t.app.inject({ method: 'PUT', url: '/api/v1/ai/routing/rules', headers: { 'x-api-key': acct.apiKeys.agent }, payload: { rules: [] } });
    expect(agent.statusCode).toBe(403);
  });
});

describe('strategies within a team', () => {
  it('round-robin rotates over available agents only, skipping viewers', async () => {
    const acct = await createTestAccount(t);
    const tm = await team(acct, { strategy: 'round_robin' }, [{ name: 'a' }, { name: 'b' }, { name: 'away', available: false }, { name: 'v', role: 'viewer' }, { name: 'c' }]);
    const picks: (string | null)[] = [];
    for (let i = 0; i < 6; i++) picks.push(tm.name((await route(acct, tm.id))!.assigneeId));
    expect(new Set(picks.slice(0, 3))).toEqual(new Set(['a', 'b', 'c']));
    expect(picks.slice(3)).toEqual(picks.slice(0, 3));
  });

  it('least-loaded picks the agent with the fewest open or pending conversations', async () => {
    const acct = await createTestAccount(t);
    const tm = await team(acct, { strategy: 'least_loaded' }, [{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    for (let i = 0; i < 2; i++) await conversation(acct, { teamId: tm.id, assigneeId: tm.users.a });
    await conversation(acct, { teamId: tm.id, assigneeId: tm.users.b, status: 'pending' });
    for (let i = 0; i < 5; i++) await conversation(acct, { teamId: tm.id, assigneeId: tm.users.c, status: 'resolved' });
    expect(tm.name((await route(acct, tm.id))!.assigneeId)).toBe('c');
    // Now a 2, b 1, c 1: b or c, then the other; then all three are at 2 and share.
    const next = [tm.name((await route(acct, tm.id))!.assigneeId), tm.name((await route(acct, tm.id))!.assigneeId)];
    expect(new Set(next)).toEqual(new Set(['b', 'c']));
  });

  it('skill-based needs every skill of the category (and language), and queues or falls back when nobody has them', async () => {
    const acct = await createTestAccount(t);
    const tm = await team(acct, { strategy: 'skill_based', skills: { billing: ['invoices'] }, languageSkills: true }, [
      { name: 'en-inv', skills: ['invoices', 'lang:en'] }, { name: 'fi-inv', skills: ['invoices', 'lang:fi'] }, { name: 'fi-tech', skills: ['technical', 'lang:fi'] },
    ]);
    expect(tm.name((await route(acct, tm.id, 'billing', 'fi'))!.assigneeId)).toBe('fi-inv');
    expect(tm.name((await route(acct, tm.id, 'billing', 'en'))!.assigneeId)).toBe('en-inv');
    expect(tm.name((await route(acct, tm.id, 'technical', 'fi'))!.assigneeId)).toBe('fi-tech');
    const queued = await route(acct, tm.id, 'technical', 'sv');
    expect(queued).toMatchObject({ teamId: tm.id, assigneeId: null });
    expect(queued!.reason).toContain('lang:sv');
    const fallback = await team(acct, { strategy: 'skill_based', fallback: 'any' }, [{ name: 'x' }]);
    expect(fallback.name((await route(acct, fallback.id, 'sales', 'en'))!.assigneeId)).toBe('x');
  });

  it('capacity-aware never exceeds an agent’s max open conversations and queues when everyone is full', async () => {
    const acct = await createTestAccount(t);
    const tm = await team(acct, { strategy: 'capacity', maxOpen: 3 }, [{ name: 'one', maxOpen: 1 }, { name: 'two', maxOpen: 2 }, { name: 'off', available: false, maxOpen: 10 }]);
    const picks: (string | null)[] = [];
    for (let i = 0; i < 4; i++) picks.push(tm.name((await route(acct, tm.id))!.assigneeId));
    expect(picks.filter((p) => p === 'one')).toHaveLength(1);
    expect(picks.filter((p) => p === 'two')).toHaveLength(2);
    expect(picks[3]).toBeNull();
    const open = await team(acct, { strategy: 'capacity' }, [{ name: 'unlimited' }]);
    for (let i = 0; i < 3; i++) expect(open.name((await route(acct, open.id))!.assigneeId)).toBe('unlimited');
  });

  it('decides for a team with nobody available without its lock: analyses of its conversations do not wait for each other', async () => {
    const acct = await createTestAccount(t);
    const tm = await team(acct, {}, [{ name: 'away', available: false }]);
    const decide = (q: Queryable) => routeConversation(q, { accountId: acct.accountId, conversation: { teamId: tm.id, assigneeId: null }, category: 'billing', language: 'en' });
    await tx(acct, async (first) => {
      expect((await decide(first))!.assigneeId).toBeNull();
      // The first analysis has not committed; a second one decides meanwhile (it waited on the team's lock, then timed out).
      const second = await tx(acct, async (q) => {
        await q.query(`SET LOCAL lock_timeout = '2s'`);
        return decide(q);
      });
      expect(second).toMatchObject({ teamId: tm.id, assigneeId: null, reason: 'no available agent in the team' });
    });
  });

  it('serialises concurrent decisions per team, so two jobs do not both take the last free slot', async () => {
    const acct = await createTestAccount(t);
    const tm = await team(acct, { strategy: 'capacity' }, [{ name: 'a', maxOpen: 1 }, { name: 'b', maxOpen: 1 }]);
    const picks = await Promise.all([0, 1, 2].map(() => route(acct, tm.id)));
    const names = picks.map((p) => tm.name(p!.assigneeId));
    expect(names.filter((n) => n === 'a')).toHaveLength(1);
    expect(names.filter((n) => n === 'b')).toHaveLength(1);
    expect(names.filter((n) => n === null)).toHaveLength(1);
  });
});
