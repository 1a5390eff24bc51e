/** What the realtime stream carries; ids only plus the fields a list view needs to update in place. */
export type HubEvent =
  | { type: 'conversation.created'; conversationId: string }
  | { type: 'conversation.updated'; conversationId: string; changes: Record<string, unknown> }
  | { type: 'message.created'; conversationId: string; messageId: string; direction: 'inbound' | 'outbound'; isPrivate: boolean }
  | { type: 'message.updated'; conversationId: string; messageId: string; deliveryStatus: string | null; deliveryError?: string | null; attachmentId?: string; fetchState?: string }
  /** Its author edited (or deleted: text and files redacted) a message on the platform. */
  | { type: 'message.edited'; conversationId: string; messageId: string; deleted: boolean }
  | { type: 'draft.created'; conversationId: string; draftId: string }
  /** A channel installation stopped working on the platform's side (Slack: app uninstalled, tokens revoked). */
  | { type: 'channel.disconnected'; channelId: string; kind: string; reason: string }
  /** Someone is typing in a conversation (or `stopped`); never stored. `name` is the agent's, or the visitor's if known. */
  | { type: 'typing'; conversationId: string; by: 'visitor' | 'agent'; name: string | null; stopped?: true };

export interface AccountEvent {
  accountId: string;
  event: HubEvent;
  at: string;
}

/** Fan-out of committed changes to every connected client of an account, across hub processes. */
export interface EventBus {
  publish(accountId: string, event: HubEvent): void;
  subscribe(accountId: string, listener: (e: AccountEvent) => void): () => void;
  close(): Promise<void>;
}
