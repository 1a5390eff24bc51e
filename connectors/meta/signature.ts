import { createHmac, timingSafeEqual } from 'node:crypto';
import { VerificationError } from '../core/errors.js';

/** `sha256=` and 64 lower- or upper-case hex digits: anything else is refused before any HMAC is computed. */
const HEADER = /^sha256=([0-9a-f]{64})$/i;

/** What Meta puts in X-Hub-Signature-256 for `rawBody`: hex HMAC-SHA256 of the bytes with the app secret. */
export function metaSignature(appSecret: string, rawBody: Buffer | string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

/**
 * Pure webhook verification for every Meta product (WhatsApp, Messenger, Instagram): the signature is
 * over the bytes exactly as received (Meta signs its escaped form, `\uXXXX` and `\/`), so the body is
 * never decoded or re-serialised first. Each configured app secret is tried (one hub may serve
 * several Meta apps, or rotate a secret), each comparison constant-time. Missing or wrong: 401
 * `webhook_signature_invalid`, and nothing of the body has been read.
 */
export function verifyMetaSignature(input: { appSecrets: readonly string[]; headers: Record<string, string | undefined>; rawBody: Buffer; connector: string }): void {
  const { connector } = input;
  if (input.appSecrets.length === 0) throw new VerificationError(connector, 'no Meta app secret is configured on this hub (HUMMDESK_META_APP_SECRET), so no webhook can be verified');
  const header = input.headers['x-hub-signature-256'];
  if (!header) throw new VerificationError(connector, 'missing X-Hub-Signature-256');
  const m = HEADER.exec(header.trim());
  if (!m) throw new VerificationError(connector, 'X-Hub-Signature-256 is not "sha256=" and 64 hex digits');
  const given = Buffer.from(m[1]!.toLowerCase(), 'hex');
  let ok = false;
  // Every secret is tried, whichever matches, so the time taken says nothing about which one did.
  for (const secret of input.appSecrets) {
    const expected = createHmac('sha256', secret).update(input.rawBody).digest();
    if (timingSafeEqual(expected, given)) ok = true;
  }
  if (!ok) throw new VerificationError(connector, 'X-Hub-Signature-256 does not match the body');
}
