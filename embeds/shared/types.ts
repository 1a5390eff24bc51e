/** A conversation as the hub's REST API returns it (hub/schemas.ts `Conversation`). */
export interface ConversationView {
  id: string;
  channelId: string;
  channelKind: string;
  contactId: string;
  contactName: string | null;
  subject: string | null;
  status: 'open' | 'pending' | 'snoozed' | 'resolved';
  priority: 'low' | 'normal' | 'high' | 'urgent';
  category: string | null;
  language: string | null;
  sentiment: string | null;
  confidence: number | null;
  assigneeId: string | null;
  teamId: string | null;
  snoozedUntil?: string | null;
  tags?: string[];
  lastMessageAt: string;
  /** Inbox rows (GET /conversations) only: */
  channelName?: string;
  contactEmail?: string | null;
  contactPhone?: string | null;
  /** The last public message's first line. */
  preview?: string | null;
  previewDirection?: 'inbound' | 'outbound' | null;
  /** The customer's oldest message no agent has answered since. */
  waitingSince?: string | null;
  /** A customer message came after this agent last read the conversation. */
  unread?: boolean;
}

/** How many conversations each inbox view holds (GET /conversations/counts). */
export interface InboxCounts { mine: number; unassigned: number; open: number; snoozed: number; resolved: number }

/** "4 min", "3 h", "2 d": how long someone has waited, short enough for a list row. */
export const formatWaiting = (sinceIso: string, now = Date.now()): string => {
  const minutes = Math.max(0, Math.floor((now - Date.parse(sinceIso)) / 60_000));
  if (Number.isNaN(minutes)) return '';
  if (minutes < 60) return `${minutes} min`;
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)} h`;
  return `${Math.floor(minutes / (24 * 60))} d`;
};

/** A message as agents see it (hub/schemas.ts `Message`). */
export interface MessageView {
  id: string;
  conversationId: string;
  direction: 'inbound' | 'outbound';
  authorKind: string;
  authorName: string | null;
  /** Who really sent an inbound message; on a `participant_joined` notice, who joined. */
  sender?: { identityId: string; contactId: string; name: string | null; address: string | null } | null;
  /** `participant_joined`: "X joined this thread", written by the hub, agents only. */
  notice?: string | null;
  /** Email: the receiving server's DMARC/DKIM verdict on From; `fail` means likely forged. */
  authentication?: 'pass' | 'fail' | 'none' | null;
  isPrivate: boolean;
  text: string;
  html: string | null;
  deliveryStatus: string | null;
  deliveryError: string | null;
  autoReply: boolean;
  sentAt: string;
  /** `url`: a signed link to the bytes, relative to the hub. */
  attachments: { id: string; kind: string; name: string | null; mimeType: string | null; size: number | null; url?: string }[];
}

export interface DraftView {
  id: string;
  text: string;
  extractive: boolean;
  citations: { id?: string; title?: string; excerpt?: string; url?: string }[];
  status: 'proposed' | 'accepted' | 'edited' | 'rejected' | 'superseded';
  createdAt: string;
}

export interface AiResultView {
  category?: string | null;
  priority?: string | null;
  sentiment?: string | null;
  language?: string | null;
  confidence?: number | null;
  provider?: string;
  /** Why the AI drafted what it did (ai/README.md "Drafts"): `evidence.draft`. */
  evidence?: { draft?: DraftNoteView } & Record<string, unknown>;
}

export interface DraftNoteView {
  reason: string;
  language: string | null;
  /** For the agent only: an article in another language that fits. */
  suggestion?: { articleId: string; title: string; language: string; confidence?: 'high' | 'low' };
}

export interface ConversationDetail {
  conversation: ConversationView;
  ai: AiResultView | null;
  drafts: DraftView[];
  /** The customer's latest rating of a resolution (web chat CSAT), when there is one. */
  csat?: { rating: number; comment: string | null; resolvedAt: string; createdAt: string };
}

/** Human names of the channel kinds, for badges. */
export const CHANNEL_LABELS: Record<string, string> = {
  email: 'Email', whatsapp: 'WhatsApp', 'whatsapp-web': 'WhatsApp (linked phone, unofficial)', messenger: 'Messenger', slack: 'Slack', teams: 'Teams', webchat: 'Web chat',
};

// Built once: a formatter per call costs more than the rest of an inbox row.
let clockFormat: Intl.DateTimeFormat | undefined;
let dayFormat: Intl.DateTimeFormat | undefined;

export const formatTime = (iso: string): string => {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay
    ? (clockFormat ??= new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit' })).format(d)
    : (dayFormat ??= new Intl.DateTimeFormat([], { month: 'short', day: 'numeric' })).format(d);
};
