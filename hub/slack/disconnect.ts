import type { ChannelInstallation } from '../../connectors/core/types.js';
import type { SlackPayload } from '../../connectors/slack/payload.js';
import { slackConfig, type SlackInstallConfig } from '../../connectors/slack/config.js';
import { withAccount } from '../../storage/session.js';
import { getInstallation, updateChannel } from '../../storage/repositories/channels.js';
import { audit } from '../../storage/repositories/audit.js';
import type { Hub } from '../context.js';

/** Events that say our app is gone from a workspace; Slack sends them once the tokens no longer work. */
export function isFarewell(p: SlackPayload): boolean {
  return p.kind === 'event' && (p.envelope.event.type === 'app_uninstalled' || p.envelope.event.type === 'tokens_revoked');
}

/**
 * `app_uninstalled`, or `tokens_revoked` naming our bot: the installation is marked disconnected
 * (disabled, so nothing calls Slack with a dead token), its tokens are erased from the secrets (the
 * signing secret stays: it is the app's), and admins are told: an audit entry, a realtime event, and
 * its state in GET /api/v1/slack/workspaces. Threads and settings stay for a reinstall, which enables it again.
 * Returns false when the event asks for nothing (only user tokens revoked: we keep none).
 */
export async function disconnectInstallation(hub: Hub, install: ChannelInstallation, event: { type: string; [key: string]: unknown }): Promise<boolean> {
  let reason: NonNullable<SlackInstallConfig['disconnected']>['reason'];
  if (event.type === 'app_uninstalled') reason = 'app_uninstalled';
  else {
    const bots = (event.tokens as { bot?: unknown } | undefined)?.bot;
    const botUserId = slackConfig(install).botUserId;
    const ours = Array.isArray(bots) && bots.length > 0 && (!botUserId || bots.includes(botUserId));
    if (!ours) {
      hub.log.info({ installationId: install.id }, 'slack: tokens_revoked for user tokens only; the bot token stands');
      return false;
    }
    reason = 'tokens_revoked';
  }
  const at = new Date().toISOString();
  const done = await withAccount(hub.db, install.accountId, async (tx) => {
    const current = await getInstallation(tx, hub.box, install.id);
    if (!current) return false;
    // Every token goes (bot, app-level, refresh, user); what is not a token stays.
    const kept = Object.fromEntries(Object.entries(current.secrets).filter(([k]) => !/token$/i.test(k)));
    await updateChannel(tx, hub.box, install.id, { secrets: kept, enabled: false, config: { ...current.config, disconnected: { reason, at } } });
    await audit(tx, { accountId: install.accountId, actorKind: 'system', actorId: null, action: 'slack.disconnected', targetKind: 'channel', targetId: install.id, data: { reason, slackTeamId: install.externalKey } });
    return true;
  });
  if (!done) return false;
  hub.installations.forget();
  hub.bus.publish(install.accountId, { type: 'channel.disconnected', channelId: install.id, kind: 'slack', reason });
  hub.log.warn({ installationId: install.id, reason }, 'slack: installation disconnected; tokens erased, reinstall to reconnect');
  return true;
}
