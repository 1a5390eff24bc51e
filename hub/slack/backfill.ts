import type { ChannelInstallation } from '../../connectors/core/types.js';
import { RateLimitError } from '../../connectors/core/errors.js';
import { slackErrorCode, toConnectorError, type SlackClients } from '../../connectors/slack/client.js';
import { slackConfig, triageChannelsOf } from '../../connectors/slack/config.js';
import type { WebClient } from '@slack/web-api';
import type { SlackEventEnvelope } from '../../connectors/slack/payload.js';
import { withAccount } from '../../storage/session.js';
import type { Database } from '../../storage/database.js';
import { RetryLaterError, type JobHandler } from '../queue/jobs.js';

export interface SlackBackfillDeps {
  db: Database;
  clients: SlackClients;
  installation: (id: string) => Promise<ChannelInstallation | undefined>;
  /** The live path for one event (SlackApp.handleEvent): ingest, staff messages, edits; idempotent. */
  handleEvent: (install: ChannelInstallation, envelope: SlackEventEnvelope) => Promise<string[]>;
}

/** Objects per conversations.history call: what distributed non-Marketplace apps may read in one. */
const PAGE = 15;
/** Channels a backfill reads at most: each costs Slack calls, and only recent ones matter for one minute. */
const MAX_CHANNELS = 50;

/**
 * The `slack.backfill` job after `app_rate_limited`: Slack dropped our events of one minute, so each
 * customer channel's messages of that minute are read back with conversations.history and go through
 * the same path as live events (deduplicated by their ts, so nothing is stored twice). Customer
 * channels: see customerChannels. Thread replies are not in conversations.history and are not backfilled.
 */
export function slackBackfillHandler(deps: SlackBackfillDeps): JobHandler {
  return async (job) => {
    const install = await deps.installation(String(job.payload.installationId ?? ''));
    const minute = Number(job.payload.minute);
    // Disconnected since, or a bad payload: nothing to read with.
    if (!install?.secrets.botToken || !Number.isFinite(minute)) return;
    const client = deps.clients.for(install.secrets.botToken);
    try {
      const member = await memberChannels(client);
      for (const channel of await customerChannels(deps.db, install, member)) {
        let shared = member?.get(channel);
        if (member && shared === undefined) continue; // the bot is not in it (any more): nothing to read
        if (shared === undefined) {
          try {
            shared = (await client.conversations.info({ channel })).channel?.is_ext_shared === true;
          } catch (err) {
            // Left, archived or gone: nothing of that minute can be read.
            if (['not_in_channel', 'channel_not_found', 'is_archived'].includes(slackErrorCode(err) ?? '')) continue;
            throw err;
          }
        }
        let cursor: string | undefined;
        do {
          const page = await client.conversations.history({ channel, oldest: String(minute), latest: String(minute + 60), inclusive: true, limit: PAGE, ...(cursor ? { cursor } : {}) });
          // Oldest first, as they were written.
          for (const m of [...(page.messages ?? [])].reverse()) {
            await deps.handleEvent(install, {
              type: 'event_callback',
              team_id: install.externalKey,
              authorizations: [{ team_id: install.externalKey, is_bot: true }],
              is_ext_shared_channel: shared,
              event: { ...(m as Record<string, unknown>), type: 'message', channel },
            });
          }
          cursor = page.has_more ? page.response_metadata?.next_cursor || undefined : undefined;
        } while (cursor);
      }
    } catch (err) {
      const e = toConnectorError(err);
      if (e instanceof RateLimitError) throw new RetryLaterError(e.message, e.retryAfterMs);
      throw e;
    }
  };
}

/**
 * The channels the bot is in, with whether each is shared with another organisation (users.conversations,
 * a few pages at most); undefined when Slack will not say (an older install without the scopes).
 */
async function memberChannels(client: WebClient): Promise<Map<string, boolean> | undefined> {
  const found = new Map<string, boolean>();
  let cursor: string | undefined;
  try {
    for (let page = 0; page < 5; page++) {
      const res = await client.users.conversations({ types: 'public_channel,private_channel', exclude_archived: true, limit: 200, ...(cursor ? { cursor } : {}) });
      for (const c of res.channels ?? []) if (c.id) found.set(c.id, c.is_ext_shared === true);
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!cursor) return found;
    }
    return found;
  } catch (err) {
    if (toConnectorError(err) instanceof RateLimitError) throw err;
    return undefined;
  }
}

/**
 * Customer channels: those listed, the shared ones the bot is in (unless shared channels are not
 * customers here), and those conversations came from in the last 30 days; never a triage channel.
 */
async function customerChannels(db: Database, install: ChannelInstallation, member: Map<string, boolean> | undefined): Promise<string[]> {
  const config = slackConfig(install);
  const listed = config.customerChannels ?? [];
  const shared = config.sharedChannelsAreCustomers === false ? [] : [...(member ?? new Map<string, boolean>())].filter(([, ext]) => ext).map(([id]) => id);
  const seen = await withAccount(db, install.accountId, async (tx) =>
    (await tx.query<{ channel: string }>(
      `SELECT split_part(thread_key, ':', 3) AS channel FROM conversations WHERE channel_id = $1 AND last_message_at > now() - interval '30 days'
       GROUP BY 1 ORDER BY max(last_message_at) DESC LIMIT $2`,
      [install.id, MAX_CHANNELS],
    )).rows.map((r) => r.channel),
  );
  const triage = triageChannelsOf(config);
  return [...new Set([...listed, ...shared, ...seen])].filter((c) => /^[CG][A-Z0-9]+$/.test(c) && !triage.has(c)).slice(0, MAX_CHANNELS);
}
