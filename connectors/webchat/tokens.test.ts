import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkVisitorToken, identityEmailVouched, identityHash, readVisitorClaims, signVisitorToken, verifyIdentityHash, verifyVisitorToken } from './tokens.js';

const secret = 'session-secret';
const channelId = 'channel-1';

describe('visitor tokens', () => {
  const claims = { visitorId: 'v:123', name: 'Ann', email: 'ann@example.com', verified: false };

  it('round-trips the claims of a token it signed', () => {
    const token = signVisitorToken(secret, channelId, claims);
    expect(verifyVisitorToken(secret, channelId, token)).toEqual(claims);
    expect(readVisitorClaims(token)).toEqual(claims);
  });

  it('is deterministic for the same claims and time', () => {
    const now = new Date('2026-03-01T12:00:00Z');
    expect(signVisitorToken(secret, channelId, claims, { now })).toBe(signVisitorToken(secret, channelId, claims, { now }));
  });

  it('expires: refused once its lifetime is over, while its signature still tells whose it was', () => {
    const issued = new Date('2026-03-01T12:00:00Z');
    const token = signVisitorToken(secret, channelId, claims, { now: issued, ttlSeconds: 600 });
    expect(verifyVisitorToken(secret, channelId, token, new Date(issued.getTime() + 599_000))).toEqual(claims);
    expect(verifyVisitorToken(secret, channelId, token, new Date(issued.getTime() + 600_000))).toBeUndefined();
    expect(checkVisitorToken(secret, channelId, token, new Date(issued.getTime() + 600_000))).toEqual({ claims, expiresAt: issued.getTime() / 1000 + 600, expired: true });
    // A token from before expiry existed (no `exp`) counts as expired.
    const body = Buffer.from(JSON.stringify({ vid: 'v:old' })).toString('base64url');
    const legacy = `v1.${body}.${createHmac('sha256', secret).update(`hummdesk-webchat-visitor:v1\n${channelId}\n${body}`).digest('base64url')}`;
    expect(checkVisitorToken(secret, channelId, legacy)).toMatchObject({ claims: { visitorId: 'v:old' }, expired: true });
  });

  it('refuses another secret, another channel, edited claims and garbage', () => {
    const token = signVisitorToken(secret, channelId, claims);
    const [v, , mac] = token.split('.');
    const forged = `${v}.${Buffer.from(JSON.stringify({ vid: 'u:boss', ver: true })).toString('base64url')}.${mac}`;
    expect(verifyVisitorToken('other', channelId, token)).toBeUndefined();
    expect(verifyVisitorToken(secret, 'channel-2', token)).toBeUndefined();
    expect(verifyVisitorToken(secret, channelId, forged)).toBeUndefined();
    expect(verifyVisitorToken(secret, channelId, 'v1.x')).toBeUndefined();
    expect(verifyVisitorToken(secret, channelId, `${token}.extra`)).toBeUndefined();
    expect(verifyVisitorToken(undefined, channelId, token)).toBeUndefined();
    expect(verifyVisitorToken(secret, channelId, 'v1.' + 'A'.repeat(5000) + '.AA')).toBeUndefined();
  });
});

describe('identity verification', () => {
  it('accepts the hex HMAC-SHA256 of the user id that a site computes', () => {
    const hash = createHmac('sha256', 'id-secret').update('user-42').digest('hex');
    expect(identityHash('id-secret', 'user-42')).toBe(hash);
    expect(verifyIdentityHash('id-secret', 'user-42', hash)).toBe(true);
    expect(verifyIdentityHash('id-secret', 'user-42', hash.toUpperCase())).toBe(true);
  });

  it('refuses a hash for another user, another secret, or of the wrong shape', () => {
    const hash = identityHash('id-secret', 'user-42');
    expect(verifyIdentityHash('id-secret', 'user-43', hash)).toBe(false);
    expect(verifyIdentityHash('other', 'user-42', hash)).toBe(false);
    expect(verifyIdentityHash('id-secret', 'user-42', hash.slice(2))).toBe(false);
    expect(verifyIdentityHash(undefined, 'user-42', hash)).toBe(false);
  });

  it('vouches for an email only when the signed user id is that email', () => {
    expect(identityEmailVouched('Ann@Example.com', 'ann@example.com')).toBe(true);
    expect(identityEmailVouched('user-42', 'ann@example.com')).toBe(false);
    expect(identityEmailVouched('user-42', undefined)).toBe(false);
  });
});
