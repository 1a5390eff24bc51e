import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { seedConversation } from '../testing/seed.js';
import { withAccount } from '../../storage/session.js';
import { activeSurfaceThread, insertSurfaceThread, retireSurfaceThread, saveSurfaceRootHash, surfaceThreadByKey } from './threads.js';

let t: TestHub;
let acct: TestAccount;
beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  acct = await createTestAccount(t);
});
afterAll(async () => {
  await t?.close();
});

describe('surface threads', () => {
  it('keeps one active thread per conversation and surface; a move retires the old one saying where it went', async () => {
    const { conversationId } = await seedConversation(t, acct);
    const tx = <T>(fn: Parameters<typeof withAccount<T>>[2]) => withAccount(t.hub.db, acct.accountId, fn);
    const first = await tx((q) => insertSurfaceThread(q, 'teams', { accountId: acct.accountId, conversationId, surfaceKey: '19:a;messageid=1', data: { channel: '19:a' } }));
    await tx((q) => saveSurfaceRootHash(q, first.id, 'h1'));
    expect(await tx((q) => surfaceThreadByKey(q, 'teams', '19:a;messageid=1'))).toMatchObject({ conversationId, active: true, data: { channel: '19:a', rootHash: 'h1' } });
    // The same key on another surface is another thread.
    expect(await tx((q) => surfaceThreadByKey(q, 'slack', '19:a;messageid=1'))).toBeUndefined();
    await tx((q) => retireSurfaceThread(q, first.id, '19:b'));
    const second = await tx((q) => insertSurfaceThread(q, 'teams', { accountId: acct.accountId, conversationId, surfaceKey: '19:b;messageid=2', data: { channel: '19:b' } }));
    expect((await tx((q) => activeSurfaceThread(q, 'teams', conversationId)))!.id).toBe(second.id);
    expect(await tx((q) => surfaceThreadByKey(q, 'teams', '19:a;messageid=1'))).toMatchObject({ active: false, data: { movedTo: '19:b' } });
  });
});
