import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelInstallation, InboundEvent } from '../../connectors/core/types.js';
import { findInstallation } from '../../storage/repositories/channels.js';
import { withAccount } from '../../storage/session.js';
import { insertTeam, addTeamMember } from '../../storage/repositories/teams.js';
import { replaceRoutingRules } from '../routing/router.js';
import { createTestAccount, eventually, importKb, startTestHub, type TestAccount, type TestHub } from '../../hub/testing/harness.js';

/** The AI stage end to end with the local provider: routing and the auto-send policy. */
let t: TestHub;

const inbound = (channel: ChannelInstallation, externalId: string, text: string, autoReply = false): InboundEvent => ({
  type: 'message',
  message: {
    channel: { kind: 'webchat', channelId: channel.id }, externalId, threadKey: `webchat:${channel.id}:${externalId}`, direction: 'inbound',
    sender: { externalId, displayName: 'Vera', isBot: false }, sentAt: new Date().toISOString(), text, attachments: [], raw: {}, autoReply,
  },
});

async function account(settings: Record<string, unknown>): Promise<{ acct: TestAccount; channel: ChannelInstallation }> {
  const acct = await createTestAccount(t);
  await t.hub.db.query(`UPDATE accounts SET settings = $2 WHERE id = $1`, [acct.accountId, settings]);
  const r = await importKb(t, acct.apiKeys.admin, [
    { title: 'Resetting your password', body: 'Open the login page and choose "Forgot password". We email you a reset link that is valid for one hour.', externalId: 'pw' },
  ]);
  expect(r.status.state, JSON.stringify(r.status)).toBe('done');
  return { acct, channel: (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: acct.channelId }))! };
}

const auditOf = (acct: TestAccount, action: string) => withAccount(t.hub.db, acct.accountId, async (tx) =>
  (await tx.query<{ actorKind: string; targetId: string; data: Record<string, unknown> }>(`SELECT actor_kind AS "actorKind", target_id AS "targetId", data FROM audit_log WHERE action = $1 ORDER BY id`, [action])).rows);

const QUESTION = 'Hi! How can I reset my password? Thanks';
// Permissive on purpose: the local model's confidence on the default categories is modest; the policy itself is unit-tested.
const AUTO = { ai: { autoSend: { enabled: true, minConfidence: 0.05, categories: ['account', 'technical', 'general'] } } };

beforeAll(async () => {
  t = await startTestHub({ ai: true });
}, 120_000);
afterAll(() => t?.close());

describe('AI stage: routing and auto-send', () => {
  it('routes by rule, audits it, and auto-sends an allowed draft as the AI through the reply service', async () => {
    const { acct, channel } = await account(AUTO);
    const teamId = await withAccount(t.hub.db, acct.accountId, async (tx) => {
      const tm = await insertTeam(tx, { accountId: acct.accountId, name: 'Support', settings: { routing: { strategy: 'least_loaded' } } });
      await addTeamMember(tx, { accountId: acct.accountId, teamId: tm.id, userId: acct.users.agent.id });
      await replaceRoutingRules(tx, acct.accountId, [{ teamId: tm.id }]);
      return tm.id;
    });
    const [o] = await t.hub.ingest.ingest(channel, [inbound(channel, 'q1', QUESTION)]);
    const decided = await eventually(async () => [...await auditOf(acct, 'ai.auto_send.skipped'), ...await auditOf(acct, 'ai.auto_send.fired')][0], 60_000);
    expect(decided.data.reasons).not.toContain('negative sentiment');
    const sent = await eventually(() => withAccount(t.hub.db, acct.accountId, async (tx) =>
      (await tx.query<{ text: string; authorKind: string }>(`SELECT text, author_kind AS "authorKind" FROM messages WHERE conversation_id = $1 AND direction = 'outbound'`, [o!.conversationId])).rows[0]), 60_000);
    expect(sent.authorKind).toBe('ai');
    expect(sent.text).toContain('Forgot password');
    const conv = await withAccount(t.hub.db, acct.accountId, async (tx) =>
      (await tx.query<{ teamId: string; assigneeId: string }>(`SELECT team_id AS "teamId", assignee_id AS "assigneeId" FROM conversations WHERE id = $1`, [o!.conversationId])).rows[0]!);
    expect(conv).toEqual({ teamId, assigneeId: acct.users.agent.id });
    const routed = await auditOf(acct, 'conversation.routed');
    expect(routed[0]).toMatchObject({ actorKind: 'ai', targetId: o!.conversationId, data: { teamId, assigneeId: acct.users.agent.id, strategy: 'least_loaded' } });
    const fired = await auditOf(acct, 'ai.auto_send.fired');
    expect(fired).toHaveLength(1);
    const draft = await withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<{ id: string; status: string }>(`SELECT id, status FROM drafts WHERE conversation_id = $1`, [o!.conversationId])).rows[0]!);
    expect(fired[0]!.targetId).toBe(draft.id);
    expect(draft.status).toBe('accepted');
    expect((await auditOf(acct, 'conversation.reply'))[0]?.actorKind).toBe('ai');
  }, 90_000);

  it('is off by default: the draft waits for an agent and nothing is logged', async () => {
    const { acct, channel } = await account({});
    const [o] = await t.hub.ingest.ingest(channel, [inbound(channel, 'q2', QUESTION)]);
    await eventually(() => withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query(`SELECT 1 FROM drafts WHERE conversation_id = $1`, [o!.conversationId])).rowCount > 0), 60_000);
    const out = await withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query(`SELECT 1 FROM messages WHERE conversation_id = $1 AND direction = 'outbound'`, [o!.conversationId])).rowCount);
    expect(out).toBe(0);
    expect(await auditOf(acct, 'ai.auto_send.skipped')).toHaveLength(0);
  }, 60_000);

  it('does not fire on an auto-reply or an urgent message, and logs why', async () => {
    const { acct, channel } = await account(AUTO);
    // Ingest never queues analysis for an auto-reply; run the stage on one anyway, as a late or replayed job would.
    const [auto] = await t.hub.ingest.ingest(channel, [inbound(channel, 'ooo', `Out of office. ${QUESTION}`, true)]);
    await t.hub.handlers['ai.classify']!({ id: 'x', accountId: acct.accountId, topic: 'ai.classify', payload: { conversationId: auto!.conversationId, messageId: auto!.messageId }, attempt: 1 });
    const [urgent] = await t.hub.ingest.ingest(channel, [inbound(channel, 'urg', `URGENT emergency, account hacked, fix this immediately! ${QUESTION}`)]);
    const skipped = await eventually(async () => {
      const rows = await auditOf(acct, 'ai.auto_send.skipped');
      return rows.length >= 2 ? rows : undefined;
    }, 60_000);
    const reasons = (id: string) => skipped.find((s) => s.data.conversationId === id)?.data.reasons as string[];
    expect(reasons(auto!.conversationId!)).toContain('the message is an auto-reply');
    expect(reasons(urgent!.conversationId!)).toContain('urgent');
    expect(await auditOf(acct, 'ai.auto_send.fired')).toHaveLength(0);
    const out = await withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query(`SELECT 1 FROM messages WHERE direction = 'outbound'`)).rowCount);
    expect(out).toBe(0);
  }, 60_000);
});
