import type { Logger } from 'pino';
import { queryPrepared, type Database, type Queryable } from '../../storage/database.js';
import { tenantReads } from '../../storage/session.js';
import { getConversation, patchConversation } from '../../storage/repositories/conversations.js';
import { latestPublicMessages } from '../../storage/repositories/messages.js';
import { DRAFTS_WANTED, insertAiResult, insertDrafts, retireDrafts } from '../../storage/repositories/ai.js';
import { GroupedWrites } from '../../storage/grouped-writes.js';
import { enqueue } from '../../storage/repositories/outbox.js';
import { audit } from '../../storage/repositories/audit.js';
import { routeConversation, routingReads, type RoutingReads } from '../../ai/routing/router.js';
import { decideAutoSend, type AutoSendPolicy } from '../../ai/autosend/policy.js';
import { SETTLE_STATE_COLUMNS, settleClassification, type SettleState } from '../../ai/classify/conversation.js';
import { SharedReads } from '../../ai/providers/local/shared-reads.js';
import type { ConversationAi } from '../ai-stage.js';
import type { ConversationService } from '../services/conversations.js';
import type { EventBus, HubEvent } from '../realtime/events.js';
import type { Job } from '../queue/jobs.js';
import { AI_BATCH } from '../../ai/workers/models.js';

const HISTORY = 20;

/**
 * The AI stage: classify, route and draft one inbound message, and send the draft when the account's
 * auto-send policy allows it; without a provider it does nothing. Routing runs here, in the write
 * transaction, not in a provider: it is the same for every provider, and it must see (and lock) the
 * current assignments, which a provider call outside any transaction cannot.
 */
export function analyzeHandler(deps: { db: Database; bus: EventBus; ai: () => ConversationAi | undefined; conversations?: () => ConversationService; log?: Logger; now?: () => number }) {
  const now = deps.now ?? Date.now;
  // Analyses of one account finishing together (a batch) read its auto-send policy and surfaces once.
  const reads = new SharedReads();
  const writes = new GroupedWrites(deps.db, AI_BATCH);
  // The analyses written in one transaction read routing rules, team settings and agents once.
  const routing = new WeakMap<Queryable, RoutingReads>();
  const routingIn = (tx: Queryable) => {
    let r = routing.get(tx);
    if (!r) routing.set(tx, (r = routingReads()));
    return r;
  };
  const accountStage = (accountId: string) => reads.get(accountId, async () =>
    (await tenantReads(deps.db, accountId).query<{ policy: AutoSendPolicy | null; surfaces: boolean }>(
      `SELECT (SELECT settings->'ai'->'autoSend' FROM accounts WHERE id = $1) AS policy,
              EXISTS (SELECT 1 FROM channels WHERE kind IN ('slack', 'teams') AND enabled) AS surfaces`, [accountId])).rows[0]!);
  return async (job: Job): Promise<void> => {
    const ai = deps.ai();
    if (!ai) return;
    const conversationId = String(job.payload.conversationId);
    const messageId = String(job.payload.messageId);
    // Two reads, each one round trip as the tenant (no BEGIN, no COMMIT); they need no shared snapshot.
    const asTenant = tenantReads(deps.db, job.accountId);
    const conversation = await getConversation(asTenant, conversationId);
    if (!conversation) return;
    const input = { conversation, messages: await latestPublicMessages(asTenant, conversationId, HISTORY) };
    const started = now();
    // The provider call happens outside any transaction: a slow model must not hold a connection.
    const analysis = await ai.analyze({
      accountId: job.accountId,
      conversation: { id: conversationId, subject: input.conversation.subject, channelKind: input.conversation.channelKind, language: input.conversation.language },
      messages: input.messages.map((m) => ({ direction: m.direction, authorKind: m.authorKind, text: m.text, sentAt: m.sentAt })),
    });
    const latencyMs = Math.round(now() - started);
    job.offThreadMs = analysis.offThreadMs;
    // Read before the write transaction opens; as at ingest, without a Slack or Teams installation there is nothing to mirror.
    const { policy, surfaces } = await accountStage(job.accountId);
    // Written in the account's next group of analysis writes (storage/grouped-writes.ts): one transaction for the analyses finishing together.
    const { events, autoSendDraft } = await writes.run(job.accountId, async (tx) => {
      const events: HubEvent[] = [];
      let autoSendDraft: { id: string; text: string } | undefined;
      // What the write decides on, in one statement: the conversation now (an agent may have taken it while
      // the model ran), its classification so far, and whether drafts are still wanted.
      const seen = (await queryPrepared<SettleState & { teamId: string | null; assigneeId: string | null; language: string | null; wanted: boolean }>(tx, 'hd_analysis_write_state',
        `SELECT ${SETTLE_STATE_COLUMNS('$2')}, c.team_id AS "teamId", c.assignee_id AS "assigneeId", c.language, ${DRAFTS_WANTED('$2')} AS wanted
         FROM conversations c WHERE c.id = $1`, [conversationId, messageId])).rows[0];
      // Deleted meanwhile: nothing to classify.
      if (!seen) return { events, autoSendDraft };
      // The conversation as a whole: a polite follow-up does not lower priority or change the topic (ai/classify/conversation.ts).
      const latestText = input.messages.filter((m) => m.direction === 'inbound').at(-1)?.text ?? '';
      const { classification: c, settled } = settleClassification(seen, messageId, analysis.classification, latestText);
      const aiResultId = await insertAiResult(tx, {
        accountId: job.accountId, conversationId, messageId, provider: analysis.provider, model: analysis.model, latencyMs,
        category: c.category, priority: c.priority, sentiment: c.sentiment, language: c.language, confidence: c.confidence,
        evidence: { ...analysis.evidence, conversation: settled },
      });
      // A new analysis replaces earlier proposals, even when it has none; one overtaken by a reply, a resolve or a newer message proposes nothing.
      const wanted = seen.wanted;
      if (!analysis.draft || !wanted) await retireDrafts(tx, conversationId);
      if (analysis.draft && wanted) {
        // The first choice and its alternatives are proposed together; auto-send only ever considers the first.
        const [draftId] = (await insertDrafts(tx, [analysis.draft, ...(analysis.alternatives ?? [])].map((d) => ({
          accountId: job.accountId, conversationId, messageId, aiResultId, text: d.text, extractive: d.extractive, citations: d.citations,
        })))) as [string];
        events.push({ type: 'draft.created', conversationId, draftId });
        if (policy?.enabled) {
          const state = (await tx.query<{ autoReply: boolean; latest: boolean; answered: boolean }>(
            `SELECT m.auto_reply AS "autoReply",
               NOT EXISTS (SELECT 1 FROM messages n WHERE n.conversation_id = m.conversation_id AND n.direction = 'inbound' AND NOT n.is_private
                           AND (n.sent_at, n.id) > (m.sent_at, m.id)) AS latest,
               EXISTS (SELECT 1 FROM messages o WHERE o.conversation_id = m.conversation_id AND o.direction = 'outbound' AND NOT o.is_private
                       AND o.created_at > m.created_at) AS answered
             FROM messages m WHERE m.id = $1`, [messageId])).rows[0];
          const decision = decideAutoSend(policy, {
            classification: c, draft: analysis.draft,
            message: { autoReply: state?.autoReply ?? true, isLatestInbound: state?.latest ?? false, answered: state?.answered ?? true },
          });
          await audit(tx, {
            accountId: job.accountId, actorKind: 'ai', action: decision.send ? 'ai.auto_send.fired' : 'ai.auto_send.skipped', targetKind: 'draft', targetId: draftId,
            data: { conversationId, messageId, confidence: c.confidence ?? null, category: c.category ?? null, reasons: decision.reasons },
          });
          if (decision.send) autoSendDraft = { id: draftId, text: analysis.draft.text };
        }
      }
      if (surfaces) await enqueue(tx, job.accountId, 'surface.sync', { conversationId });
      // Routing last: it locks the team's routing state (when an agent can be chosen) until the commit just after.
      const current = { teamId: seen.teamId, assigneeId: seen.assigneeId };
      const route = analysis.route
        ? { teamId: analysis.route.teamId ?? null, assigneeId: analysis.route.assigneeId ?? null, strategy: 'provider', ruleId: null, reason: `chosen by ${analysis.provider}` }
        : await routeConversation(tx, { accountId: job.accountId, conversation: current, category: c.category, language: c.language ?? seen.language }, routingIn(tx));
      const changes = {
        category: c.category ?? undefined, priority: c.priority, sentiment: c.sentiment, language: c.language, confidence: c.confidence,
        teamId: current.assigneeId ? undefined : route?.teamId ?? undefined,
        assigneeId: current.assigneeId ? undefined : route?.assigneeId ?? undefined,
      };
      await patchConversation(tx, conversationId, changes);
      if (route && (changes.assigneeId || (changes.teamId && changes.teamId !== current.teamId)))
        await audit(tx, {
          accountId: job.accountId, actorKind: 'ai', action: 'conversation.routed', targetKind: 'conversation', targetId: conversationId,
          data: { teamId: changes.teamId, assigneeId: changes.assigneeId ?? null, strategy: route.strategy, ruleId: route.ruleId, reason: route.reason },
        });
      events.unshift({ type: 'conversation.updated', conversationId, changes });
      return { events, autoSendDraft };
    });
    for (const e of events) deps.bus.publish(job.accountId, e);
    const conversations = deps.conversations?.();
    if (autoSendDraft && conversations) {
      try {
        await conversations.reply({ accountId: job.accountId, kind: 'ai', id: null }, conversationId, { text: autoSendDraft.text, draftId: autoSendDraft.id });
      } catch (err) {
        // An agent decided the draft first (409): theirs stands, and a retry of the whole job would only re-analyse.
        deps.log?.warn({ err, conversationId, draftId: autoSendDraft.id }, 'auto-send did not go out');
      }
    }
  };
}
