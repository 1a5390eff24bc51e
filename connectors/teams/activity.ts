/** The parts of a Bot Framework activity HummDesk reads (Teams sends many more). */
export interface ChannelAccount {
  id: string;
  name?: string;
  aadObjectId?: string;
  role?: string;
}

export interface Activity {
  type: string;
  id?: string;
  name?: string;
  channelId?: string;
  serviceUrl?: string;
  timestamp?: string;
  from?: ChannelAccount;
  recipient?: ChannelAccount;
  conversation?: { id: string; conversationType?: string; tenantId?: string; isGroup?: boolean; name?: string };
  text?: string;
  textFormat?: string;
  replyToId?: string;
  value?: unknown;
  action?: string;
  entities?: { type?: string; mentioned?: ChannelAccount; text?: string; [k: string]: unknown }[];
  attachments?: { contentType?: string; contentUrl?: string; content?: unknown; name?: string }[];
  membersAdded?: ChannelAccount[];
  membersRemoved?: ChannelAccount[];
  channelData?: {
    eventType?: string;
    team?: { id?: string; name?: string; aadGroupId?: string };
    channel?: { id?: string; name?: string };
    tenant?: { id?: string };
    settings?: { selectedChannel?: { id?: string; name?: string } };
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** A channel thread's conversation id: `<channel>;messageid=<root>`; the root is the thread's first message. */
export function splitConversationId(id: string): { base: string; rootId?: string } {
  const i = id.indexOf(';messageid=');
  return i < 0 ? { base: id } : { base: id.slice(0, i), rootId: id.slice(i + ';messageid='.length) || undefined };
}

export function threadConversationId(channelId: string, rootId: string): string {
  return `${channelId};messageid=${rootId}`;
}
