import { createHmac, timingSafeEqual } from 'node:crypto';
import { VerificationError } from '../core/errors.js';

/** Slack refuses replays older than five minutes; so do we. */
export const SIGNATURE_WINDOW_SECONDS = 5 * 60;

/** `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{rawBody}` with the app's signing secret. */
export function signSlackRequest(signingSecret: string, timestamp: number | string, rawBody: Buffer | string): string {
  const mac = createHmac('sha256', signingSecret);
  mac.update(`v0:${timestamp}:`);
  mac.update(rawBody);
  return `v0=${mac.digest('hex')}`;
}

/**
 * Pure request verification: no network, no store, an injectable clock and a constant-time compare.
 * Throws VerificationError with a stable code.
 */
export function verifySlackSignature(input: {
  signingSecret: string | undefined;
  headers: Record<string, string | undefined>;
  rawBody: Buffer;
  now: Date;
}): void {
  if (!input.signingSecret) throw new VerificationError('slack', 'the Slack installation has no signing secret', 'slack_signing_secret_missing');
  const signature = input.headers['x-slack-signature'];
  const timestamp = input.headers['x-slack-request-timestamp'];
  if (!signature || !timestamp) throw new VerificationError('slack', 'missing X-Slack-Signature or X-Slack-Request-Timestamp', 'webhook_signature_missing');
  if (!/^\d{1,12}$/.test(timestamp)) throw new VerificationError('slack', 'X-Slack-Request-Timestamp is not a number', 'webhook_timestamp_invalid');
  const age = Math.abs(Math.floor(input.now.getTime() / 1000) - Number(timestamp));
  if (age > SIGNATURE_WINDOW_SECONDS) throw new VerificationError('slack', `request timestamp is ${age} s away from now`, 'webhook_timestamp_stale');
  const expected = Buffer.from(signSlackRequest(input.signingSecret, timestamp, input.rawBody), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new VerificationError('slack', 'X-Slack-Signature does not match the body', 'webhook_signature_invalid');
}
