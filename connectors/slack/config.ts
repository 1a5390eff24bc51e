import type { ChannelInstallation } from '../core/types.js';

/** How one Slack workspace installation is set up; stored in the channel row's `config`. */
export interface SlackInstallConfig {
  /** Our bot's user id in this workspace; its own posts come back as echoes. */
  botUserId?: string;
  botId?: string;
  appId?: string;
  teamName?: string;
  /** Slack channel ids whose messages are customer conversations. */
  customerChannels?: string[];
  /** Slack Connect (externally shared) channels count as customer channels unless set to false. */
  sharedChannelsAreCustomers?: boolean;
  /** HummDesk team id → Slack channel where that team's conversations get their thread. */
  triageChannels?: Record<string, string>;
  /** HummDesk channel (inbox) id → Slack triage channel, for conversations whose team has none here. */
  inboxTriageChannels?: Record<string, string>;
  /** Where conversations of no mapped team or inbox go. */
  defaultTriageChannel?: string;
  /**
   * What a plain reply in a conversation's triage thread is: `notes` (default: internal, never
   * reaches the customer; the Reply button does) or `replies` (sent to the customer; the Note button makes a note).
   */
  threadReplies?: 'notes' | 'replies';
  /**
   * What a message of our own staff in a Slack Connect customer channel becomes: `outbound` (default:
   * our side of the conversation, sent by that person) or `notes` (an internal note). Never a customer's.
   */
  staffMessages?: 'outbound' | 'notes';
  /** Set when Slack told us the app was uninstalled or its tokens revoked (the row is disabled, tokens erased). */
  disconnected?: { reason: 'app_uninstalled' | 'tokens_revoked'; at: string };
  /** Receive events over Socket Mode (needs `appToken` in the secrets) instead of the Request URL. */
  socketMode?: boolean;
  /** With token rotation on (installed through OAuth): when the bot token expires (ISO time); renewed ahead of it. */
  botTokenExpiresAt?: string;
}

/** The secrets of an installation, encrypted at rest in the channel row. */
export interface SlackInstallSecrets {
  botToken?: string;
  /** With token rotation on: the single-use refresh token that renews `botToken` (oauth.v2.access, grant_type=refresh_token). */
  refreshToken?: string;
  /**
   * Only a fallback: the app's signing secret is operator configuration (SLACK_SIGNING_SECRET), which
   * alone verifies requests when set. Used on a hub without it (installations typed in with their own).
   */
  signingSecret?: string;
  /** App-level token (xapp-…) with connections:write, for Socket Mode. */
  appToken?: string;
}

export function slackConfig(channel: Pick<ChannelInstallation, 'config'>): SlackInstallConfig {
  return (channel.config ?? {}) as SlackInstallConfig;
}

export function triageChannelsOf(config: SlackInstallConfig): Set<string> {
  const all = new Set([...Object.values(config.triageChannels ?? {}), ...Object.values(config.inboxTriageChannels ?? {})]);
  if (config.defaultTriageChannel) all.add(config.defaultTriageChannel);
  return all;
}
