import type { Queryable } from '../../storage/database.js';
import type { Classification } from '../../hub/ai-stage.js';
import { UNKNOWN } from './model.js';

type Priority = NonNullable<Classification['priority']>;
const RANK: Record<Priority, number> = { low: 0, normal: 1, high: 2, urgent: 3 };

// A later message moves the conversation to another category only when it names that topic this clearly.
export const NEW_TOPIC_CONFIDENCE = 0.6;

/** The customer says the problem is over: only then may priority drop and a negative mood lift. */
const SOLVED = /\b(solved|resolved|fixed now|(it|that|this) (works|worked)|works now|working now|got it working|sorted( it)? out|never ?mind|no longer needed|all good now|ratkes|ratkaistu|korjaantu|toimii (taas|nyt|jo)|nyt toimii|selvisi|asia on (hoidettu|selvä)|löst|fungerar (nu|igen)|nu fungerar|det funkar|ordnat sig|strunta i det|gelöst|erledigt|funktioniert (jetzt|wieder)|hat sich erledigt|løst|virker (nu|igen)|fungerer (nå|igjen)|ordnet seg|i orden nu)/iu;

export function saysSolved(text: string): boolean {
  return SOLVED.test(text);
}

export interface SettledField<T> {
  value: T;
  /** The message whose analysis set the value the conversation keeps. */
  messageId: string | null;
  /** What this message alone said, when the conversation kept an earlier value instead. */
  message?: T;
  reason: string;
}

export interface SettledClassification {
  category: SettledField<string | null>;
  priority: SettledField<Priority>;
  sentiment: SettledField<Classification['sentiment'] | null>;
}

interface Previous {
  category: string | null;
  priority: Priority;
  sentiment: Classification['sentiment'] | null;
  /** evidence.conversation of the conversation's latest analysis, if any. */
  settled?: Partial<SettledClassification> | null;
}

/**
 * A conversation is classified as a whole, not message by message: priority never drops on a later
 * customer message unless the customer says the problem is solved, a negative mood does not lift on a
 * polite follow-up either, and the category changes only when a message clearly names another topic.
 * Each field records the message that set it. `previous` is undefined for the first analysis.
 */
export function settle(previous: Previous | undefined, next: Classification, messageId: string, text: string): SettledClassification {
  const own = (value: unknown, reason: string) => ({ value, messageId, reason }) as SettledField<never>;
  const category = next.category ?? null;
  const priority = next.priority ?? 'normal';
  const sentiment = next.sentiment ?? null;
  if (!previous) return { category: own(category, 'first message'), priority: own(priority, 'first message'), sentiment: own(sentiment, 'first message') };
  const kept = <T>(field: keyof SettledClassification, value: T, message: T, reason: string): SettledField<T> =>
    ({ value, messageId: (previous.settled?.[field]?.messageId as string | null | undefined) ?? null, message, reason });
  const solved = saysSolved(text);

  let settledPriority: SettledField<Priority>;
  if (RANK[priority] >= RANK[previous.priority]) settledPriority = RANK[priority] === RANK[previous.priority] ? kept('priority', priority, priority, 'unchanged') : own(priority, 'raised');
  else settledPriority = solved ? own(priority, 'customer says it is solved') : kept('priority', previous.priority, priority, 'a later message does not lower priority');

  let settledSentiment: SettledField<Classification['sentiment'] | null>;
  if (previous.sentiment === 'negative' && sentiment !== 'negative' && !solved) settledSentiment = kept('sentiment', 'negative', sentiment, 'still unsolved');
  else settledSentiment = sentiment === previous.sentiment ? kept('sentiment', sentiment, sentiment, 'unchanged') : own(sentiment, solved ? 'customer says it is solved' : 'changed');

  let settledCategory: SettledField<string | null>;
  const known = (c: string | null) => !!c && c !== UNKNOWN;
  if (!known(previous.category)) settledCategory = own(category, 'no category yet');
  else if (category === previous.category) settledCategory = kept('category', category, category, 'same topic');
  else if (known(category) && category !== 'general' && (next.confidence ?? 0) >= NEW_TOPIC_CONFIDENCE) settledCategory = own(category, 'new topic');
  else settledCategory = kept('category', previous.category, category, 'no new topic');

  return { category: settledCategory, priority: settledPriority, sentiment: settledSentiment };
}

/** What settling reads: the conversation's current classification and its latest analysis. */
export interface SettleState {
  category: string | null;
  priority: Priority;
  sentiment: Classification['sentiment'] | null;
  /** evidence.conversation of the conversation's latest analysis. */
  settled: Partial<SettledClassification> | null;
  /** Whether another message of the conversation was analysed before. */
  analysed: boolean;
}

/**
 * The SQL columns of SettleState for conversation `c`, whose analysis of message `messageParam` is being
 * stored: the AI stage reads them in the statement that opens its write (storage/repositories/ai.ts).
 */
export const SETTLE_STATE_COLUMNS = (messageParam: string) => `c.category, c.priority, c.sentiment,
  (SELECT r.evidence->'conversation' FROM ai_results r WHERE r.conversation_id = c.id ORDER BY r.created_at DESC LIMIT 1) AS settled,
  EXISTS (SELECT 1 FROM ai_results r WHERE r.conversation_id = c.id AND r.message_id <> ${messageParam}) AS analysed`;

/** The classification to store for `messageId`, given what the write transaction read (SettleState), with the evidence of which message set each field. */
export function settleClassification(state: SettleState | undefined, messageId: string, next: Classification, text: string): { classification: Classification; settled: SettledClassification } {
  const settled = settle(state?.analysed ? state : undefined, next, messageId, text);
  return {
    classification: { ...next, category: settled.category.value, priority: settled.priority.value, sentiment: settled.sentiment.value ?? undefined },
    settled,
  };
}
