import { VerificationError } from '../core/errors.js';

/**
 * Why an inbound Teams request was refused. Every code answers 401 except `teams_auth_keys_unavailable`
 * (503: we could not fetch Bot Framework's keys, so Bot Framework should retry) and `teams_activity_invalid` (400).
 */
export const TEAMS_AUTH_CODES = [
  'teams_auth_missing', // no `Authorization: Bearer …`
  'teams_auth_invalid', // not a well-formed RS256 JWT with a key id
  'teams_auth_unknown_key', // key id not in Bot Framework's published keys (after a refresh)
  'teams_auth_signature', // signature does not verify with that key
  'teams_auth_expired', // `exp` more than 5 minutes ago
  'teams_auth_not_yet_valid', // `nbf` more than 5 minutes ahead
  'teams_auth_audience', // `aud` is not our app id
  'teams_auth_issuer', // `iss` is not the configured Bot Framework issuer
  'teams_auth_unendorsed', // the key is not endorsed for the activity's channelId
  'teams_auth_service_url', // the `serviceurl` claim differs from activity.serviceUrl
  'teams_service_url_untrusted', // serviceUrl is not https on a Microsoft host (or a configured test origin)
  'teams_not_configured', // this hub has no Teams app id: nothing can be verified
  'teams_auth_keys_unavailable', // Bot Framework's OpenID metadata or keys could not be fetched
  'teams_activity_invalid', // authenticated, but the body is not an activity
] as const;
export type TeamsAuthCode = (typeof TEAMS_AUTH_CODES)[number];

export class TeamsAuthError extends VerificationError {
  constructor(
    override readonly code: TeamsAuthCode,
    message: string,
  ) {
    super('teams', message, code);
    this.name = 'TeamsAuthError';
  }

  get statusCode(): number {
    return this.code === 'teams_auth_keys_unavailable' ? 503 : this.code === 'teams_activity_invalid' ? 400 : 401;
  }
}
