import { createHash } from 'node:crypto';
import type { Database, Queryable } from '../../storage/database.js';
import { withAccount } from '../../storage/session.js';
import { getDraft } from '../../storage/repositories/ai.js';
import type { ConversationService } from '../services/conversations.js';
import { HubError } from '../errors.js';
import type { Agent, AgentSurface } from './agents.js';
import { MAX_SNOOZE_HOURS, type CardAction } from './card.js';

/**
 * The card's actions, surface-agnostic: each acts through `hub.conversations` as the linked agent, so
 * permissions, audit, drafts and events are the same as in the web app. A refusal is a result with a
 * stable code and a reason for the agent, never a thrown HubError.
 */

export type ActionRequest =
  | { action: 'sendDraft'; draftId: string }
  /** The draft as the agent edited it, sent. */
  | { action: 'editDraft'; draftId: string; text: string }
  | { action: 'reply' | 'note'; text: string }
  | { action: 'assignMe' | 'resolve' | 'reopen' }
  | { action: 'snooze'; hours: number };

export type ActionOutcome =
  | { ok: true; action: CardAction; messageId?: string }
  /** `reason`: ours for the dispatcher's own refusals, the conversation service's message otherwise (REFUSALS words the common ones for agents). */
  | { ok: false; action: CardAction; code: string; reason: string };

export interface ActionDeps {
  db: Database;
  conversations: ConversationService;
  now: () => Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const refuse = (action: CardAction, code: string, reason: string): ActionOutcome => ({ ok: false, action, code, reason });

/** What an agent reads for the common refusal codes. */
export const REFUSALS: Record<string, string> = {
  draft_already_decided: 'That draft was already sent or replaced.',
  draft_not_found: 'That draft no longer exists.',
  conversation_not_found: 'That conversation no longer exists.',
  reply_empty: 'Write something first.',
  invalid_action: 'That action cannot be done.',
};

export async function dispatchCardAction(deps: ActionDeps, agent: Agent, conversationId: string, req: ActionRequest): Promise<ActionOutcome> {
  const { action } = req;
  if (!UUID.test(conversationId)) return refuse(action, 'conversation_not_found', REFUSALS.conversation_not_found!);
  try {
    switch (req.action) {
      case 'sendDraft': {
        const draft = UUID.test(req.draftId) ? await withAccount(deps.db, agent.actor.accountId, (tx) => getDraft(tx, req.draftId)) : undefined;
        if (!draft || draft.conversationId !== conversationId) return refuse(action, 'draft_not_found', REFUSALS.draft_not_found!);
        const m = await deps.conversations.reply(agent.actor, conversationId, { text: draft.text, draftId: draft.id });
        return { ok: true, action, messageId: m.id };
      }
      case 'editDraft':
      case 'reply':
      case 'note': {
        const text = req.text.trim();
        if (!text) return refuse(action, 'reply_empty', REFUSALS.reply_empty!);
        const draftId = req.action === 'editDraft' && UUID.test(req.draftId) ? req.draftId : undefined;
        if (req.action === 'editDraft' && !draftId) return refuse(action, 'draft_not_found', REFUSALS.draft_not_found!);
        const m = await deps.conversations.reply(agent.actor, conversationId, { text, isPrivate: req.action === 'note', ...(draftId ? { draftId } : {}) });
        return { ok: true, action, messageId: m.id };
      }
      case 'assignMe':
        await deps.conversations.assign(agent.actor, conversationId, { assigneeId: agent.actor.id });
        return { ok: true, action };
      case 'resolve':
        await deps.conversations.setStatus(agent.actor, conversationId, 'resolved');
        return { ok: true, action };
      case 'reopen':
        await deps.conversations.setStatus(agent.actor, conversationId, 'open');
        return { ok: true, action };
      case 'snooze': {
        if (!Number.isInteger(req.hours) || req.hours < 1 || req.hours > MAX_SNOOZE_HOURS) return refuse(action, 'invalid_action', 'Snooze for 1 hour to 30 days.');
        await deps.conversations.setStatus(agent.actor, conversationId, 'snoozed', new Date(deps.now().getTime() + req.hours * 3_600_000).toISOString());
        return { ok: true, action };
      }
    }
  } catch (err) {
    if (!(err instanceof HubError)) throw err;
    return refuse(action, err.code, err.message);
  }
}

/**
 * The key of one click: the same agent pressing the same action (with the same text) on the same card
 * version. Claimed before acting, a repeat (double click, redelivery) finds it taken.
 */
export function actionClaimKey(p: { conversationId: string; version: string; userId: string; action: CardAction; text?: string; draftId?: string; hours?: number }): string {
  const { prefix, suffix } = actionClaimKeyParts(p);
  return `${prefix}${p.userId}${suffix}`;
}

/** The key of a click around its agent's user id (`prefix + userId + suffix`), for a statement that finds the agent itself. */
export function actionClaimKeyParts(p: { conversationId: string; version: string; action: CardAction; text?: string; draftId?: string; hours?: number }): { prefix: string; suffix: string } {
  const detail = createHash('sha256').update(JSON.stringify([p.text ?? '', p.draftId ?? '', p.hours ?? ''])).digest('base64url').slice(0, 16);
  return { prefix: `${p.conversationId}:${p.version}:`, suffix: `:${p.action}:${detail}` };
}

/** Claims a click; false when it was claimed already. Claims older than a day are dropped on the way. */
export async function claimAction(tx: Queryable, p: { accountId: string; surface: AgentSurface; key: string; conversationId: string }): Promise<boolean> {
  await tx.query(`DELETE FROM surface_action_claims WHERE conversation_id = $1 AND created_at < now() - interval '1 day'`, [p.conversationId]);
  const { rowCount } = await tx.query(
    `INSERT INTO surface_action_claims (account_id, surface, claim_key, conversation_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
    [p.accountId, p.surface, p.key, p.conversationId],
  );
  return rowCount > 0;
}

/** A claimed click whose action was refused or failed: released, so trying again can work. */
export async function releaseAction(tx: Queryable, surface: AgentSurface, key: string): Promise<void> {
  await tx.query(`DELETE FROM surface_action_claims WHERE surface = $1 AND claim_key = $2`, [surface, key]);
}
