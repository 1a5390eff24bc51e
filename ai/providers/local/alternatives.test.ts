import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelInstallation } from '../../../connectors/core/types.js';
import { findInstallation } from '../../../storage/repositories/channels.js';
import { withAccount } from '../../../storage/session.js';
import { createTestAccount, eventually, importKb, startTestHub, type TestAccount, type TestHub } from '../../../hub/testing/harness.js';

let t: TestHub;
let acct: TestAccount;
let channel: ChannelInstallation;

const api = (key: string, method: 'GET' | 'POST', url: string, payload?: unknown) =>
  t.app.inject({ method, url, headers: { 'x-api-key': key }, payload: payload as Record<string, unknown> | undefined });

beforeAll(async () => {
  t = await startTestHub({ ai: true });
  acct = await createTestAccount(t);
  channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: acct.channelId }))!;
  const articles = [
    { title: 'Refunds for double charges', body: 'If you were charged twice for your subscription, the duplicate payment is refunded automatically within 5 business days.', externalId: 'kb-double' },
    { title: 'How long a refund takes', body: 'A refund for a subscription payment reaches your card within 5 to 10 business days, depending on your bank.', externalId: 'kb-refund-time' },
    { title: 'Refunds for annual subscriptions', body: 'If you cancel an annual subscription payment within 14 days, we refund the payment in full.', externalId: 'kb-annual' },
    { title: 'Resetting your password', body: 'Open the login page and choose "Forgot password". We email you a reset link that is valid for one hour.', externalId: 'kb-password' },
  ];
  const r = await importKb(t, acct.apiKeys.admin, articles);
  expect(r.status.state, JSON.stringify(r.status)).toBe('done');
}, 120_000);
afterAll(() => t?.close());

type Row = { id: string; status: string; extractive: boolean; aiResultId: string; citations: { id: string; title: string }[] };

describe('alternative drafts', () => {
  // The first analysis loads the models in the AI thread: tens of seconds on a loaded machine.
  it('proposes one draft per relevant article, and sending one supersedes the others', { timeout: 180_000 }, async () => {
    const [o] = await t.hub.ingest.ingest(channel, [{
      type: 'message',
      message: {
        channel: { kind: 'webchat', channelId: channel.id }, externalId: 'alt-1', threadKey: `webchat:${channel.id}:alt`, direction: 'inbound',
        sender: { externalId: 'alt', displayName: 'Alex', isBot: false }, sentAt: new Date().toISOString(),
        text: 'I was charged twice for my subscription payment. When do I get my refund?', attachments: [], raw: {},
      },
    }]);
    const conversationId = o!.conversationId!;
    const list = () => api(acct.apiKeys.agent, 'GET', `/api/v1/conversations/${conversationId}`).then((r) => r.json().drafts as Row[]);
    const drafts = await eventually(async () => { const d = await list(); return d.length ? d : undefined; }, 60_000);
    expect(drafts.length, JSON.stringify(drafts.map((d) => d.citations))).toBeGreaterThanOrEqual(2);
    expect(drafts.length).toBeLessThanOrEqual(3);
    expect(drafts.every((d) => d.status === 'proposed' && d.extractive && d.citations.length === 1)).toBe(true);
    expect(new Set(drafts.map((d) => d.aiResultId)).size).toBe(1);
    const cited = drafts.map((d) => d.citations[0]!.title);
    expect(new Set(cited).size).toBe(cited.length);
    expect(cited).not.toContain('Resetting your password');
    // The first choice cites the best passage's article and is listed first.
    const best = await withAccount(t.hub.db, acct.accountId, async (tx) =>
      (await tx.query<{ id: string }>(`SELECT evidence->'passages'->0->>'articleId' AS id FROM ai_results WHERE id = $1`, [drafts[0]!.aiResultId])).rows[0]!.id);
    expect(drafts[0]!.citations[0]!.id).toBe(best);

    const chosen = drafts[1]!;
    const text = (await withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<{ text: string }>(`SELECT text FROM drafts WHERE id = $1`, [chosen.id])).rows[0]!)).text;
    const sent = await api(acct.apiKeys.agent, 'POST', `/api/v1/conversations/${conversationId}/reply`, { text, draftId: chosen.id });
    expect(sent.statusCode, sent.body).toBeLessThan(300);
    const after = await list();
    expect(after.find((d) => d.id === chosen.id)?.status).toBe('accepted');
    expect(after.filter((d) => d.id !== chosen.id).map((d) => d.status)).toEqual(drafts.slice(0, -1).map(() => 'superseded'));
  });
});
