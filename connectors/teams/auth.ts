import { verify as verifySignature } from 'node:crypto';
import { TeamsAuthError } from './errors.js';
import { KeysUnavailableError, type BotFrameworkKeySet } from './openid.js';
import { trustedServiceUrl } from './service-url.js';

/** Clock skew Bot Framework allows on `exp` and `nbf`. */
export const TOKEN_SKEW_MS = 5 * 60_000;

export interface TokenClaims {
  iss: string;
  aud: string | string[];
  exp: number;
  nbf?: number;
  serviceurl?: string;
  [claim: string]: unknown;
}

/** A token whose signature, time, issuer and audience check out; the activity checks come next. */
export interface VerifiedToken {
  claims: TokenClaims;
  endorsements: string[];
}

export interface TokenCheck {
  appId: string | undefined;
  /** One issuer or several (Bot Framework public cloud, a government cloud). */
  issuer: string | string[];
  keys: BotFrameworkKeySet;
  now?: () => number;
}

function part<T>(segment: string | undefined, what: string): T {
  try {
    const value = JSON.parse(Buffer.from(segment ?? '', 'base64url').toString('utf8')) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as T;
  } catch {
    // fall through
  }
  throw new TeamsAuthError('teams_auth_invalid', `the token's ${what} is not base64url JSON`);
}

/**
 * Checks `Authorization: Bearer <jwt>` the way Bot Framework signs requests to a bot: RS256 with a key from
 * its OpenID metadata, issuer, audience = our app id, `exp`/`nbf` within 5 minutes of skew. Throws TeamsAuthError.
 */
export async function verifyBotFrameworkToken(authorization: string | undefined, check: TokenCheck): Promise<VerifiedToken> {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) throw new TeamsAuthError('teams_auth_missing', 'Teams requests need an Authorization: Bearer token from Bot Framework');
  const token = m[1]!;
  // Nothing is looked up for a request this hub could never accept.
  if (!check.appId) throw new TeamsAuthError('teams_not_configured', 'this hub has no Teams app (HUMMDESK_TEAMS_APP_ID is not set)');
  const segments = token.split('.');
  if (segments.length !== 3 || segments.some((s) => !/^[A-Za-z0-9_-]+$/.test(s))) throw new TeamsAuthError('teams_auth_invalid', 'the token is not a JWT');
  const header = part<{ alg?: unknown; kid?: unknown }>(segments[0], 'header');
  const claims = part<TokenClaims>(segments[1], 'payload');
  if (header.alg !== 'RS256') throw new TeamsAuthError('teams_auth_invalid', `the token is signed with ${String(header.alg)}, not RS256`);
  if (typeof header.kid !== 'string' || !header.kid) throw new TeamsAuthError('teams_auth_invalid', 'the token names no key (kid)');

  let key;
  try {
    key = await check.keys.find(header.kid);
  } catch (err) {
    if (err instanceof KeysUnavailableError) throw new TeamsAuthError('teams_auth_keys_unavailable', err.message);
    throw err;
  }
  if (!key) throw new TeamsAuthError('teams_auth_unknown_key', `key ${header.kid} is not one of Bot Framework's signing keys`);
  const signed = Buffer.from(`${segments[0]}.${segments[1]}`);
  if (!verifySignature('RSA-SHA256', signed, key.key, Buffer.from(segments[2]!, 'base64url'))) {
    throw new TeamsAuthError('teams_auth_signature', 'the token signature does not verify');
  }

  const now = (check.now ?? Date.now)();
  if (typeof claims.exp !== 'number') throw new TeamsAuthError('teams_auth_invalid', 'the token has no exp');
  if (claims.exp * 1000 + TOKEN_SKEW_MS < now) throw new TeamsAuthError('teams_auth_expired', 'the token has expired');
  if (typeof claims.nbf === 'number' && claims.nbf * 1000 - TOKEN_SKEW_MS > now) throw new TeamsAuthError('teams_auth_not_yet_valid', 'the token is not valid yet');
  const issuers = Array.isArray(check.issuer) ? check.issuer : [check.issuer];
  if (!issuers.includes(claims.iss)) throw new TeamsAuthError('teams_auth_issuer', `the token's issuer ${JSON.stringify(claims.iss)} is not Bot Framework`);
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(check.appId)) throw new TeamsAuthError('teams_auth_audience', 'the token is meant for another app');
  return { claims, endorsements: key.endorsements };
}

/**
 * What the token says about the activity it carries: its key is endorsed for the activity's channel, its
 * `serviceurl` claim is the activity's serviceUrl, and that serviceUrl is one we may send our token to.
 */
export function checkActivityAgainstToken(verified: VerifiedToken, activity: { channelId?: unknown; serviceUrl?: unknown }, testOrigins: string[] = []): void {
  const channelId = typeof activity.channelId === 'string' ? activity.channelId : '';
  if (!channelId || !verified.endorsements.includes(channelId)) {
    throw new TeamsAuthError('teams_auth_unendorsed', `the signing key is not endorsed for channel ${JSON.stringify(channelId)}`);
  }
  const serviceUrl = typeof activity.serviceUrl === 'string' ? activity.serviceUrl : '';
  if (typeof verified.claims.serviceurl !== 'string' || verified.claims.serviceurl !== serviceUrl) {
    throw new TeamsAuthError('teams_auth_service_url', 'the token was issued for another serviceUrl');
  }
  if (!trustedServiceUrl(serviceUrl, testOrigins)) {
    throw new TeamsAuthError('teams_service_url_untrusted', `serviceUrl ${JSON.stringify(serviceUrl)} is not a Microsoft Bot Framework host`);
  }
}
