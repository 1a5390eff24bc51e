import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseActivity, type TeamsEvent } from './parse.js';

/**
 * Parse conformance over the shared public activity sets (microsoft/teams.net's Teams JSON, vercel/chat's
 * recorded Teams webhooks) plus hand-written payloads the sets lack (Action.Execute invokes, installs,
 * channel events). Every payload has a hand-checked expected result; a payload without one fails.
 */

/** The fields of a result that are checked; unspecified fields are not compared. */
export interface Expectation {
  kind: TeamsEvent['kind'];
  text?: string;
  mentionedBot?: boolean;
  verb?: string;
  data?: Record<string, unknown>;
  reason?: string;
  teamId?: string;
  channelId?: string;
  rootId?: string;
  scope?: string;
  event?: string;
  tenantId?: string;
}

const TEAM = '19:8j-Mnacwmq2QFDbzykeQH5v55m6cN1X3QJ5viHvGIIQ1@thread.tacv2';
const CHANNEL = '19:d441d38c655c47a085215b2726e76927@thread.tacv2';
const TENANT = 'a1b2c3d4-e5f6-7890-abcd-ef1234567890';
const BOT = '28:11111111-2222-3333-4444-555555555555';
const SERVICE = 'https://smba.trafficmanager.net/amer/a1b2c3d4-e5f6-7890-abcd-ef1234567890/';

const unhandledInvoke = (name: string): Expectation => ({ kind: 'ignored', reason: `invoke "${name}" is not handled` });
const notOurs = (type: string): Expectation => ({ kind: 'ignored', reason: `activity type ${type} is not one we act on` });

/** Hand-checked: what each payload of the shared sets means to HummDesk. */
export const EXPECTED: Record<string, Expectation> = {
  'teams_net_activity_json/Activity/Activity.json': notOurs('unknown'),
  'teams_net_activity_json/Activity/Command/CommandActivity.json': notOurs('command'),
  'teams_net_activity_json/Activity/Command/CommandResultActivity.json': notOurs('commandResult'),
  // The recipient of an activity is the bot; here the recipient (userId1) is among membersAdded: the bot was added.
  'teams_net_activity_json/Activity/Conversation/ConversationUpdateActivity.json': { kind: 'installed', scope: 'team', tenantId: 'tenantId' },
  'teams_net_activity_json/Activity/Conversation/EndOfConversationActivity.json': notOurs('endOfConversation'),
  'teams_net_activity_json/Activity/Events/MeetingEndActivity.json': { kind: 'ignored', reason: 'activity without a conversation' },
  'teams_net_activity_json/Activity/Events/MeetingParticipantJoinActivity.json': { kind: 'ignored', reason: 'activity without a conversation' },
  'teams_net_activity_json/Activity/Events/MeetingParticipantLeaveActivity.json': { kind: 'ignored', reason: 'activity without a conversation' },
  'teams_net_activity_json/Activity/Events/MeetingStartActivity.json': { kind: 'ignored', reason: 'activity without a conversation' },
  'teams_net_activity_json/Activity/Events/ReadReceiptActivity.json': { kind: 'ignored', reason: 'not a Teams activity (channelId "webchat")' },
  'teams_net_activity_json/Activity/Invokes/AnonQueryLinkMEActivity.json': unhandledInvoke('composeExtension/anonymousQueryLink'),
  'teams_net_activity_json/Activity/Invokes/CardButtonClickedMEActivity.json': unhandledInvoke('composeExtension/onCardButtonClicked'),
  'teams_net_activity_json/Activity/Invokes/ConfigFetchActivity.json': unhandledInvoke('config/fetch'),
  'teams_net_activity_json/Activity/Invokes/ConfigSubmitActivity.json': unhandledInvoke('config/submit'),
  'teams_net_activity_json/Activity/Invokes/FetchTaskMEActivity.json': unhandledInvoke('composeExtension/fetchTask'),
  'teams_net_activity_json/Activity/Invokes/HandoffActivity.json': { kind: 'ignored', reason: 'not a Teams activity (channelId "channelId")' },
  'teams_net_activity_json/Activity/Invokes/QueryLinkMEActivity.json': unhandledInvoke('composeExtension/queryLink'),
  'teams_net_activity_json/Activity/Invokes/QueryMEActivity.json': unhandledInvoke('composeExtension/query'),
  'teams_net_activity_json/Activity/Invokes/QuerySettingUrlMEActivity.json': unhandledInvoke('composeExtension/querySettingUrl'),
  'teams_net_activity_json/Activity/Invokes/SelectItemMEActivity.json': unhandledInvoke('composeExtension/selectItem'),
  'teams_net_activity_json/Activity/Invokes/SettingMEActivity.json': unhandledInvoke('composeExtension/setting'),
  'teams_net_activity_json/Activity/Invokes/SignInFailureActivity.json': unhandledInvoke('signin/failure'),
  'teams_net_activity_json/Activity/Invokes/SignInTokenExchangeActivity.json': unhandledInvoke('signin/tokenExchange'),
  'teams_net_activity_json/Activity/Invokes/SignInVerifyStateActivity.json': unhandledInvoke('signin/verifyState'),
  'teams_net_activity_json/Activity/Invokes/SubmitActionMEActivity.json': unhandledInvoke('composeExtension/submitAction'),
  'teams_net_activity_json/Activity/Invokes/SuggestedActionSubmitActivity.json': { kind: 'ignored', reason: 'not a Teams activity (channelId "channelId")' },
  'teams_net_activity_json/Activity/Invokes/TabsFetchActivity.json': unhandledInvoke('tab/fetch'),
  'teams_net_activity_json/Activity/Invokes/TabsSubmitActivity.json': unhandledInvoke('tab/submit'),
  'teams_net_activity_json/Activity/Invokes/TaskFetchActivity.json': unhandledInvoke('task/fetch'),
  'teams_net_activity_json/Activity/Invokes/TaskSubmitActivity.json': unhandledInvoke('task/submit'),
  'teams_net_activity_json/Activity/Message/MessageActivity.json': { kind: 'message', text: 'testing123', mentionedBot: false },
  'teams_net_activity_json/Activity/Message/MessageActivity_Mention.json': { kind: 'message', text: 'testing123', mentionedBot: true },
  'teams_net_activity_json/Activity/Message/MessageActivity_webChat.json': { kind: 'ignored', reason: 'not a Teams activity (channelId "webchat")' },
  'teams_net_activity_json/Activity/Message/MessageDeleteActivity.json': notOurs('messageDelete'),
  'teams_net_activity_json/Activity/Message/MessageReactionActivity.json': notOurs('messageReaction'),
  'teams_net_activity_json/Activity/Message/MessageUpdateActivity.json': notOurs('messageUpdate'),
  'teams_net_activity_json/Activity/TypingActivity.json': notOurs('typing'),
  // Entities ride on a channel message (see entityCarrier); whatever the entity, the message stays a message.
  'teams_net_activity_json/Entities/AtMentionEntity.json': { kind: 'message', text: '@acctName hello', mentionedBot: false },
  'teams_net_activity_json/Entities/CitationEntity.json': { kind: 'message', text: 'hello', mentionedBot: false },
  'teams_net_activity_json/Entities/ClientInfoEntity.json': { kind: 'message', text: 'hello', mentionedBot: false },
  'teams_net_activity_json/Entities/MessageEntity.json': { kind: 'message', text: 'hello', mentionedBot: false },
  'teams_net_activity_json/Entities/ProductInfoEntity.json': { kind: 'message', text: 'hello', mentionedBot: false },
  'teams_net_activity_json/Entities/QuotedReplyEntity.json': { kind: 'message', text: 'hello', mentionedBot: false },
  'teams_net_activity_json/Entities/SensitiveUsageEntity.json': { kind: 'message', text: 'hello', mentionedBot: false },
  'teams_net_activity_json/Entities/StreamInfoEntity.json': { kind: 'message', text: 'hello', mentionedBot: false },
  'teams_net_activity_json/Entities/TargetedMessageInfoEntity.json': { kind: 'message', text: 'hello', mentionedBot: false },
  'vercel_chat_replay/teams.json#mention': { kind: 'message', text: 'Hey', mentionedBot: true, channelId: CHANNEL, rootId: '1767224924615', tenantId: TENANT },
  'vercel_chat_replay/teams.json#followUp': { kind: 'message', text: 'Hi', mentionedBot: false, channelId: CHANNEL, rootId: '1767224924615' },
  'vercel_chat_replay/actions-reactions/teams.json#mention': { kind: 'message', text: 'Test', mentionedBot: true, teamId: TEAM, channelId: CHANNEL, rootId: '1767326091220' },
  'vercel_chat_replay/actions-reactions/teams.json#action': { kind: 'submit', verb: 'info', teamId: TEAM, channelId: CHANNEL, rootId: '1767326091220' },
  'vercel_chat_replay/actions-reactions/teams.json#reaction': notOurs('messageReaction'),
  'vercel_chat_replay/channel/teams.json#mention': { kind: 'message', text: 'Hey', mentionedBot: true, teamId: TEAM, channelId: CHANNEL, rootId: '1771290107407' },
  'vercel_chat_replay/channel/teams.json#channel_post_action': { kind: 'submit', verb: 'channel-post', teamId: TEAM, channelId: CHANNEL, rootId: '1771290107407' },
  'vercel_chat_replay/dm/teams.json#mention': { kind: 'message', text: 'Hey', mentionedBot: true, teamId: TEAM, channelId: CHANNEL, rootId: '1767377017138' },
  'vercel_chat_replay/dm/teams.json#dmRequest': { kind: 'message', text: 'dm me', mentionedBot: false, teamId: TEAM, channelId: CHANNEL },
  'vercel_chat_replay/dm/teams.json#dmMessage': { kind: 'message', text: 'Hey', mentionedBot: false, tenantId: TENANT },
  'vercel_chat_replay/streaming/teams.json#aiMention': { kind: 'message', text: 'AI What is love?', mentionedBot: true, teamId: TEAM, channelId: CHANNEL, rootId: '1767406652277' },
  'vercel_chat_replay/streaming/teams.json#followUp': { kind: 'message', text: 'Who are you?', mentionedBot: false, teamId: TEAM, channelId: CHANNEL, rootId: '1767406652277' },
};

function channelActivity(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    channelId: 'msteams', serviceUrl: SERVICE, id: '1767500000000',
    from: { id: '29:agent', name: 'Aino Agent', aadObjectId: '00000000-1111-2222-3333-444444444444' },
    recipient: { id: BOT, name: 'HummDesk' },
    conversation: { isGroup: true, conversationType: 'channel', tenantId: TENANT, id: `${CHANNEL};messageid=1767400000000` },
    channelData: { channel: { id: CHANNEL }, team: { id: TEAM, name: 'Support' }, tenant: { id: TENANT } },
    ...extra,
  };
}

/** Payloads the shared sets lack: Action.Execute invokes, installs, removals and channel events, as Teams sends them. */
export const HAND_WRITTEN: { id: string; payload: Record<string, unknown>; expected: Expectation }[] = [
  {
    id: 'hand/adaptiveCard-action-assign',
    payload: channelActivity({ type: 'invoke', name: 'adaptiveCard/action', replyToId: '1767400000000', value: { action: { type: 'Action.Execute', verb: 'assign_to_me', data: { conversationId: 'c-1', cardVersion: 3 } }, trigger: 'manual' } }),
    expected: { kind: 'action', verb: 'assign_to_me', data: { conversationId: 'c-1', cardVersion: 3 }, teamId: TEAM, channelId: CHANNEL, rootId: '1767400000000' },
  },
  {
    id: 'hand/adaptiveCard-action-no-data',
    payload: channelActivity({ type: 'invoke', name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', verb: 'refresh' }, trigger: 'automatic' } }),
    expected: { kind: 'action', verb: 'refresh', data: {} },
  },
  {
    id: 'hand/adaptiveCard-action-without-verb',
    payload: channelActivity({ type: 'invoke', name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', data: { x: 1 } } } }),
    expected: { kind: 'ignored', reason: 'adaptiveCard/action without a verb' },
  },
  {
    id: 'hand/adaptiveCard-action-personal',
    payload: { ...channelActivity({ type: 'invoke', name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', verb: 'resolve', data: { conversationId: 'c-2' } } } }), conversation: { conversationType: 'personal', tenantId: TENANT, id: 'a:1xyz' }, channelData: { tenant: { id: TENANT } } },
    expected: { kind: 'action', verb: 'resolve', data: { conversationId: 'c-2' }, tenantId: TENANT },
  },
  {
    id: 'hand/submit-fallback-with-text',
    payload: channelActivity({ type: 'message', text: '', replyToId: '1767400000000', value: { verb: 'send_draft', conversationId: 'c-1', cardVersion: 3 } }),
    expected: { kind: 'submit', verb: 'send_draft', rootId: '1767400000000' },
  },
  {
    id: 'hand/bot-added-to-team',
    payload: channelActivity({ type: 'conversationUpdate', conversation: { isGroup: true, conversationType: 'channel', tenantId: TENANT, id: TEAM }, membersAdded: [{ id: BOT }], channelData: { eventType: 'teamMemberAdded', team: { id: TEAM, name: 'Support' }, tenant: { id: TENANT } } }),
    expected: { kind: 'installed', scope: 'team', teamId: TEAM, tenantId: TENANT },
  },
  {
    id: 'hand/bot-removed-from-team',
    payload: channelActivity({ type: 'conversationUpdate', conversation: { isGroup: true, conversationType: 'channel', tenantId: TENANT, id: TEAM }, membersRemoved: [{ id: BOT }], channelData: { eventType: 'teamMemberRemoved', team: { id: TEAM }, tenant: { id: TENANT } } }),
    expected: { kind: 'uninstalled', scope: 'team', teamId: TEAM },
  },
  {
    id: 'hand/installationUpdate-add-personal',
    payload: { ...channelActivity({ type: 'installationUpdate', action: 'add' }), conversation: { conversationType: 'personal', tenantId: TENANT, id: 'a:1xyz' }, channelData: { tenant: { id: TENANT } } },
    expected: { kind: 'installed', scope: 'personal', tenantId: TENANT },
  },
  {
    id: 'hand/installationUpdate-remove-team',
    payload: channelActivity({ type: 'installationUpdate', action: 'remove' }),
    expected: { kind: 'uninstalled', scope: 'team', teamId: TEAM },
  },
  {
    id: 'hand/channel-created',
    payload: channelActivity({ type: 'conversationUpdate', channelData: { eventType: 'channelCreated', channel: { id: '19:new@thread.tacv2', name: 'Escalations' }, team: { id: TEAM }, tenant: { id: TENANT } } }),
    expected: { kind: 'channel', event: 'created', teamId: TEAM },
  },
  {
    id: 'hand/team-renamed',
    payload: channelActivity({ type: 'conversationUpdate', channelData: { eventType: 'teamRenamed', team: { id: TEAM, name: 'Support EU' }, tenant: { id: TENANT } } }),
    expected: { kind: 'team', event: 'renamed', teamId: TEAM },
  },
  {
    id: 'hand/member-joined',
    payload: channelActivity({ type: 'conversationUpdate', membersAdded: [{ id: '29:new', aadObjectId: 'aad-new' }], channelData: { eventType: 'teamMemberAdded', team: { id: TEAM }, tenant: { id: TENANT } } }),
    expected: { kind: 'members', teamId: TEAM },
  },
  {
    id: 'hand/message-with-file-only',
    payload: channelActivity({ type: 'message', text: '', attachments: [{ contentType: 'application/vnd.microsoft.teams.file.download.info', name: 'log.txt', contentUrl: 'https://contoso.sharepoint.com/log.txt' }] }),
    expected: { kind: 'message', text: '' },
  },
];

/** A channel message carrying one entity of the set, so entity files are checked in the context Teams sends them in. */
function entityCarrier(entity: unknown): Record<string, unknown> {
  return channelActivity({ type: 'message', text: (entity as { type?: string }).type === 'mention' ? '<at>acctName</at> hello' : 'hello', entities: [entity] });
}

/** The shared corpus: $HUMMDESK_CORPUS_DIR, ../shared/data beside the repository, or /work/shared/data. */
export function protocolCorpusDir(): string | undefined {
  // A directory the operator names is the only one looked at.
  const candidates = process.env.HUMMDESK_CORPUS_DIR ? [process.env.HUMMDESK_CORPUS_DIR] : [fileURLToPath(new URL('../../../shared/data', import.meta.url)), '/work/shared/data'];
  for (const base of candidates) if (existsSync(join(base, 'protocol'))) return join(base, 'protocol');
  return undefined;
}

function* jsonFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* jsonFiles(path);
    else if (name.endsWith('.json')) yield path;
  }
}

export interface ConformanceCase {
  id: string;
  payload: unknown;
  expected?: Expectation;
}

/** Every Teams payload of the corpus (and the hand-written ones); `skipped` names sets that are absent. */
export function conformanceCases(dir = protocolCorpusDir()): { cases: ConformanceCase[]; skipped: string[] } {
  const cases: ConformanceCase[] = HAND_WRITTEN.map((h) => ({ id: h.id, payload: h.payload, expected: h.expected }));
  const skipped: string[] = [];
  const teamsNet = dir && join(dir, 'teams_net_activity_json');
  if (teamsNet && existsSync(teamsNet)) {
    for (const file of jsonFiles(teamsNet)) {
      const id = relative(dir, file);
      const json = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      cases.push({ id, payload: id.includes('/Entities/') ? entityCarrier(json) : json, expected: EXPECTED[id] });
    }
  } else skipped.push('teams_net_activity_json');
  const vercel = dir && join(dir, 'vercel_chat_replay');
  if (vercel && existsSync(vercel)) {
    for (const file of jsonFiles(vercel)) {
      if (!file.endsWith('/teams.json')) continue;
      const recording = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      // A recording holds named payloads beside its metadata (botName, appId, …): the payloads are the objects with a type.
      for (const [name, value] of Object.entries(recording)) {
        if (!value || typeof value !== 'object' || typeof (value as { type?: unknown }).type !== 'string') continue;
        const id = `${relative(dir, file)}#${name}`;
        cases.push({ id, payload: value, expected: EXPECTED[id] });
      }
    }
  } else skipped.push('vercel_chat_replay');
  return { cases, skipped };
}

export interface CaseResult {
  id: string;
  ok: boolean;
  problems: string[];
  result?: TeamsEvent;
}

/** Parses one case and compares the expected fields. */
export function checkCase(c: ConformanceCase): CaseResult {
  let result: TeamsEvent;
  try {
    result = parseActivity(c.payload);
  } catch (err) {
    return { id: c.id, ok: false, problems: [`parse threw: ${(err as Error).message}`] };
  }
  if (!c.expected) return { id: c.id, ok: false, problems: ['no hand-checked expected result for this payload'], result };
  const got = result as unknown as Record<string, unknown>;
  const problems: string[] = [];
  for (const [field, want] of Object.entries(c.expected)) {
    const actual = field === 'rootId' ? (got.conversation as { rootId?: string } | undefined)?.rootId : got[field];
    if (JSON.stringify(actual) !== JSON.stringify(want)) problems.push(`${field}: expected ${JSON.stringify(want)}, got ${JSON.stringify(actual)}`);
  }
  return { id: c.id, ok: problems.length === 0, problems, result };
}
