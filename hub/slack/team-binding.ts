import { AuthError } from '../../connectors/core/errors.js';
import { SlackClients, slackErrorCode, toConnectorError } from '../../connectors/slack/client.js';
import { withAccount } from '../../storage/session.js';
import { audit } from '../../storage/repositories/audit.js';
import type { Hub } from '../context.js';
import { HubError, badRequest } from '../errors.js';
import { slackOf } from '../install-slack.js';

/*
 * A Slack team id binds a workspace to an account: every event of that team is that account's. It is
 * bound only through OAuth (hub/routes/slack-oauth.ts) or a bot token whose auth.test names the team,
 * never by typing it, so no tenant can claim (or block) another's workspace.
 */

/** The Web API clients of the hub's Slack app, or plain ones (slack.com) on a hub without it. */
export function slackClientsOf(hub: Hub): SlackClients {
  return slackOf(hub)?.clients ?? new SlackClients();
}

export interface SlackTeamIdentity {
  teamId: string;
  teamName?: string;
  botUserId?: string;
}

/** The workspace a bot token belongs to, as Slack's auth.test says; a user token or a refused one is bad input. */
export async function teamOfBotToken(clients: SlackClients, botToken: string): Promise<SlackTeamIdentity> {
  let answer;
  try {
    answer = await clients.for(botToken).auth.test();
  } catch (err) {
    // Expired is not forged: Slack only says so of a real (rotating) token of its workspace.
    if (slackErrorCode(err) === 'token_expired') throw badRequest('slack_token_expired', 'the bot token has expired (token rotation): reinstall through "Add to Slack"');
    const e = toConnectorError(err);
    if (e instanceof AuthError) throw badRequest('slack_token_invalid', 'Slack refused the bot token');
    throw new HubError(502, 'slack_unavailable', e.message);
  }
  if (!answer.team_id || !answer.bot_id) throw badRequest('slack_bot_token_required', 'secrets.botToken must be a Slack bot token (xoxb-…)');
  return { teamId: answer.team_id, teamName: answer.team, botUserId: answer.user_id };
}

/**
 * When binding a team another account holds: its binding is released (that channel disabled, its key
 * moved aside) only when it is not genuine: no bot token, or one Slack refuses or places in another
 * team, as a team id typed in before bindings were checked. Returns whether the team is free now.
 */
export async function releaseStaleSlackTeam(hub: Hub, teamId: string): Promise<boolean> {
  const holder = (await hub.db.query<{ id: string; accountId: string; secretsEnc: string | null }>(
    `SELECT id, account_id AS "accountId", secrets_enc AS "secretsEnc" FROM channels WHERE kind = 'slack' AND external_key = $1`,
    [teamId],
  )).rows[0];
  if (!holder) return true;
  const token = hub.box.open(holder.secretsEnc).botToken;
  if (token) {
    try {
      if ((await teamOfBotToken(slackClientsOf(hub), token)).teamId === teamId) return false;
    } catch (err) {
      // Slack unreachable: nothing is decided on a guess.
      if (!(err instanceof HubError) || err.statusCode !== 400) throw err;
      // A rotating installation whose token lapsed (its refresh token renews it) is still genuine.
      if (err.code === 'slack_token_expired') return false;
    }
  }
  await withAccount(hub.db, holder.accountId, async (tx) => {
    await tx.query(`UPDATE channels SET enabled = false, external_key = external_key || ':released:' || id WHERE id = $1`, [holder.id]);
    await audit(tx, { accountId: holder.accountId, actorKind: 'system', actorId: null, action: 'slack.team_released', targetKind: 'channel', targetId: holder.id, data: { teamId, reason: 'no bot token of this team' } });
  });
  hub.installations.forget();
  return true;
}
