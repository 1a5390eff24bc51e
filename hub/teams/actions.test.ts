import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { seedConversation } from '../testing/seed.js';
import { withAccount } from '../../storage/session.js';
import { insertDraft } from '../../storage/repositories/ai.js';
import { linkAgent } from '../surfaces/agents.js';
import { readCardModel } from '../surfaces/card-store.js';
import { insertSurfaceThread, surfaceThreadByKey } from '../surfaces/threads.js';
import { cardVersion } from '../surfaces/card.js';
import { INPUT_IDS } from './card.js';
import { handleTeamsAction, TeamsCardActionHandler, TEAMS_LINK_HELP, type TeamsActionDeps, type TeamsClick } from './actions.js';

let t: TestHub;
let acct: TestAccount;
let deps: TeamsActionDeps;
const AGENT_AAD = '00000000-0000-4000-8000-00000000a9e1';
const VIEWER_AAD = '00000000-0000-4000-8000-00000000a9e2';
const url = (id: string) => `https://hub.example/#/conversations/${id}`;

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  acct = await createTestAccount(t);
  deps = { db: t.hub.db, conversations: t.hub.conversations, now: () => new Date(), conversationUrl: url };
  await withAccount(t.hub.db, acct.accountId, async (tx) => {
    await linkAgent(tx, { surface: 'teams', surfaceUserId: AGENT_AAD, userId: acct.users.agent.id });
    await linkAgent(tx, { surface: 'teams', surfaceUserId: VIEWER_AAD, userId: acct.users.viewer.id });
  });
});
afterAll(async () => {
  await t?.close();
});

const query = <R>(sql: string, params: unknown[] = []) => withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<R>(sql, params)).rows);
const model = (conversationId: string) => withAccount(t.hub.db, acct.accountId, (tx) => readCardModel(tx, conversationId, { url, threadReplies: 'notes' }));
const version = async (conversationId: string) => cardVersion((await model(conversationId))!);
let activity = 0;
const click = (data: Record<string, unknown>, aad: string | null = AGENT_AAD, kind: 'action' | 'submit' = 'action'): TeamsClick => {
  const ctx = { activityId: `act-${++activity}`, conversation: { id: '19:c@thread.tacv2;messageid=1', type: 'channel' as const, rootId: '1' }, from: { id: '29:x', ...(aad ? { aadObjectId: aad } : {}) } };
  return kind === 'action' ? { ...ctx, kind, verb: String(data.hd ?? ''), data } : { ...ctx, kind, value: data };
};
const act = (e: TeamsClick) => handleTeamsAction(deps, { accountId: acct.accountId }, e);
/** Shared-card syncs queued for the conversation (this hub runs no jobs: they stay in the outbox). */
const syncsQueued = async (conversationId: string) => (await query<{ n: number }>(`SELECT count(*)::int n FROM outbox WHERE topic = 'surface.sync' AND payload->>'conversationId' = $1`, [conversationId]))[0]!.n;
const outbound = async (conversationId: string) => query<{ text: string; isPrivate: boolean }>(`SELECT text, is_private AS "isPrivate" FROM messages WHERE conversation_id = $1 AND direction = 'outbound' ORDER BY created_at`, [conversationId]);

describe('Teams card actions', () => {
  it('an unlinked clicker (or a viewer) gets a short message and changes nothing', async () => {
    const { conversationId } = await seedConversation(t, acct);
    const v = await version(conversationId);
    for (const aad of [null, '00000000-0000-4000-8000-0000000000ff', VIEWER_AAD]) {
      const answer = await act(click({ hd: 'assignMe', conversationId, v }, aad));
      expect(answer).toEqual({ statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: TEAMS_LINK_HELP });
    }
    expect((await model(conversationId))!.assigneeId).toBeNull();
    expect(await syncsQueued(conversationId)).toBe(0);
  });

  it('Assign to me acts as the linked agent, answers the clicker\'s own view and asks for the shared update', async () => {
    const { conversationId } = await seedConversation(t, acct);
    const answer = await act(click({ hd: 'assignMe', conversationId, v: await version(conversationId) }));
    expect(answer.type).toBe('application/vnd.microsoft.card.adaptive');
    const card = JSON.stringify(answer.value);
    expect(card).toContain('Assigned to you');
    expect(card).not.toContain('"verb":"assignMe"');
    expect((await model(conversationId))!.assigneeId).toBe(acct.users.agent.id);
    // The shared card follows through the one sync the assignment queued with its change.
    expect(await syncsQueued(conversationId)).toBe(1);
    // The answer carries the new version: a click on it acts.
    expect(card).toContain(`"v":"${await version(conversationId)}"`);
  });

  it('a stale click gets the current card and does nothing; a double click sends once', async () => {
    const { conversationId } = await seedConversation(t, acct);
    const v = await version(conversationId);
    const stale = await act(click({ hd: 'resolve', conversationId, v: 'older-version' }));
    expect(stale.type).toBe('application/vnd.microsoft.card.adaptive');
    expect(JSON.stringify(stale.value)).toContain(`"v":"${v}"`);
    expect((await model(conversationId))!.status).toBe('open');
    const data = { hd: 'reply', conversationId, v, [INPUT_IDS.reply]: 'We are on it.' };
    const answers = await Promise.all([act(click(data)), act(click(data))]);
    expect(answers.map((a) => a.type)).toEqual(['application/vnd.microsoft.card.adaptive', 'application/vnd.microsoft.card.adaptive']);
    expect(await outbound(conversationId)).toEqual([{ text: 'We are on it.', isPrivate: false }]);
  });

  it('Send draft sends the draft once; Edit draft sends the edited text; a note stays internal; snooze takes its hours', async () => {
    const { conversationId, messageId } = await seedConversation(t, acct);
    const draftId = await withAccount(t.hub.db, acct.accountId, (tx) => insertDraft(tx, { accountId: acct.accountId, conversationId, messageId, aiResultId: null, text: 'Here is how.', extractive: true, citations: [] }));
    let v = await version(conversationId);
    expect((await act(click({ hd: 'sendDraft', conversationId, v, d: draftId }))).type).toBe('application/vnd.microsoft.card.adaptive');
    expect((await act(click({ hd: 'sendDraft', conversationId, v, d: draftId }))).type).toBe('application/vnd.microsoft.card.adaptive');
    expect(await outbound(conversationId)).toEqual([{ text: 'Here is how.', isPrivate: false }]);
    const draft2 = await withAccount(t.hub.db, acct.accountId, (tx) => insertDraft(tx, { accountId: acct.accountId, conversationId, messageId, aiResultId: null, text: 'Draft two', extractive: false, citations: [] }));
    v = await version(conversationId);
    await act(click({ hd: 'editDraft', conversationId, v, d: draft2, [INPUT_IDS.editDraft]: 'Draft two, edited' }));
    v = await version(conversationId);
    // The Action.Submit fallback (a message with `value`) is handled alike.
    await act(click({ hd: 'note', conversationId, v, [INPUT_IDS.note]: 'Checked the invoice' }, AGENT_AAD, 'submit'));
    expect(await outbound(conversationId)).toEqual([{ text: 'Here is how.', isPrivate: false }, { text: 'Draft two, edited', isPrivate: false }, { text: 'Checked the invoice', isPrivate: true }]);
    expect((await query<{ status: string }>(`SELECT status FROM drafts WHERE id = $1`, [draft2]))[0]!.status).toBe('edited');
    v = await version(conversationId);
    await act(click({ hd: 'snooze', conversationId, v, [INPUT_IDS.snooze]: '4' }));
    const m = (await model(conversationId))!;
    expect(m.status).toBe('snoozed');
    expect(Date.parse(m.snoozedUntil!) - Date.now()).toBeGreaterThan(3.9 * 3_600_000);
  });

  it('refusals answer a message and change nothing', async () => {
    const { conversationId } = await seedConversation(t, acct);
    const v = await version(conversationId);
    expect(await act(click({ hd: 'reply', conversationId, v, [INPUT_IDS.reply]: '   ' }))).toEqual({ statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: 'Write something first.' });
    expect(await act(click({ hd: 'sendDraft', conversationId, v, d: '00000000-0000-4000-8000-000000000000' }))).toMatchObject({ type: 'application/vnd.microsoft.activity.message', value: 'That draft no longer exists.' });
    expect(await act(click({ hd: 'snooze', conversationId, v, [INPUT_IDS.snooze]: '100000' }))).toMatchObject({ type: 'application/vnd.microsoft.activity.message' });
    expect(await act(click({ hd: 'launchRockets', conversationId, v }))).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.activity.message' });
    expect(await act(click({ hd: 'resolve', conversationId: 'not-a-uuid', v }))).toMatchObject({ type: 'application/vnd.microsoft.activity.message', value: 'That conversation no longer exists.' });
    expect(await outbound(conversationId)).toEqual([]);
    // A button whose data names another conversation than the card it sits on is refused.
    const other = await seedConversation(t, acct);
    await withAccount(t.hub.db, acct.accountId, (tx) => insertSurfaceThread(tx, 'teams', { accountId: acct.accountId, conversationId: other.conversationId, surfaceKey: '19:c@thread.tacv2;messageid=1', data: {} }));
    expect(await act(click({ hd: 'resolve', conversationId, v }))).toMatchObject({ type: 'application/vnd.microsoft.activity.message', value: 'That button does not belong to this card.' });
    expect(await withAccount(t.hub.db, acct.accountId, (tx) => surfaceThreadByKey(tx, 'teams', '19:c@thread.tacv2;messageid=1'))).toMatchObject({ conversationId: other.conversationId, active: true });
    // The thread's own conversation is fine (and nothing else uses that thread afterwards).
    expect((await act(click({ hd: 'resolve', conversationId: other.conversationId, v: await version(other.conversationId) }))).type).toBe('application/vnd.microsoft.card.adaptive');
    await withAccount(t.hub.db, acct.accountId, (tx) => tx.query(`DELETE FROM surface_threads WHERE surface_key = '19:c@thread.tacv2;messageid=1'`));
    expect((await model(conversationId))!.status).toBe('open');
  });

  it('refresh is read-only and answers the per-user view, with refresh users read with the card (the assignee first)', async () => {
    const { conversationId } = await seedConversation(t, acct);
    // Linked agents whose Teams user id is known get per-user views; the conversation's assignee comes first.
    await query(`UPDATE users SET teams_mri = '29:x' WHERE id = $1`, [acct.users.agent.id]);
    await query(`UPDATE users SET teams_user_id = '00000000-0000-4000-8000-00000000a9e3', teams_mri = '29:admin' WHERE id = $1`, [acct.users.admin.id]);
    await query(`UPDATE conversations SET assignee_id = $2 WHERE id = $1`, [conversationId, acct.users.admin.id]);
    const answer = await handleTeamsAction({ ...deps, perUserViews: true }, { accountId: acct.accountId }, click({ hd: 'refresh', conversationId, v: 'whatever' }));
    expect(answer.type).toBe('application/vnd.microsoft.card.adaptive');
    const userIds = (answer.value as unknown as { refresh: { userIds: string[] } }).refresh.userIds;
    expect(userIds[0]).toBe('29:admin');
    expect(userIds).toContain('29:x');
    await query(`UPDATE conversations SET assignee_id = NULL WHERE id = $1`, [conversationId]);
    // Anyone in the channel may refresh (an unlinked user sees the shared card).
    expect((await act(click({ hd: 'refresh', conversationId, v: 'x' }, null))).type).toBe('application/vnd.microsoft.card.adaptive');
    expect(await syncsQueued(conversationId)).toBe(0);
    expect((await model(conversationId))!.status).toBe('open');
  });
});

describe('Teams card action handler (the surface router\'s seam)', () => {
  it('answers a click from an unknown team with a message, and a Submit fallback with 200 and the reason told in the thread', async () => {
    const told: string[] = [];
    const log = { info: () => undefined, warn: () => undefined } as never;
    const unknown = new TeamsCardActionHandler({ ...deps, contextOf: async () => undefined });
    const { conversationId } = await seedConversation(t, acct);
    const v = await version(conversationId);
    expect(await unknown.handle(click({ hd: 'resolve', conversationId, v }), {} as never, log)).toEqual({ status: 200, body: { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: 'This team is not connected to HummDesk.' } });
    const known = new TeamsCardActionHandler({ ...deps, contextOf: async () => ({ accountId: acct.accountId }), tellSubmitter: async (_c, _e, text) => void told.push(text) });
    expect(await known.handle(click({ hd: 'resolve', conversationId, v }, null, 'submit'), {} as never, log)).toEqual({ status: 200, body: {} });
    expect(told).toEqual([TEAMS_LINK_HELP]);
    const done = await known.handle(click({ hd: 'resolve', conversationId, v }), {} as never, log);
    expect(done.body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
    expect((await model(conversationId))!.status).toBe('resolved');
  });
});
