import type { Classification, DraftProposal } from '../../hub/ai-stage.js';

/** `accounts.settings.ai.autoSend`. Off unless `enabled`, and then only with a threshold and a category list. */
export interface AutoSendPolicy {
  enabled?: boolean;
  /** 0..1: the classification's confidence must reach it. */
  minConfidence?: number;
  /** Only drafts for these categories go out unreviewed. */
  categories?: string[];
}

export interface AutoSendDecision {
  send: boolean;
  /** Why not (every failed condition), or why it may. */
  reasons: string[];
}

/**
 * Whether a draft may go to the customer without an agent. Every condition must hold; a policy
 * missing its threshold or category list never fires, whatever `enabled` says.
 */
export function decideAutoSend(
  policy: AutoSendPolicy | null | undefined,
  a: { classification: Classification; draft?: DraftProposal; message: { autoReply: boolean; isLatestInbound: boolean; answered: boolean } },
): AutoSendDecision {
  if (!policy?.enabled) return { send: false, reasons: ['auto-send is off'] };
  const no: string[] = [];
  const c = a.classification;
  const threshold = policy.minConfidence;
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 1)) no.push('no confidence threshold configured');
  else if ((c.confidence ?? 0) < threshold) no.push(`confidence ${c.confidence ?? 0} below ${threshold}`);
  if (!policy.categories?.length) no.push('no allowed categories configured');
  else if (!c.category || !policy.categories.includes(c.category)) no.push(`category ${c.category ?? 'none'} not allowed`);
  if (a.message.autoReply) no.push('the message is an auto-reply');
  if (c.sentiment === 'negative') no.push('negative sentiment');
  if (c.priority === 'urgent') no.push('urgent');
  if (!a.draft?.text.trim()) no.push('no draft');
  if (!a.message.isLatestInbound) no.push('a newer customer message arrived');
  if (a.message.answered) no.push('the conversation was already answered');
  return no.length ? { send: false, reasons: no } : { send: true, reasons: [`confidence ${c.confidence} ≥ ${threshold}`, `category ${c.category} allowed`] };
}
