import { splitConversationId, type Activity, type ChannelAccount } from './activity.js';

/** Where an activity happened: enough to answer in the same place and to find the installation. */
export interface ActivityContext {
  activityId?: string;
  serviceUrl?: string;
  tenantId?: string;
  /** Teams team id (`19:…@thread.tacv2`) of channel activities. */
  teamId?: string;
  teamName?: string;
  /** The Teams channel (without `;messageid=`) of channel activities. */
  channelId?: string;
  conversation: { id: string; type: 'channel' | 'personal' | 'groupChat' | 'unknown'; rootId?: string };
  from?: { id: string; name?: string; aadObjectId?: string };
  /** Our bot, as Teams addressed it (`28:<app id>`). */
  botId?: string;
  timestamp?: string;
}

export interface ParsedMention {
  id: string;
  name?: string;
}

export interface ParsedAttachment {
  contentType: string;
  name?: string;
  contentUrl?: string;
}

export type TeamsEvent =
  | (ActivityContext & { kind: 'message'; text: string; mentionedBot: boolean; mentions: ParsedMention[]; attachments: ParsedAttachment[]; replyToId?: string })
  /** An Action.Submit (the fallback of Action.Execute on older clients): a message whose `value` holds the card's data. */
  | (ActivityContext & { kind: 'submit'; value: Record<string, unknown>; verb?: string; replyToId?: string })
  /** An Action.Execute click: the invoke `adaptiveCard/action`, answered with a card or a message. */
  | (ActivityContext & { kind: 'action'; verb: string; data: Record<string, unknown>; replyToId?: string })
  | (ActivityContext & { kind: 'installed'; scope: 'team' | 'personal' | 'groupChat'; via: 'conversationUpdate' | 'installationUpdate' })
  | (ActivityContext & { kind: 'uninstalled'; scope: 'team' | 'personal' | 'groupChat'; via: 'conversationUpdate' | 'installationUpdate' })
  | (ActivityContext & { kind: 'channel'; event: 'created' | 'deleted' | 'renamed' | 'restored'; channel: { id: string; name?: string } })
  | (ActivityContext & { kind: 'team'; event: 'renamed' | 'deleted' | 'hardDeleted' | 'archived' | 'unarchived' | 'restored' })
  | (ActivityContext & { kind: 'members'; added: ChannelAccount[]; removed: ChannelAccount[] })
  | { kind: 'ignored'; reason: string; type?: string; name?: string; invoke: boolean };

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const obj = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

function account(v: unknown): { id: string; name?: string; aadObjectId?: string } | undefined {
  const a = obj(v);
  const id = str(a?.id);
  return id ? { id, name: str(a?.name), aadObjectId: str(a?.aadObjectId) } : undefined;
}

function conversationType(a: Activity): ActivityContext['conversation']['type'] {
  const t = a.conversation?.conversationType;
  if (t === 'channel' || t === 'personal' || t === 'groupChat') return t;
  // Older payloads leave conversationType out: a thread id or a team in channelData means a channel.
  if (a.channelData?.channel?.id || a.channelData?.team?.id || a.conversation?.id?.includes(';messageid=')) return 'channel';
  return 'unknown';
}

function contextOf(a: Activity): ActivityContext {
  const cd = obj(a.channelData) ?? {};
  const team = obj(cd.team);
  const conv = obj(a.conversation);
  const convId = str(conv?.id) ?? '';
  const { base, rootId } = splitConversationId(convId);
  const type = conversationType(a);
  const channelId = str(obj(cd.channel)?.id) ?? str(cd.teamsChannelId) ?? (type === 'channel' ? base || undefined : undefined);
  return {
    activityId: str(a.id),
    serviceUrl: str(a.serviceUrl),
    tenantId: str(obj(cd.tenant)?.id) ?? str(conv?.tenantId),
    teamId: str(team?.id) ?? str(cd.teamsTeamId),
    teamName: str(team?.name),
    channelId,
    conversation: { id: convId, type, ...(rootId ? { rootId } : {}) },
    from: account(a.from),
    botId: account(a.recipient)?.id,
    timestamp: str(a.timestamp),
  };
}

function ignored(a: Partial<Activity>, reason: string): TeamsEvent {
  return { kind: 'ignored', reason, type: str(a.type), name: str(a.name), invoke: a.type === 'invoke' };
}

/** `<at>Name</at>` of our bot removed, anyone else's mention kept as `@Name`, entities decoded. */
function messageText(a: Activity, botId: string | undefined): { text: string; mentionedBot: boolean; mentions: ParsedMention[] } {
  let text = typeof a.text === 'string' ? a.text : '';
  let mentionedBot = false;
  const mentions: ParsedMention[] = [];
  for (const e of Array.isArray(a.entities) ? a.entities : []) {
    const entity = obj(e);
    if (entity?.type !== 'mention') continue;
    const who = account(entity.mentioned);
    if (!who) continue;
    // Some Teams clients leave the entity's text out; the tag is then the mentioned name.
    const tag = str(entity.text) ?? (who.name ? `<at>${who.name}</at>` : undefined);
    if (botId && who.id === botId) {
      mentionedBot = true;
      if (tag) text = text.split(tag).join('');
    } else {
      mentions.push({ id: who.id, ...(who.name ? { name: who.name } : {}) });
      if (tag) text = text.split(tag).join(`@${tag.replace(/<\/?at>/g, '')}`);
    }
  }
  text = text.replace(/<at>([^<]*)<\/at>/g, '@$1').replace(/&nbsp;/g, ' ').replace(/[ \t]+/g, ' ').trim();
  return { text, mentionedBot, mentions };
}

function attachmentsOf(a: Activity): ParsedAttachment[] {
  const out: ParsedAttachment[] = [];
  for (const att of Array.isArray(a.attachments) ? a.attachments : []) {
    const contentType = str(obj(att)?.contentType);
    // Teams repeats the message body as a text/html attachment; it is not a file.
    if (!contentType || contentType === 'text/html') continue;
    out.push({ contentType, ...(str(att.name) ? { name: att.name } : {}), ...(str(att.contentUrl) ? { contentUrl: att.contentUrl } : {}) });
  }
  return out;
}

const CHANNEL_EVENTS: Record<string, 'created' | 'deleted' | 'renamed' | 'restored'> = {
  channelCreated: 'created', channelDeleted: 'deleted', channelRenamed: 'renamed', channelRestored: 'restored',
};
const TEAM_EVENTS: Record<string, 'renamed' | 'deleted' | 'hardDeleted' | 'archived' | 'unarchived' | 'restored'> = {
  teamRenamed: 'renamed', teamDeleted: 'deleted', teamHardDeleted: 'hardDeleted', teamArchived: 'archived', teamUnarchived: 'unarchived', teamRestored: 'restored',
};

function scopeOf(ctx: ActivityContext): 'team' | 'personal' | 'groupChat' {
  return ctx.teamId || ctx.conversation.type === 'channel' ? 'team' : ctx.conversation.type === 'groupChat' ? 'groupChat' : 'personal';
}

function conversationUpdate(a: Activity, ctx: ActivityContext): TeamsEvent {
  const eventType = str(a.channelData?.eventType);
  const added = (Array.isArray(a.membersAdded) ? a.membersAdded : []).filter((m) => str(obj(m)?.id));
  const removed = (Array.isArray(a.membersRemoved) ? a.membersRemoved : []).filter((m) => str(obj(m)?.id));
  const isBot = (m: ChannelAccount) => !!ctx.botId && m.id === ctx.botId;
  if (added.some(isBot)) return { ...ctx, kind: 'installed', scope: scopeOf(ctx), via: 'conversationUpdate' };
  if (removed.some(isBot)) return { ...ctx, kind: 'uninstalled', scope: scopeOf(ctx), via: 'conversationUpdate' };
  if (eventType && CHANNEL_EVENTS[eventType]) {
    const ch = account(a.channelData?.channel);
    if (!ch) return ignored(a, `${eventType} without a channel`);
    return { ...ctx, kind: 'channel', event: CHANNEL_EVENTS[eventType], channel: { id: ch.id, ...(ch.name ? { name: ch.name } : {}) } };
  }
  if (eventType && TEAM_EVENTS[eventType]) return { ...ctx, kind: 'team', event: TEAM_EVENTS[eventType] };
  if (added.length || removed.length) {
    const strip = (m: ChannelAccount) => ({ id: m.id, ...(m.name ? { name: m.name } : {}), ...(m.aadObjectId ? { aadObjectId: m.aadObjectId } : {}) });
    return { ...ctx, kind: 'members', added: added.map(strip), removed: removed.map(strip) };
  }
  return ignored(a, eventType ? `conversationUpdate ${eventType} is not one we act on` : 'conversationUpdate without members or event type');
}

/**
 * One activity → what it means to HummDesk. Pure and total: anything unexpected becomes `ignored` with a
 * reason (Teams stops delivering to a bot that fails on activities it does not know).
 */
export function parseActivity(input: unknown): TeamsEvent {
  const a = obj(input) as Activity | undefined;
  if (!a) return { kind: 'ignored', reason: 'not an activity object', invoke: false };
  const type = str(a.type);
  if (!type) return ignored(a, 'activity without a type');
  if (a.channelId !== 'msteams') return ignored(a, `not a Teams activity (channelId ${JSON.stringify(a.channelId ?? null)})`);
  if (type === 'invoke' && a.name !== 'adaptiveCard/action') return ignored(a, `invoke ${JSON.stringify(a.name ?? null)} is not handled`);
  if (!str(obj(a.conversation)?.id)) return ignored(a, 'activity without a conversation');
  const ctx = contextOf(a);
  switch (type) {
    case 'message': {
      const value = obj(a.value);
      if (value) {
        const verb = str(value.verb) ?? str(value.action) ?? str(value.actionId);
        return { ...ctx, kind: 'submit', value, ...(verb ? { verb } : {}), ...(str(a.replyToId) ? { replyToId: a.replyToId } : {}) };
      }
      const { text, mentionedBot, mentions } = messageText(a, ctx.botId);
      const attachments = attachmentsOf(a);
      if (!text && attachments.length === 0) return ignored(a, 'message with neither text nor files');
      return { ...ctx, kind: 'message', text, mentionedBot, mentions, attachments, ...(str(a.replyToId) ? { replyToId: a.replyToId } : {}) };
    }
    case 'invoke': {
      const action = obj(obj(a.value)?.action);
      if (!action) return ignored(a, 'adaptiveCard/action without value.action');
      if (action.type !== undefined && action.type !== 'Action.Execute') return ignored(a, `adaptiveCard/action of ${JSON.stringify(action.type)}, not Action.Execute`);
      const verb = str(action.verb);
      if (!verb) return ignored(a, 'adaptiveCard/action without a verb');
      return { ...ctx, kind: 'action', verb, data: obj(action.data) ?? {}, ...(str(a.replyToId) ? { replyToId: a.replyToId } : {}) };
    }
    case 'conversationUpdate':
      return conversationUpdate(a, ctx);
    case 'installationUpdate': {
      const action = str(a.action) ?? '';
      if (action === 'add' || action === 'add-upgrade') return { ...ctx, kind: 'installed', scope: scopeOf(ctx), via: 'installationUpdate' };
      if (action === 'remove' || action === 'remove-upgrade') return { ...ctx, kind: 'uninstalled', scope: scopeOf(ctx), via: 'installationUpdate' };
      return ignored(a, `installationUpdate action ${JSON.stringify(action)} is not known`);
    }
    default:
      return ignored(a, `activity type ${type} is not one we act on`);
  }
}
