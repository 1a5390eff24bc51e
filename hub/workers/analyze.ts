import type { Database } from '../../storage/database.js';
import { withAccount } from '../../storage/session.js';
import { getConversation, updateConversation } from '../../storage/repositories/conversations.js';
import { listMessages } from '../../storage/repositories/messages.js';
import { insertAiResult, insertDraft } from '../../storage/repositories/ai.js';
import { enqueue } from '../../storage/repositories/outbox.js';
import { audit } from '../../storage/repositories/audit.js';
import type { ConversationAi } from '../ai-stage.js';
import type { EventBus, HubEvent } from '../realtime/events.js';
import type { Job } from '../queue/jobs.js';

const HISTORY = 20;

/** The AI stage: classify, route and draft one inbound message; without a provider it does nothing. */
export function analyzeHandler(deps: { db: Database; bus: EventBus; ai: () => ConversationAi | undefined; now?: () => number }) {
  const now = deps.now ?? Date.now;
  return async (job: Job): Promise<void> => {
    const ai = deps.ai();
    if (!ai) return;
    const conversationId = String(job.payload.conversationId);
    const messageId = String(job.payload.messageId);
    const input = await withAccount(deps.db, job.accountId, async (tx) => {
      const conversation = await getConversation(tx, conversationId);
      if (!conversation) return undefined;
      const messages = (await listMessages(tx, conversationId, { limit: 1000 })).filter((m) => !m.isPrivate).slice(-HISTORY);
      return { conversation, messages };
    });
    if (!input) return;
    const started = now();
    // The provider call happens outside any transaction: a slow model must not hold a connection.
    const analysis = await ai.analyze({
      accountId: job.accountId,
      conversation: { id: conversationId, subject: input.conversation.subject, channelKind: input.conversation.channelKind, language: input.conversation.language },
      messages: input.messages.map((m) => ({ direction: m.direction, authorKind: m.authorKind, text: m.text, sentAt: m.sentAt })),
    });
    const latencyMs = Math.round(now() - started);
    const events: HubEvent[] = [];
    await withAccount(deps.db, job.accountId, async (tx) => {
      const c = analysis.classification;
      const aiResultId = await insertAiResult(tx, {
        accountId: job.accountId, conversationId, messageId, provider: analysis.provider, model: analysis.model, latencyMs,
        category: c.category, priority: c.priority, sentiment: c.sentiment, language: c.language, confidence: c.confidence,
        evidence: analysis.evidence,
      });
      const changes = {
        category: c.category ?? undefined, priority: c.priority, sentiment: c.sentiment, language: c.language, confidence: c.confidence,
        teamId: analysis.route?.teamId ?? undefined,
        assigneeId: input.conversation.assigneeId ? undefined : analysis.route?.assigneeId ?? undefined,
      };
      await updateConversation(tx, conversationId, changes);
      if (changes.assigneeId || changes.teamId)
        await audit(tx, { accountId: job.accountId, actorKind: 'ai', action: 'conversation.routed', targetKind: 'conversation', targetId: conversationId, data: { teamId: changes.teamId, assigneeId: changes.assigneeId } });
      events.push({ type: 'conversation.updated', conversationId, changes });
      if (analysis.draft) {
        const draftId = await insertDraft(tx, { accountId: job.accountId, conversationId, messageId, aiResultId, ...analysis.draft });
        events.push({ type: 'draft.created', conversationId, draftId });
      }
      await enqueue(tx, job.accountId, 'surface.sync', { conversationId });
    });
    for (const e of events) deps.bus.publish(job.accountId, e);
  };
}
