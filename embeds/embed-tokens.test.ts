import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../hub/testing/harness.js';

describe('embed tokens', () => {
  let t: TestHub;
  let acct: TestAccount;
  beforeAll(async () => {
    t = await startTestHub({ jobs: false });
    acct = await createTestAccount(t);
  });
  afterAll(async () => t?.close());

  const mint = async (authorization: Record<string, string>) => t.app.inject({ method: 'POST', url: '/api/v1/embed-tokens', headers: authorization });

  it('are minted for an agent user and open only the routes the components call', async () => {
    const res = await mint({ authorization: `Bearer ${acct.users.agent.token}` });
    expect(res.statusCode).toBe(201);
    const { token, expiresIn } = res.json() as { token: string; expiresIn: number };
    expect(expiresIn).toBe(900);
    const bearer = { authorization: `Bearer ${token}` };

    // Opted in: the conversation list, the KB search, the realtime stream's auth, the desk's actions.
    expect((await t.app.inject({ url: '/api/v1/conversations', headers: bearer })).statusCode).toBe(200);
    const missing = '00000000-0000-4000-8000-000000000000';
    expect((await t.app.inject({ url: `/api/v1/conversations/${missing}`, headers: bearer })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'POST', url: `/api/v1/conversations/${missing}/assign`, headers: bearer, payload: {} })).statusCode).toBe(404);
    expect((await t.app.inject({ url: '/api/v1/users', headers: bearer })).statusCode).toBe(200);
    // Not opted in: everything else, including minting another embed token.
    expect((await t.app.inject({ url: '/api/v1/me', headers: bearer })).statusCode).toBe(401);
    expect((await t.app.inject({ url: '/api/v1/contacts', headers: bearer })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/users', headers: bearer, payload: {} })).statusCode).toBe(401);
    expect((await t.app.inject({ url: '/api/v1/api-keys', headers: bearer })).statusCode).toBe(401);
    expect((await mint(bearer)).statusCode).toBe(401);
  });

  it('keep the role of the user: a viewer cannot mint one, an agent cannot use one beyond agent routes', async () => {
    expect((await mint({})).statusCode).toBe(401);
    expect((await mint({ authorization: `Bearer ${acct.users.viewer.token}` })).statusCode).toBe(403);
    for (const role of ['admin', 'owner'] as const) expect((await mint({ authorization: `Bearer ${acct.users[role].token}` })).statusCode).toBe(201);
    // An API key is nobody; an embed token must act as a person.
    const byKey = await mint({ 'x-api-key': acct.apiKeys.agent });
    expect(byKey.statusCode).toBe(400);
    expect(byKey.json().error.code).toBe('embed_token_needs_user');
  });
});
