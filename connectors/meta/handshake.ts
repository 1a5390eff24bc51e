import { timingSafeEqual, createHash } from 'node:crypto';

const CHALLENGE = /^[A-Za-z0-9_-]{1,128}$/;

export interface HandshakeAnswer {
  status: number;
  body: string;
  contentType: string;
}

/**
 * The GET Meta sends when a webhook URL is saved: `hub.mode=subscribe`, the verify token the operator
 * typed into the app dashboard, and a challenge to echo back as plain text. A wrong token is 403;
 * a GET that is not a subscription is not a handshake (undefined).
 */
export function metaHandshake(query: Record<string, string | undefined>, verifyTokens: readonly string[]): HandshakeAnswer | undefined {
  const mode = query['hub.mode'];
  if (mode === undefined) return undefined;
  const token = query['hub.verify_token'] ?? '';
  const challenge = query['hub.challenge'] ?? '';
  if (mode !== 'subscribe' || !verifyTokens.some((t) => sameSecret(t, token)))
    return { status: 403, body: 'verify token mismatch', contentType: 'text/plain; charset=utf-8' };
  // Meta's challenge is a number; echoing anything else back would make this URL a reflector.
  if (!CHALLENGE.test(challenge)) return { status: 400, body: 'hub.challenge must be 1 to 128 letters, digits, "_" or "-"', contentType: 'text/plain; charset=utf-8' };
  return { status: 200, body: challenge, contentType: 'text/plain; charset=utf-8' };
}

/** Constant-time string equality whatever the lengths (both hashed first). */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
