import type { Database } from '../../storage/database.js';
import { tenantReads } from '../../storage/session.js';
import type { FastifyBaseLogger } from 'fastify';
import type { Activity } from '../../connectors/teams/activity.js';
import type { TeamsEvent } from '../../connectors/teams/parse.js';
import type { ConversationService } from '../services/conversations.js';
import { actionClaimKeyParts, claimAction, dispatchCardAction, releaseAction, REFUSALS, type ActionRequest } from '../surfaces/actions.js';
import { toAgent, type Agent } from '../surfaces/agents.js';
import { readCardView, readClick, type CardView } from './store.js';
import { invokePhase } from './phases.js';
import { cardVersion, isCardAction, type CardAction } from '../surfaces/card.js';
import { ADAPTIVE_CARD_CONTENT_TYPE, INPUT_IDS, REFRESH_VERB, teamsConversationCard, type AdaptiveCard } from './card.js';

/**
 * A click on a Teams card: an Action.Execute (invoke `adaptiveCard/action`) or its Action.Submit
 * fallback (a message with `value`). The clicker is the HummDesk agent linked to their AAD object id;
 * the action goes through the surface-neutral dispatcher; the answer is the clicker's own view of the
 * card, or a message saying why nothing happened. Never an error status: Teams shows a generic failure
 * and stops trusting bots that fail.
 */

export const MESSAGE_CONTENT_TYPE = 'application/vnd.microsoft.activity.message';

/** The body of an invoke answer (`adaptiveCard/action`). */
export type TeamsInvokeAnswer =
  | { statusCode: 200; type: typeof ADAPTIVE_CARD_CONTENT_TYPE; value: AdaptiveCard }
  | { statusCode: 200; type: typeof MESSAGE_CONTENT_TYPE; value: string };

export const TEAMS_LINK_HELP =
  'Your Teams account is not linked to a HummDesk agent, so nothing changed. Use the same email address in Teams and HummDesk, or ask a HummDesk admin to link your Teams user.';

export interface TeamsActionDeps {
  db: Database;
  conversations: ConversationService;
  now: () => Date;
  conversationUrl: (conversationId: string) => string;
  /** An unlinked clicker: the surface may link them now (a matching email in the installation's tenant). */
  linkClicker?: (accountId: string, from: { id: string; name?: string; aadObjectId?: string }) => Promise<{ id: string; name: string } | undefined>;
  /** Answer with per-user views (`refresh.userIds`: linked agents' Teams user ids, the assignee first), read with the card. */
  perUserViews?: boolean;
  log?: { warn: (obj: unknown, msg: string) => void };
}

export interface TeamsActionContext {
  accountId: string;
  /** What a plain thread reply becomes on this installation (shown on the card). */
  threadReplies?: 'notes' | 'replies';
}

export type TeamsClick = Extract<TeamsEvent, { kind: 'action' | 'submit' }>;

const message = (value: string): TeamsInvokeAnswer => ({ statusCode: 200, type: MESSAGE_CONTENT_TYPE, value });
const cardAnswer = (value: AdaptiveCard): TeamsInvokeAnswer => ({ statusCode: 200, type: ADAPTIVE_CARD_CONTENT_TYPE, value });
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : v === undefined || v === null ? undefined : typeof v === 'number' ? String(v) : undefined);

/** The request a click makes, from the button's data and the card's inputs (Teams merges both into one object). */
function requestOf(action: CardAction, data: Record<string, unknown>): ActionRequest | undefined {
  switch (action) {
    case 'sendDraft':
      return { action, draftId: str(data.d) ?? '' };
    case 'editDraft':
      return { action, draftId: str(data.d) ?? '', text: str(data[INPUT_IDS.editDraft]) ?? '' };
    case 'reply':
      return { action, text: str(data[INPUT_IDS.reply]) ?? '' };
    case 'note':
      return { action, text: str(data[INPUT_IDS.note]) ?? '' };
    case 'snooze':
      return { action, hours: Number(str(data[INPUT_IDS.snooze]) ?? NaN) };
    default:
      return { action };
  }
}

export async function handleTeamsAction(deps: TeamsActionDeps, ctx: TeamsActionContext, event: TeamsClick): Promise<TeamsInvokeAnswer> {
  const { accountId } = ctx;
  const data = event.kind === 'action' ? event.data : event.value;
  const verb = str(data.hd) ?? event.verb;
  const conversationId = str(data.conversationId);
  if (!verb || (verb !== REFRESH_VERB && !isCardAction(verb))) return message('HummDesk does not know that button. Refresh the card and try again.');
  if (!conversationId || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(conversationId)) return message(REFUSALS.conversation_not_found!);
  const views = { url: deps.conversationUrl, threadReplies: ctx.threadReplies ?? 'notes', perUserViews: deps.perUserViews ?? false } as const;
  // Single statements as the tenant, each in its own implicit transaction: one round trip apiece.
  const reads = tenantReads(deps.db, accountId);
  // What the button asks for, and its once-only key on the version the button carries (same agent, action, text, version).
  const asked = verb === REFRESH_VERB ? undefined : askedOf(verb as CardAction, data);
  const buttonVersion = str(data.v);
  const keyParts = asked && buttonVersion ? actionClaimKeyParts({ conversationId, version: buttonVersion, ...asked.detail }) : undefined;
  // One statement for what a click needs first: the card it sits on, the clicker, the card as it is now, and
  // (a linked agent, the usual click) the click's claim; per-user views only where a view is answered from this read.
  const first = await readClick(reads, {
    accountId, conversationId,
    threadKey: event.conversation.rootId ? event.conversation.id : null,
    aadObjectId: event.from?.aadObjectId ?? null,
    ...(event.from?.aadObjectId && event.from.id ? { mri: event.from.id } : {}),
    claim: keyParts ?? null,
    ...views, perUserViews: views.perUserViews && verb === REFRESH_VERB,
  });
  invokePhase(event.activityId, 'read');
  // The button must sit on this conversation's own card: a card in another conversation's thread is refused.
  if (first.threadConversationId !== null && first.threadConversationId !== conversationId) return message('That button does not belong to this card.');
  const agent = await clicker(deps, accountId, event, first.clicker);
  const model = first.model;
  if (!model) return message(REFUSALS.conversation_not_found!);
  const view = (v: CardView) => (v.model ? cardAnswer(teamsConversationCard(v.model, { ...(agent ? { viewer: { userId: agent.actor.id! } } : {}), ...v.refresh })) : message(REFUSALS.conversation_not_found!));
  /** The card as it is, for a click that changes nothing. */
  const unchanged = async () => view(await readCardView(reads, conversationId, views));

  // Refresh is read-only: anyone in the channel sees the card, an agent their own view of it.
  if (verb === REFRESH_VERB) return view(first);
  if (!agent) return message(TEAMS_LINK_HELP);
  const key = `${keyParts?.prefix ?? ''}${agent.actor.id!}${keyParts?.suffix ?? ''}`;
  // A click on an older rendering changes nothing: the clicker gets the card as it is now (and a claim the
  // first read made on that older version is given back, so a later card of that version can be clicked).
  if (!keyParts || buttonVersion !== cardVersion(model)) {
    if (first.claimed) await releaseAction(reads, 'teams', key);
    return unchanged();
  }
  const { action, request } = asked!;
  // A double click (or a redelivered invoke) claims the same key: it acts once and then shows the card.
  // (An agent linked only now by this click claims here; everyone else claimed with the first read.)
  const claimed = first.clicker ? first.claimed : await claimAction(reads, { accountId, surface: 'teams', key, conversationId });
  if (!claimed) return unchanged();
  let outcome;
  try {
    outcome = await dispatchCardAction(deps, agent, conversationId, request);
  } catch (err) {
    await releaseAction(reads, 'teams', key);
    deps.log?.warn({ err, conversationId, action }, 'teams card action failed');
    return message('HummDesk could not do that just now. Try again in a moment.');
  }
  if (!outcome.ok) {
    await releaseAction(reads, 'teams', key);
    return message(REFUSALS[outcome.code] ?? outcome.reason);
  }
  invokePhase(event.activityId, 'acted');
  // The shared card follows for everyone through the surface sync the action queued with its own change
  // (hub.conversations queues one with every change); the clicker's view is the answer.
  const now = await readCardView(reads, conversationId, views);
  invokePhase(event.activityId, 'answered');
  return now.model ? view(now) : message('Done.');
}

/** What a button asks for: the dispatcher's request and what makes two clicks the same (its claim key's detail). */
function askedOf(action: CardAction, data: Record<string, unknown>): { action: CardAction; request: ActionRequest; detail: { action: CardAction; text?: string; draftId?: string; hours?: number } } {
  const request = requestOf(action, data)!;
  return {
    action, request,
    detail: { action, ...('text' in request ? { text: request.text.trim() } : {}), ...('draftId' in request ? { draftId: request.draftId } : {}), ...('hours' in request ? { hours: request.hours } : {}) },
  };
}

/** The HTTP answer for the webhook: an invoke's body, or for a Submit fallback nothing to say in the body. */
export function teamsActionHttpAnswer(event: TeamsClick, answer: TeamsInvokeAnswer): { status: number; body: unknown } {
  return event.kind === 'action' ? { status: 200, body: answer } : { status: 200, body: {} };
}

/** The agent who clicked: linked already (`known`, read with the card), else linked now by the surface if it can. */
async function clicker(deps: TeamsActionDeps, accountId: string, event: TeamsClick, known: { id: string; name: string } | undefined): Promise<Agent | undefined> {
  if (!event.from?.aadObjectId) return undefined;
  if (known) return toAgent(accountId, known);
  const linked = deps.linkClicker && event.from ? await deps.linkClicker(accountId, event.from).catch(() => undefined) : undefined;
  return linked ? toAgent(accountId, linked) : undefined;
}

export interface TeamsCardActionsDeps extends TeamsActionDeps {
  /** The installation a click came from (by its team): the account and reply mode; undefined for a team HummDesk does not know. */
  contextOf: (event: TeamsClick) => Promise<TeamsActionContext | undefined>;
  /** A Submit fallback has no answer body: what the agent should read is posted by the surface (e.g. in the thread). */
  tellSubmitter?: (ctx: TeamsActionContext, event: TeamsClick, text: string) => Promise<void>;
}

/** Card clicks for the Teams surface's activity router (its `TeamsCardActions`): invokes get their answer, Submit fallbacks 200. */
export class TeamsCardActionHandler {
  constructor(private readonly deps: TeamsCardActionsDeps) {}

  async handle(event: TeamsClick, _activity: Activity, log: FastifyBaseLogger): Promise<{ status: number; body: unknown }> {
    const ctx = await this.deps.contextOf(event);
    invokePhase(event.activityId, 'context');
    if (!ctx) {
      log.info({ teams: { kind: event.kind, team: event.teamId } }, 'teams card click from a team HummDesk does not know');
      return teamsActionHttpAnswer(event, message('This team is not connected to HummDesk.'));
    }
    const answer = await handleTeamsAction({ ...this.deps, log: this.deps.log ?? log }, ctx, event);
    if (event.kind === 'submit' && answer.type === MESSAGE_CONTENT_TYPE && this.deps.tellSubmitter) {
      await this.deps.tellSubmitter(ctx, event, answer.value).catch((err: unknown) => log.warn({ err }, 'teams: could not tell a Submit clicker why nothing happened'));
    }
    return teamsActionHttpAnswer(event, answer);
  }
}
