/** What the hub's realtime stream carries (see hub/realtime/events.ts). */
export type HubStreamEvent =
  | { type: 'conversation.created'; conversationId: string }
  | { type: 'conversation.updated'; conversationId: string; changes: Record<string, unknown> }
  | { type: 'message.created'; conversationId: string; messageId: string; direction: 'inbound' | 'outbound'; isPrivate: boolean }
  | { type: 'message.updated'; conversationId: string; messageId: string; deliveryStatus: string | null }
  | { type: 'draft.created'; conversationId: string; draftId: string }
  /** Synthetic: the stream (re)connected, so events may have been missed; reload. */
  | { type: 'resync' };

/** Someone is typing in a conversation: nothing changed on the hub, so apart from `HubStreamEvent`. */
export interface TypingEvent {
  type: 'typing';
  conversationId: string;
  by: 'visitor' | 'agent';
  /** The agent's name, or the contact's (or what the visitor gave) when known. */
  name: string | null;
}

export interface StreamListener {
  event(e: HubStreamEvent): void;
  typing(e: TypingEvent): void;
  /** The hub refused the stream (an expired token): the page must hand over a new one. */
  refused(): void;
}

const EVENT_TYPES = ['conversation.created', 'conversation.updated', 'message.created', 'message.updated', 'draft.created'] as const;

function parse<T>(e: Event): T | undefined {
  try {
    return JSON.parse((e as MessageEvent<string>).data) as T;
  } catch {
    return undefined;
  }
}

interface Shared {
  source: EventSource;
  listeners: Set<StreamListener>;
}

const shared = new Map<string, Shared>();

/** One EventSource per hub and token, shared by every component on the page (browsers cap connections per origin). */
export function subscribeHubEvents(base: string, token: string, listener: StreamListener): () => void {
  const url = `${base}/api/v1/events?access_token=${encodeURIComponent(token)}`;
  let s = shared.get(url);
  if (!s) {
    const source = new EventSource(url);
    const entry: Shared = { source, listeners: new Set() };
    let opened = false;
    source.addEventListener('open', () => {
      // The first open is the start; later ones follow a gap in which events may have been lost.
      if (opened) for (const l of entry.listeners) l.event({ type: 'resync' });
      opened = true;
    });
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (e) => {
        const data = parse<HubStreamEvent>(e);
        if (data) for (const l of entry.listeners) l.event(data);
      });
    }
    source.addEventListener('typing', (e) => {
      const data = parse<TypingEvent>(e);
      if (data) for (const l of entry.listeners) l.typing(data);
    });
    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CLOSED) {
        shared.delete(url);
        for (const l of entry.listeners) l.refused();
      }
    });
    shared.set(url, (s = entry));
  }
  const current = s;
  current.listeners.add(listener);
  return () => {
    current.listeners.delete(listener);
    if (current.listeners.size === 0) {
      current.source.close();
      if (shared.get(url) === current) shared.delete(url);
    }
  };
}
