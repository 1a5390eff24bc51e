import type { Activity } from './activity.js';
import { checkActivityAgainstToken, verifyBotFrameworkToken, type VerifiedToken } from './auth.js';
import type { TeamsAppConfig } from './config.js';
import { TeamsAuthError } from './errors.js';
import { BotFrameworkKeySet } from './openid.js';
import { parseActivity, type TeamsEvent } from './parse.js';

/** What one hub needs to authenticate Teams requests: its app config and Bot Framework's cached keys. */
export interface TeamsInbound {
  config: TeamsAppConfig;
  keys: BotFrameworkKeySet;
  now?: () => number;
}

export function createTeamsInbound(config: TeamsAppConfig, opts: { fetch?: typeof fetch; now?: () => number } = {}): TeamsInbound {
  return { config, keys: new BotFrameworkKeySet({ metadataUrl: config.openIdMetadataUrl, fetch: opts.fetch, now: opts.now }), now: opts.now };
}

export interface AuthenticatedActivity {
  activity: Activity;
  token: VerifiedToken;
  /** What the activity means; `ignored` (with a reason) for anything HummDesk does not act on. */
  event: TeamsEvent;
}

/**
 * Authenticates a request to the bot's messaging endpoint and parses it. The token is checked before the
 * body is read; the body must then be an activity its token vouches for (endorsed channel, same
 * serviceUrl, a Microsoft serviceUrl). Throws TeamsAuthError (see errors.ts for codes and statuses).
 */
export async function authenticateActivity(authorization: string | undefined, rawBody: Buffer, inbound: TeamsInbound): Promise<AuthenticatedActivity> {
  const issuers = inbound.config.issuer.split(',').map((s) => s.trim()).filter(Boolean);
  const token = await verifyBotFrameworkToken(authorization, { appId: inbound.config.appId, issuer: issuers, keys: inbound.keys, now: inbound.now });
  let activity: unknown;
  try {
    activity = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new TeamsAuthError('teams_activity_invalid', 'the body is not JSON');
  }
  if (!activity || typeof activity !== 'object' || Array.isArray(activity)) throw new TeamsAuthError('teams_activity_invalid', 'the body is not an activity object');
  checkActivityAgainstToken(token, activity as Activity, inbound.config.testServiceOrigins);
  return { activity: activity as Activity, token, event: parseActivity(activity) };
}
