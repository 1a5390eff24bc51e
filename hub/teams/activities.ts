import type { FastifyBaseLogger } from 'fastify';
import { plainRefusal } from '../surfaces/refusal.js';
import type { Activity } from '../../connectors/teams/activity.js';
import type { TeamsConnectorClient } from '../../connectors/teams/client.js';
import type { TeamsEvent } from '../../connectors/teams/parse.js';
import { withAccount } from '../../storage/session.js';
import { enqueue } from '../../storage/repositories/outbox.js';
import { updateChannel } from '../../storage/repositories/channels.js';
import type { Hub } from '../context.js';
import { HubError } from '../errors.js';
import type { TeamsActivityHandler, TeamsAnswer } from '../routes/teams-webhook.js';
import type { TeamsInstalls } from './installs.js';
import { claimActivity, linkUserByEmail, listTeamsInstallations, releaseActivity, settleActivity, teamsConfig, threadByKey, threadKey, userByAadId, type LinkedAgent } from './store.js';

type Handled = Exclude<TeamsEvent, { kind: 'ignored' }>;

/**
 * Card clicks: `adaptiveCard/action` invokes and Action.Submit fallbacks (messages with `value`). The card
 * actions module answers them (hub/teams/actions.ts); until it is wired, invokes answer 501.
 */
export interface TeamsCardActions {
  handle(event: Extract<Handled, { kind: 'action' | 'submit' }>, activity: Activity, log: FastifyBaseLogger): Promise<TeamsAnswer | undefined>;
}

export interface TeamsActivitiesDeps {
  hub: Hub;
  client: () => TeamsConnectorClient;
  installs: TeamsInstalls;
  conversationUrl: (conversationId: string) => string;
  actions?: TeamsCardActions;
}

export const UNLINKED_TEXT = 'You are not linked to a HummDesk agent, so nothing was done. Ask a HummDesk admin to link your Teams account, or use the same email address in Teams and HummDesk.';

/**
 * The Teams surface's side of `POST /webhooks/teams` (hub/routes/teams-webhook.ts): installs and removals,
 * channel and team events, agents' thread replies, and card clicks. Every activity that changes something is
 * claimed by its id first (teams_activities), so Bot Framework's redelivery never does it twice.
 */
export class TeamsActivities implements TeamsActivityHandler {
  constructor(private readonly deps: TeamsActivitiesDeps) {}

  /** Where card clicks go (hub/teams/actions.ts), set once that module is installed. */
  setActions(actions: TeamsCardActions): void {
    this.deps.actions = actions;
  }

  async handle(event: Handled, activity: Activity, log: FastifyBaseLogger): Promise<TeamsAnswer | undefined> {
    switch (event.kind) {
      case 'installed':
        if (event.scope !== 'team') return this.skip(log, event.kind, `installed in ${event.scope} scope: only teams are a surface`);
        log.info({ teams: { team: event.teamId, outcome: await this.deps.installs.installed(event, activity, log) } }, 'teams: bot added to a team');
        return undefined;
      case 'uninstalled':
        if (event.scope !== 'team') return this.skip(log, event.kind, `removed from ${event.scope} scope`);
        log.info({ teams: { team: event.teamId, outcome: await this.deps.installs.removed(event, 'bot_removed') } }, 'teams: bot removed from a team');
        return undefined;
      case 'channel':
      case 'team':
        log.info({ teams: { team: event.teamId, event: event.event, outcome: await this.deps.installs.teamChanged(event, log) } }, 'teams: team changed');
        return undefined;
      case 'members':
        return this.skip(log, event.kind, 'members other than the bot joined or left');
      case 'action':
      case 'submit':
        if (!this.deps.actions) return this.skip(log, event.kind, 'no card actions installed on this hub');
        return this.deps.actions.handle(event, activity, log);
      case 'message':
        return this.message(event, log);
    }
  }

  private skip(log: FastifyBaseLogger, kind: string, reason: string): undefined {
    log.info({ teams: { kind, reason } }, 'teams activity ignored');
    return undefined;
  }

  /** An agent's message in a channel: a thread reply under one of our cards, or a "connect" mention in a team no account holds yet. */
  private async message(event: Extract<Handled, { kind: 'message' }>, log: FastifyBaseLogger): Promise<TeamsAnswer | undefined> {
    const { hub } = this.deps;
    if (event.conversation.type !== 'channel' || !event.teamId || !event.channelId) return this.skip(log, 'message', 'not a channel message');
    const install = await hub.installations.find({ kind: 'teams', externalKey: event.teamId });
    if (!install) {
      if (event.mentionedBot && /\bconnect\b/i.test(event.text)) {
        log.info({ teams: { team: event.teamId, outcome: await this.deps.installs.installed(event, { type: 'message', channelData: {} }, log, { forceCode: true }) } }, 'teams: new link code asked for');
        return undefined;
      }
      return this.skip(log, 'message', 'team not connected to an account');
    }
    const config = teamsConfig(install);
    // Teams may move a team to another serviceUrl; keep the one its latest authenticated activity names.
    if (event.serviceUrl && event.serviceUrl !== config.serviceUrl) {
      await withAccount(hub.db, install.accountId, (tx) => updateChannel(tx, hub.box, install.id, { config: { ...install.config, serviceUrl: event.serviceUrl } }));
      hub.installations.forget();
      config.serviceUrl = event.serviceUrl;
    }
    const rootId = event.conversation.rootId;
    if (!rootId || !event.activityId) return this.skip(log, 'message', 'not a thread reply');
    const { accountId } = install;
    const thread = await withAccount(hub.db, accountId, (tx) => threadByKey(tx, threadKey(event.channelId!, rootId)));
    if (!thread || thread.data.installationId !== install.id) return this.skip(log, 'message', 'not a thread of ours');
    // Claimed before anything is done: a redelivery of the same activity does nothing.
    const activityId = event.activityId;
    if (!(await withAccount(hub.db, accountId, (tx) => claimActivity(tx, { accountId, installationId: install.id, activityId })))) return undefined;
    const settle = (outcome: string, messageId?: string) => withAccount(hub.db, accountId, (tx) => settleActivity(tx, install.id, activityId, outcome, messageId));
    // What the agent is told goes out through the job queue (paced per thread, retried after a 429), with the outcome.
    const say = async (outcome: string, text: string) => {
      await withAccount(hub.db, accountId, async (tx) => {
        await settleActivity(tx, install.id, activityId, outcome);
        await enqueue(tx, accountId, 'teams.notice', { installationId: install.id, channel: event.channelId!, rootId, text });
      });
      hub.runner.kick();
    };
    let agent: LinkedAgent | undefined;
    try {
      agent = await this.agentFor(accountId, install.id, config, event.from?.aadObjectId, event.from?.id, log);
    } catch (err) {
      await withAccount(hub.db, accountId, (tx) => releaseActivity(tx, install.id, activityId));
      throw err;
    }
    if (!agent) {
      await say('unlinked', UNLINKED_TEXT);
      return undefined;
    }
    if (event.attachments.length) {
      await say('files_refused', `Nothing was sent: files cannot go from Teams to the customer. Attach them in HummDesk: ${this.deps.conversationUrl(thread.conversationId)}`);
      return undefined;
    }
    const isNote = (config.threadReplies ?? 'notes') === 'notes';
    try {
      // Marked as written in Teams in the message's own transaction: its sync may run before this handler goes on.
      const message = await hub.conversations.reply({ accountId, kind: 'user', id: agent.id }, thread.conversationId, { text: event.text, isPrivate: isNote, writtenIn: 'teams' });
      await settle(isNote ? 'note' : 'reply', message.id);
    } catch (err) {
      if (err instanceof HubError && err.statusCode < 500) {
        await say('refused', plainRefusal(err, this.deps.conversationUrl(thread.conversationId)));
        return undefined;
      }
      await withAccount(hub.db, accountId, (tx) => releaseActivity(tx, install.id, activityId));
      throw err;
    }
    return undefined;
  }

  /** An unlinked card clicker: linked now when a Teams team of the account lists them with a HummDesk user's email. */
  async linkByRoster(accountId: string, from: { id: string; aadObjectId?: string }): Promise<LinkedAgent | undefined> {
    const { hub } = this.deps;
    const installs = await withAccount(hub.db, accountId, (tx) => listTeamsInstallations(tx));
    for (const install of installs.filter((i) => i.enabled)) {
      const agent = await this.agentFor(accountId, install.id, teamsConfig(install), from.aadObjectId, from.id, hub.log as unknown as FastifyBaseLogger);
      if (agent) return agent;
    }
    return undefined;
  }

  /**
   * The HummDesk agent a Teams user is: linked by AAD object id, else linked now when the team's roster gives
   * them an email (or UPN) of a HummDesk user of this account, in the installation's own tenant.
   */
  async agentFor(accountId: string, installationId: string, config: { serviceUrl: string; tenantId: string }, aadObjectId: string | undefined, teamsUserId: string | undefined, log: FastifyBaseLogger): Promise<LinkedAgent | undefined> {
    if (!aadObjectId) return undefined;
    const { hub } = this.deps;
    const known = await withAccount(hub.db, accountId, (tx) => userByAadId(tx, aadObjectId, teamsUserId));
    if (known) return known;
    const install = await withAccount(hub.db, accountId, async (tx) => (await tx.query<{ teamId: string }>(`SELECT external_key AS "teamId" FROM channels WHERE id = $1`, [installationId])).rows[0]);
    if (!install) return undefined;
    const roster = await this.deps.client().members(config.serviceUrl, install.teamId).catch((err: unknown) => {
      log.warn({ err }, 'teams: could not read the team roster to link an agent');
      return [];
    });
    const member = roster.find((m) => m.aadObjectId === aadObjectId && (!teamsUserId || m.id === teamsUserId));
    const email = member?.email ?? member?.userPrincipalName;
    // A guest from another tenant never links by email.
    if (!member || !email || (member.tenantId && member.tenantId !== config.tenantId)) return undefined;
    return withAccount(hub.db, accountId, (tx) => linkUserByEmail(tx, email, aadObjectId, member.id));
  }
}
