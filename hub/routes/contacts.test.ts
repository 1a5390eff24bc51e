import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { call, seedConversation } from '../testing/seed.js';

let t: TestHub;
let acct: TestAccount;

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  acct = await createTestAccount(t);
});
afterAll(() => t?.close());

describe('contacts', () => {
  it('lists every contact exactly once across pages', async () => {
    const seeded: string[] = [];
    for (let i = 0; i < 5; i++) seeded.push((await seedConversation(t, acct)).contactId);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await call(t, acct.users.viewer.token, 'GET', `/api/v1/contacts?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...res.json().items.map((c: { id: string }) => c.id));
      cursor = res.json().nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(seeded));
  });

  it('searches by name, email or phone, and shows identities', async () => {
    const s = await seedConversation(t, acct, { sender: 'quokka-1' });
    const found = await call(t, acct.users.viewer.token, 'GET', '/api/v1/contacts?q=quokka');
    expect(found.json().items.map((c: { id: string }) => c.id)).toEqual([s.contactId]);
    const one = await call(t, acct.users.viewer.token, 'GET', `/api/v1/contacts/${s.contactId}`);
    expect(one.json().identities).toEqual([expect.objectContaining({ channelId: acct.channelId, externalId: 'quokka-1', verified: false })]);
  });

  it('lets an agent edit a contact, and audits it', async () => {
    const s = await seedConversation(t, acct);
    const res = await call(t, acct.users.agent.token, 'PATCH', `/api/v1/contacts/${s.contactId}`, { name: 'Quinn', email: 'quinn@example.com', metadata: { plan: 'gold' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: 'Quinn', email: 'quinn@example.com', metadata: { plan: 'gold' } });
    const audit = await call(t, acct.users.admin.token, 'GET', `/api/v1/audit?targetId=${s.contactId}`);
    expect(audit.json().items[0]).toMatchObject({ action: 'contact.updated', actorKind: 'user', actorId: acct.users.agent.id });
  });
});
