// Bolt's own module for this one function: the package entry loads Express and its receivers (~0.3 s at start).
import { verifySlackRequest } from '@slack/bolt/dist/receivers/verify-request.js';
import { VerificationError } from '../core/errors.js';

/** Slack refuses replays older than five minutes; so do we. */
export const SIGNATURE_WINDOW_SECONDS = 5 * 60;

/**
 * Pure request verification: no network, no store, an injectable clock. The HMAC (`v0=` + hex
 * HMAC-SHA256 of `v0:{timestamp}:{rawBody}`) and its constant-time compare are Bolt's
 * `verifySlackRequest`, given our clock as `nowMilliseconds`. Throws VerificationError with a stable
 * code: the checks Bolt only reports as prose (missing headers, a malformed timestamp, the window)
 * are made here first, so no code ever depends on the wording of Bolt's messages.
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
  // Both directions: Bolt only refuses timestamps in the past, a future-dated one would pass it.
  const age = Math.abs(Math.floor(input.now.getTime() / 1000) - Number(timestamp));
  if (age > SIGNATURE_WINDOW_SECONDS) throw new VerificationError('slack', `request timestamp is ${age} s away from now`, 'webhook_timestamp_stale');
  try {
    verifySlackRequest({
      signingSecret: input.signingSecret,
      // Slack signs UTF-8 JSON or form bodies; Bolt takes the body as a string.
      body: input.rawBody.toString('utf8'),
      headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': Number(timestamp) },
      nowMilliseconds: input.now.getTime(),
    });
  } catch (err) {
    throw boltError(err);
  }
}

/** Bolt throws plain Errors; map what it can still report after our checks onto our codes. */
function boltError(err: unknown): VerificationError {
  const message = err instanceof Error ? err.message : String(err);
  if (/stale/i.test(message)) return new VerificationError('slack', message, 'webhook_timestamp_stale');
  if (/signingSecret/i.test(message)) return new VerificationError('slack', message, 'slack_signing_secret_missing');
  if (/expected type/i.test(message)) return new VerificationError('slack', message, 'webhook_timestamp_invalid');
  // "signature mismatch", "unknown signature version", or anything else: the signature does not hold.
  return new VerificationError('slack', message || 'X-Slack-Signature does not match the body', 'webhook_signature_invalid');
}
