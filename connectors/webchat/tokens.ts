import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Web chat credentials. A visitor token is the hub's signature over (channel, visitor, profile):
 * `v1.<claims>.<mac>`, both parts base64url, MAC = HMAC-SHA256(sessionSecret). The profile rides
 * in the token so a session needs no database row until the visitor's first message. A token expires
 * (`exp`, unix seconds): the widget trades it for a fresh one (same visitor) before then, and the
 * visitor stream carries it in its URL, where it may be logged.
 * An identity hash is the customer's site vouching for its logged-in user: hex HMAC-SHA256(identitySecret, userId).
 */

export interface VisitorClaims {
  /** The visitor's id on this channel: `v:<random>` for anonymous visitors, `u:<userId>` for verified ones. */
  visitorId: string;
  name?: string;
  email?: string;
  /** True only when the site vouched for this email; only then may it join an existing contact. */
  verified: boolean;
}

const VERSION = 'v1';
/** Default lifetime of a visitor token (HUMMDESK_VISITOR_TOKEN_TTL). */
export const DEFAULT_VISITOR_TOKEN_TTL_SECONDS = 3600;
/** Longer than any token we issue (name and email are bounded by the session schema). */
export const MAX_VISITOR_TOKEN_LENGTH = 4096;

const mac = (sessionSecret: string, channelId: string, claims: string) =>
  createHmac('sha256', sessionSecret).update(`hummdesk-webchat-visitor:${VERSION}\n${channelId}\n${claims}`).digest();

/** Issues the token a visitor presents on every later request; deterministic for the same input and time. */
export function signVisitorToken(
  sessionSecret: string,
  channelId: string,
  claims: VisitorClaims,
  opts: { ttlSeconds?: number; now?: Date } = {},
): string {
  const exp = Math.floor((opts.now ?? new Date()).getTime() / 1000) + (opts.ttlSeconds ?? DEFAULT_VISITOR_TOKEN_TTL_SECONDS);
  const body = Buffer.from(
    JSON.stringify({ vid: claims.visitorId, n: claims.name, e: claims.email, ver: claims.verified || undefined, exp }),
  ).toString('base64url');
  return `${VERSION}.${body}.${mac(sessionSecret, channelId, body).toString('base64url')}`;
}

/** A token this channel signed: its claims, when it expires (unix seconds; none on tokens issued before expiry existed) and whether it has. */
export interface CheckedVisitorToken {
  claims: VisitorClaims;
  expiresAt?: number;
  expired: boolean;
}

/** Checks the signature and the expiry; undefined for anything this channel did not sign (forged, other channel, garbled). */
export function checkVisitorToken(sessionSecret: string | undefined, channelId: string, token: string | undefined, now: Date = new Date()): CheckedVisitorToken | undefined {
  if (!sessionSecret || !token || token.length > MAX_VISITOR_TOKEN_LENGTH) return undefined;
  const [version, body, signature, extra] = token.split('.');
  if (version !== VERSION || !body || !signature || extra !== undefined) return undefined;
  if (!safeEqual(Buffer.from(signature, 'base64url'), mac(sessionSecret, channelId, body))) return undefined;
  const claims = readClaims(body);
  if (!claims) return undefined;
  const expiresAt = readExpiry(body);
  // A token from before expiry existed counts as expired: it can only be traded for a fresh one.
  return { claims, expiresAt, expired: expiresAt === undefined || expiresAt * 1000 <= now.getTime() };
}

/** The claims of a valid, unexpired token this channel issued, or undefined for anything else. */
export function verifyVisitorToken(sessionSecret: string | undefined, channelId: string, token: string | undefined, now: Date = new Date()): VisitorClaims | undefined {
  const checked = checkVisitorToken(sessionSecret, channelId, token, now);
  return checked && !checked.expired ? checked.claims : undefined;
}

/** Claims of a token without checking it; only for code that runs after verifyVisitorToken (connector parse). */
export function readVisitorClaims(token: string): VisitorClaims | undefined {
  const body = token.split('.')[1];
  return body ? readClaims(body) : undefined;
}

function readExpiry(body: string): number | undefined {
  try {
    const exp = (JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isSafeInteger(exp) ? exp : undefined;
  } catch {
    return undefined;
  }
}

function readClaims(body: string): VisitorClaims | undefined {
  try {
    const raw = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { vid?: unknown; n?: unknown; e?: unknown; ver?: unknown };
    if (typeof raw.vid !== 'string' || !raw.vid) return undefined;
    return {
      visitorId: raw.vid,
      ...(typeof raw.n === 'string' ? { name: raw.n } : {}),
      ...(typeof raw.e === 'string' ? { email: raw.e } : {}),
      verified: raw.ver === true,
    };
  } catch {
    return undefined;
  }
}

/** What the customer's site computes on its server for a logged-in user. */
export function identityHash(identitySecret: string, userId: string): string {
  return createHmac('sha256', identitySecret).update(userId).digest('hex');
}

export function verifyIdentityHash(identitySecret: string | undefined, userId: string, hash: string): boolean {
  if (!identitySecret || !/^[0-9a-f]{64}$/i.test(hash)) return false;
  return safeEqual(Buffer.from(hash.toLowerCase(), 'hex'), Buffer.from(identityHash(identitySecret, userId), 'hex'));
}

/**
 * The hash covers the user id only, so a logged-in customer could still edit the email beside it:
 * the email counts as vouched for only when it is the user id itself.
 */
export function identityEmailVouched(userId: string, email: string | undefined): boolean {
  return !!email && email.trim().toLowerCase() === userId.trim().toLowerCase();
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * A download link for one attachment, good for one visitor until `expires` (unix seconds): a plain
 * `<a href>` cannot send the visitor token header, and the token itself must not sit in a URL.
 */
export function signAttachmentLink(sessionSecret: string, channelId: string, visitorId: string, attachmentId: string, expires: number): string {
  return createHmac('sha256', sessionSecret).update(`hummdesk-webchat-attachment:${VERSION}\n${channelId}\n${visitorId}\n${attachmentId}\n${expires}`).digest('base64url');
}

export function verifyAttachmentLink(
  sessionSecret: string | undefined,
  channelId: string,
  link: { visitorId: string; attachmentId: string; expires: number; signature: string },
  now: Date = new Date(),
): boolean {
  if (!sessionSecret || !Number.isSafeInteger(link.expires) || link.expires * 1000 < now.getTime()) return false;
  const expected = Buffer.from(signAttachmentLink(sessionSecret, channelId, link.visitorId, link.attachmentId, link.expires), 'base64url');
  return safeEqual(Buffer.from(link.signature, 'base64url'), expected);
}
