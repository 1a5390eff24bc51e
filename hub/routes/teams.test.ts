import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { call } from '../testing/seed.js';

let t: TestHub;
let acct: TestAccount;

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  acct = await createTestAccount(t);
});
afterAll(() => t?.close());

describe('teams', () => {
  it('creates, renames, sets settings, manages members and deletes', async () => {
    const admin = acct.users.admin.token;
    const created = await call(t, admin, 'POST', '/api/v1/teams', { name: 'Nordics', settings: { languages: ['fi', 'sv'] } });
    expect(created.statusCode).toBe(201);
    const id = created.json().id;
    expect(created.json()).toMatchObject({ name: 'Nordics', settings: { languages: ['fi', 'sv'] }, memberIds: [] });

    expect((await call(t, admin, 'PATCH', `/api/v1/teams/${id}`, { name: 'Nordic', settings: { roundRobin: true } })).json()).toMatchObject({ name: 'Nordic', settings: { roundRobin: true } });
    expect((await call(t, admin, 'PUT', `/api/v1/teams/${id}/members/${acct.users.agent.id}`)).json().memberIds).toEqual([acct.users.agent.id]);
    expect((await call(t, admin, 'PUT', `/api/v1/teams/${id}/members/${acct.users.agent.id}`)).json().memberIds).toEqual([acct.users.agent.id]);
    expect((await call(t, admin, 'DELETE', `/api/v1/teams/${id}/members/${acct.users.agent.id}`)).json().memberIds).toEqual([]);
    const gone = await call(t, admin, 'DELETE', `/api/v1/teams/${id}/members/${acct.users.agent.id}`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe('team_member_not_found');

    expect((await call(t, admin, 'DELETE', `/api/v1/teams/${id}`)).statusCode).toBe(204);
    expect((await call(t, admin, 'GET', `/api/v1/teams/${id}`)).statusCode).toBe(404);
  });

  it('refuses settings that are not an object and a duplicate name', async () => {
    const admin = acct.users.admin.token;
    for (const settings of [[1, 2], 'x', 3, null]) {
      const res = await call(t, admin, 'POST', '/api/v1/teams', { name: 'Bad', settings });
      expect(res.statusCode).toBe(400);
    }
    await call(t, admin, 'POST', '/api/v1/teams', { name: 'Same' });
    const dup = await call(t, admin, 'POST', '/api/v1/teams', { name: 'Same' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe('team_exists');
  });

  it('pages through the audit log of team changes newest first', async () => {
    const p = await createTestAccount(t);
    for (let i = 0; i < 5; i++) await call(t, p.users.admin.token, 'POST', '/api/v1/teams', { name: `T${i}` });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await call(t, p.users.owner.token, 'GET', `/api/v1/audit?action=team.created&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...res.json().items.map((e: { data: { name: string } }) => e.data.name));
      cursor = res.json().nextCursor;
    } while (cursor);
    expect(seen).toEqual(['T4', 'T3', 'T2', 'T1', 'T0']);
  });
});
