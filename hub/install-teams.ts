import type { Hub } from './context.js';
import { TeamsConnectorClient, tokenSourceFor } from '../connectors/teams/client.js';
import { setTeamsActivityHandler } from './routes/teams-webhook.js';
import { slackOf } from './install-slack.js';
import { withAccount } from '../storage/session.js';
import { enqueue } from '../storage/repositories/outbox.js';
import { TeamsInstalls } from './teams/installs.js';
import { GraphPostFinder } from './teams/graph.js';
import { TeamsCardActionHandler } from './teams/actions.js';
import { teamsConfig } from './teams/store.js';
import { TeamsActivities } from './teams/activities.js';
import { TeamsSurface, type TeamsInstall, type TeamsPostFinder, type TeamsSurfaceLimits } from './teams/surface.js';

export interface TeamsParts {
  surface: TeamsSurface;
  installs: TeamsInstalls;
  activities: TeamsActivities;
  client(): TeamsConnectorClient;
}

const parts = new WeakMap<Hub, TeamsParts>();

/** The Teams surface of a hub, once installTeams ran. */
export function teamsOf(hub: Hub): TeamsParts | undefined {
  return parts.get(hub);
}

/**
 * Installs Microsoft Teams as an agent surface: the activity handler behind POST /webhooks/teams, the
 * TeamsSurface among the hub's surfaces (its syncs do nothing for an account without a Teams team), and
 * delivery confirmations in the thread. Nothing here loads botbuilder; the Bot Connector client is
 * created on first use (a hub without HUMMDESK_TEAMS_APP_ID fails only when Teams is actually used).
 */
export function installTeams(hub: Hub, opts: { finder?: TeamsPostFinder; limits?: Partial<TeamsSurfaceLimits>; fetch?: typeof fetch } = {}): TeamsParts {
  const existing = parts.get(hub);
  if (existing) return existing;
  let client: TeamsConnectorClient | undefined;
  const clientOf = () => (client ??= new TeamsConnectorClient(tokenSourceFor(hub.config.teams, { fetch: opts.fetch }), { testServiceOrigins: hub.config.teams.testServiceOrigins, fetch: opts.fetch }));
  const conversationUrl = (id: string) => `${hub.config.publicUrl.replace(/\/$/, '')}/#/conversations/${id}`;
  const installs = new TeamsInstalls({ hub, client: clientOf });
  const surface = new TeamsSurface({
    db: hub.db,
    client: clientOf,
    conversationUrl,
    // A root card whose post was not recorded is looked for through Microsoft Graph before it is posted again.
    finder: opts.finder ?? (hub.config.teams.appId
      ? new GraphPostFinder({
        tokens: tokenSourceFor({ ...hub.config.teams, oauthScope: 'https://graph.microsoft.com/.default' }, { fetch: opts.fetch }),
        graphUrl: hub.config.teams.graphUrl, appId: hub.config.teams.appId, fetch: opts.fetch, warn: (obj, msg) => hub.log.warn(obj, msg),
      })
      : undefined),
    limits: opts.limits,
    onRosterRefused: (i: TeamsInstall) => installs.rosterRefused(i.accountId, i.id, i.config.serviceUrl, i.teamId),
  });
  const activities = new TeamsActivities({ hub, client: clientOf, installs, conversationUrl });
  // Card clicks (Action.Execute invokes and Action.Submit fallbacks) act through the surface-neutral dispatcher.
  activities.setActions(new TeamsCardActionHandler({
    db: hub.db,
    conversations: hub.conversations,
    now: () => new Date(),
    conversationUrl,
    linkClicker: (accountId, from) => activities.linkByRoster(accountId, from),
    perUserViews: true,
    contextOf: async (event) => {
      const install = event.teamId ? await hub.installations.find({ kind: 'teams', externalKey: event.teamId }) : undefined;
      return install ? { accountId: install.accountId, threadReplies: teamsConfig(install).threadReplies ?? 'notes' } : undefined;
    },
    tellSubmitter: async (ctx, event, text) => {
      const install = event.teamId ? await hub.installations.find({ kind: 'teams', externalKey: event.teamId }) : undefined;
      if (!install || !event.channelId || !event.conversation.rootId) return;
      await withAccount(hub.db, ctx.accountId, (tx) => enqueue(tx, ctx.accountId, 'teams.notice', { installationId: install.id, channel: event.channelId, rootId: event.conversation.rootId, text }));
      hub.runner.kick();
    },
  }));
  const made: TeamsParts = { surface, installs, activities, client: clientOf };
  parts.set(hub, made);
  hub.surfaces.push(surface);
  setTeamsActivityHandler(hub, activities);
  hub.handlers['teams.notice'] = async (job) => {
    const p = job.payload as { installationId: string; channel: string; rootId: string; text: string };
    const install = await withAccount(hub.db, job.accountId, async (tx) => (await tx.query<{ id: string; accountId: string; teamId: string; config: Record<string, unknown> }>(
      `SELECT id, account_id AS "accountId", external_key AS "teamId", config FROM channels WHERE id = $1 AND kind = 'teams' AND enabled`, [p.installationId])).rows[0]);
    if (!install) return;
    await surface.notice({ ...install, config: teamsConfig(install) }, p.channel, p.rootId, p.text);
  };
  // A delivery outcome is confirmed in the thread; the Slack install does the same for every surface.
  const deliver = hub.handlers.deliver;
  if (deliver && !slackOf(hub))
    hub.handlers.deliver = async (job) => {
      try {
        await deliver(job);
      } finally {
        const messageId = String(job.payload.messageId);
        await withAccount(hub.db, job.accountId, async (tx) => {
          const row = (await tx.query<{ conversationId: string }>(`SELECT conversation_id AS "conversationId" FROM messages WHERE id = $1`, [messageId])).rows[0];
          if (row) await enqueue(tx, job.accountId, 'surface.sync', { conversationId: row.conversationId, messageId });
        }).then(() => hub.runner.kick(), (err: unknown) => hub.log.error({ err, messageId }, 'could not queue the Teams delivery confirmation'));
      }
    };
  return made;
}
