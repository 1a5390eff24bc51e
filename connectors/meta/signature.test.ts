import { describe, expect, it } from 'vitest';
import { VerificationError } from '../core/errors.js';
import { metaSignature, verifyMetaSignature } from './signature.js';
import { metaHandshake } from './handshake.js';
import { metaJson, signedWebhook } from './testing/emulator.js';

const SECRET = 'app-secret-1';
const body = { object: 'whatsapp_business_account', entry: [{ changes: [{ value: { text: { body: 'Hyvää päivää 😀 https://example.com/a' } } }] }] };

function verify(rawBody: Buffer, headers: Record<string, string | undefined>, appSecrets = [SECRET]) {
  return () => verifyMetaSignature({ appSecrets, headers, rawBody, connector: 'whatsapp' });
}

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(VerificationError);
    return (err as VerificationError).code;
  }
}

describe('Meta webhook signatures', () => {
  it('writes JSON as Meta does: non-ASCII as \\uXXXX (surrogate pairs too) and / as \\/', () => {
    const wire = metaJson(body);
    expect(wire).toContain('Hyv\\u00e4\\u00e4 p\\u00e4iv\\u00e4\\u00e4 \\ud83d\\ude00 https:\\/\\/example.com\\/a');
    expect(JSON.parse(wire)).toEqual(body);
  });

  it('accepts the escaped bytes exactly as received', () => {
    const { payload, headers } = signedWebhook(SECRET, body);
    expect(codeOf(verify(payload, headers))).toBeUndefined();
  });

  it('refuses the same JSON re-serialised (unescaped), though it means the same', () => {
    const { headers } = signedWebhook(SECRET, body);
    expect(codeOf(verify(Buffer.from(JSON.stringify(body)), headers))).toBe('webhook_signature_invalid');
  });

  it('refuses a missing, malformed or wrong signature, and any signature when no secret is configured', () => {
    const { payload, headers } = signedWebhook(SECRET, body);
    expect(codeOf(verify(payload, {}))).toBe('webhook_signature_invalid');
    expect(codeOf(verify(payload, { 'x-hub-signature-256': 'sha1=abc' }))).toBe('webhook_signature_invalid');
    expect(codeOf(verify(payload, { 'x-hub-signature-256': metaSignature('another secret', payload) }))).toBe('webhook_signature_invalid');
    expect(codeOf(verify(payload, headers, []))).toBe('webhook_signature_invalid');
  });

  it('accepts upper-case hex and any of several app secrets (rotation, several apps)', () => {
    const { payload, headers } = signedWebhook(SECRET, body);
    const upper = `sha256=${headers['x-hub-signature-256']!.slice(7).toUpperCase()}`;
    expect(codeOf(verify(payload, { 'x-hub-signature-256': upper }, ['old', SECRET]))).toBeUndefined();
  });
});

describe('Meta webhook handshake', () => {
  const q = (token: string, challenge = '1158201444', mode = 'subscribe') => ({ 'hub.mode': mode, 'hub.verify_token': token, 'hub.challenge': challenge });

  it('echoes the challenge as plain text for the right token', () => {
    expect(metaHandshake(q('vt'), ['other', 'vt'])).toEqual({ status: 200, body: '1158201444', contentType: 'text/plain; charset=utf-8' });
  });

  it('answers 403 for a wrong token, another mode, or no token configured', () => {
    expect(metaHandshake(q('nope'), ['vt'])?.status).toBe(403);
    expect(metaHandshake(q('vt', '1', 'unsubscribe'), ['vt'])?.status).toBe(403);
    expect(metaHandshake(q(''), [])?.status).toBe(403);
  });

  it('refuses to reflect a challenge that is not a plain token, and is no handshake without hub.mode', () => {
    expect(metaHandshake(q('vt', '<script>'), ['vt'])?.status).toBe(400);
    expect(metaHandshake({}, ['vt'])).toBeUndefined();
  });
});
