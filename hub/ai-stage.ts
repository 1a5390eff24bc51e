/** What the hub asks of an AI provider; ai/ implements it, the hub only calls it. */

export interface AnalysisInput {
  accountId: string;
  conversation: { id: string; subject: string | null; channelKind: string; language: string | null };
  /** Oldest first, private notes excluded; the newest inbound message is last. */
  messages: { direction: 'inbound' | 'outbound'; authorKind: string; text: string; sentAt: string }[];
}

export interface Classification {
  category?: string | null;
  priority?: 'low' | 'normal' | 'high' | 'urgent';
  sentiment?: 'negative' | 'neutral' | 'positive';
  language?: string;
  confidence?: number;
}

export interface DraftProposal {
  text: string;
  /** Knowledge-base passages the draft rests on. */
  citations: { id: string; title?: string; excerpt?: string; url?: string }[];
  /** True when the text is quoted or templated, not generated. */
  extractive: boolean;
}

export interface Analysis {
  provider: string;
  model: string;
  classification: Classification;
  /** Team and agent the router chose, if any. */
  route?: { teamId?: string | null; assigneeId?: string | null };
  /** The first-choice draft; `alternatives` are further proposals of the same analysis, best first. */
  draft?: DraftProposal;
  alternatives?: DraftProposal[];
  evidence?: Record<string, unknown>;
  /** How long the analysis waited on work off the main thread (the local AI threads); not stored. */
  offThreadMs?: number;
}

export interface ConversationAi {
  analyze(input: AnalysisInput): Promise<Analysis>;
}

/** Something that mirrors conversations outside the hub (Slack thread, Teams card). */
export interface Surface {
  readonly name: 'slack' | 'teams';
  /** `job`: the queue job running it (its id owns the conversation's sync lease, hub/surfaces/claims.ts). */
  sync(accountId: string, conversationId: string, messageId?: string, job?: { id: string; /** The request's number (migration 220): a sync that already covered it returns at once. */ seq?: number }): Promise<void>;
}
