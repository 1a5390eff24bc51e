import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { VerificationError } from '../core/errors.js';

/** Slack refuses replays older than five minutes; so do we. */
export const SIGNATURE_WINDOW_SECONDS = 5 * 60;

/** A signing secret's HMAC key, made once per secret rather than once per request. */
const keys = new Map<string, KeyObject>();
function keyOf(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    // Bounded: a hub has one app secret, or one per installation.
    if (keys.size >= 1000) keys.clear();
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    keys.set(secret, key);
  }
  return key;
}

/**
 * Pure request verification: no network, no store, an injectable clock. Slack's v0 signature is `v0=` +
 * hex HMAC-SHA256 of `v0:{timestamp}:{rawBody}`, over the body's bytes as received (no string copy, so
 * two bodies that decode to the same text, e.g. different invalid UTF-8 bytes, never share a signature),
 * compared in constant time. Throws VerificationError with a stable code.
 */
export function verifySlackSignature(input: {
  signingSecret: string | undefined;
  headers: Record<string, string | undefined>;
  rawBody: Buffer;
  now: Date;
}): void {
  if (!input.signingSecret) throw new VerificationError('slack', 'no Slack signing secret: set SLACK_SIGNING_SECRET (the app\'s, from Basic Information)', 'slack_signing_secret_missing');
  const signature = input.headers['x-slack-signature'];
  const timestamp = input.headers['x-slack-request-timestamp'];
  if (!signature || !timestamp) throw new VerificationError('slack', 'missing X-Slack-Signature or X-Slack-Request-Timestamp', 'webhook_signature_missing');
  if (!/^\d{1,12}$/.test(timestamp)) throw new VerificationError('slack', 'X-Slack-Request-Timestamp is not a number', 'webhook_timestamp_invalid');
  // Both directions: a future-dated request is refused as well as a replayed one.
  const age = Math.abs(Math.floor(input.now.getTime() / 1000) - Number(timestamp));
  if (age > SIGNATURE_WINDOW_SECONDS) throw new VerificationError('slack', `request timestamp is ${age} s away from now`, 'webhook_timestamp_stale');
  if (!signature.startsWith('v0=')) throw new VerificationError('slack', 'unknown signature version (Slack signs with v0)', 'webhook_signature_invalid');
  const given = Buffer.from(signature.slice(3), 'hex');
  const expected = createHmac('sha256', keyOf(input.signingSecret)).update(`v0:${timestamp}:`).update(input.rawBody).digest();
  // The length is no secret (always 32 bytes); a hex that is short or not hex decodes shorter.
  if (given.length !== expected.length || signature.length !== 3 + 2 * expected.length || !timingSafeEqual(given, expected))
    throw new VerificationError('slack', 'X-Slack-Signature does not match the body', 'webhook_signature_invalid');
}
