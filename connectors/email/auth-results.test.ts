import { describe, expect, it } from 'vitest';
import { parseAuthenticationResults, senderAuthentication } from './auth-results.js';
import { mailboxConfig } from './config.js';
import { parseEmail } from './parse.js';

describe('parseAuthenticationResults (RFC 8601)', () => {
  it('reads the authserv-id, version, methods, reasons and properties', () => {
    expect(parseAuthenticationResults('mx.example.com 1; dkim=pass (good signature) header.d=customer.example header.s=s1;\r\n spf=pass smtp.mailfrom=customer.example; dmarc=pass reason="aligned; ok" header.from=customer.example')).toEqual({
      authservId: 'mx.example.com',
      version: 1,
      results: [
        { method: 'dkim', result: 'pass', props: { 'header.d': 'customer.example', 'header.s': 's1' } },
        { method: 'spf', result: 'pass', props: { 'smtp.mailfrom': 'customer.example' } },
        { method: 'dmarc', result: 'pass', reason: 'aligned; ok', props: { 'header.from': 'customer.example' } },
      ],
    });
  });

  it('takes the RFC 8601 appendix forms: no result, comments anywhere, method versions, quoted ids', () => {
    expect(parseAuthenticationResults('example.org 1; none')).toEqual({ authservId: 'example.org', version: 1, results: [] });
    expect(parseAuthenticationResults('example.com;\n          spf=pass smtp.mailfrom=example.net')?.results).toEqual([{ method: 'spf', result: 'pass', props: { 'smtp.mailfrom': 'example.net' } }]);
    expect(parseAuthenticationResults('(a comment (nested)) example.com (another);\n dkim/1 = fail (bad sig) header.i=@mail-router.example.net')).toEqual({
      authservId: 'example.com',
      results: [{ method: 'dkim', result: 'fail', props: { 'header.i': '@mail-router.example.net' } }],
    });
    expect(parseAuthenticationResults('"mx example"; dmarc=fail header.from=a.example')?.authservId).toBe('mx example');
    expect(parseAuthenticationResults('mx.google.com;\r\n       dkim=pass header.i=@gmail.com header.s=20230601 header.b=abc;\r\n       spf=pass (google.com: domain of x@gmail.com designates 1.2.3.4 as permitted sender) smtp.mailfrom=x@gmail.com;\r\n       dmarc=pass (p=NONE sp=QUARANTINE dis=NONE) header.from=gmail.com')?.results.map((r) => `${r.method}=${r.result}`)).toEqual([
      'dkim=pass', 'spf=pass', 'dmarc=pass',
    ]);
  });

  it('refuses what is not one', () => {
    expect(parseAuthenticationResults('')).toBeUndefined();
    expect(parseAuthenticationResults('; dkim=pass')).toBeUndefined();
    expect(parseAuthenticationResults('mx.example.com; dkim')).toBeUndefined();
    expect(parseAuthenticationResults('mx.example.com; dkim=pass header.d')).toBeUndefined();
    expect(parseAuthenticationResults('mx.example.com; dmarc=pass reason="unterminated')).toBeUndefined();
    expect(parseAuthenticationResults('mx.example.com extra words; dkim=pass')).toBeUndefined();
  });
});

describe('senderAuthentication', () => {
  const from = 'jane@customer.example';
  const ours = 'mx.support.example';

  it('believes only the header of the channel’s own receiving server, the topmost one', () => {
    // The sender wrote a passing header under our own id below the server's real one.
    expect(senderAuthentication([`${ours}; dmarc=fail header.from=customer.example`, `${ours}; dmarc=pass header.from=customer.example`], ours, from)).toBe('fail');
    // Someone else's server (or the sender) says pass: not ours, so no verdict at all.
    expect(senderAuthentication(['evil.example; dmarc=pass header.from=customer.example'], ours, from)).toBeUndefined();
    expect(senderAuthentication([], ours, from)).toBeUndefined();
    // No authserv-id configured for the channel: nothing is believed.
    expect(senderAuthentication([`${ours}; dmarc=pass`], undefined, from)).toBeUndefined();
    // authserv-ids compare without case; an unreadable header of ours gives no verdict (never the next one down).
    expect(senderAuthentication([`MX.Support.Example; dmarc=pass`], ours, from)).toBe('pass');
    expect(senderAuthentication([`${ours}; dkim`, `${ours}; dmarc=pass`], ours, from)).toBeUndefined();
  });

  it('DMARC decides; without it, a DKIM signature aligned with From', () => {
    expect(senderAuthentication([`${ours}; dkim=pass header.d=evil.example; dmarc=fail header.from=customer.example`], ours, from)).toBe('fail');
    expect(senderAuthentication([`${ours}; dkim=fail header.d=customer.example; dmarc=pass header.from=customer.example`], ours, from)).toBe('pass');
    expect(senderAuthentication([`${ours}; dkim=pass header.d=customer.example`], ours, from)).toBe('pass');
    expect(senderAuthentication([`${ours}; dkim=pass header.i=@mail.customer.example`], ours, from)).toBe('pass');
    // Signed, but by another domain: proves nothing about From.
    expect(senderAuthentication([`${ours}; dkim=pass header.d=evil.example`], ours, from)).toBe('none');
    expect(senderAuthentication([`${ours}; dkim=fail header.d=customer.example`], ours, from)).toBe('fail');
    expect(senderAuthentication([`${ours}; spf=pass smtp.mailfrom=customer.example; dmarc=none`], ours, from)).toBe('none');
    expect(senderAuthentication([`${ours}; none`], ours, from)).toBe('none');
  });
});

describe('the email connector', () => {
  const raw = (headers: string[]) => Buffer.from([...headers, 'From: Jane <jane@customer.example>', 'To: support@example.com', 'Subject: Re: Order 7', 'Message-ID: <a1@customer.example>', '', 'Any news?'].join('\r\n'));
  const senderOf = async (headers: string[], authservId?: string) => {
    const p = await parseEmail(raw(headers), { channelId: 'c1', mailbox: 'support@example.com', authservId });
    return p.event.type === 'message' ? p.event.message.sender : undefined;
  };

  it('reads the channel’s authserv-id and gives the sender its server’s verdict', async () => {
    const channel = { id: 'c1', accountId: 'a', kind: 'email' as const, externalKey: 'support@example.com', teamId: null, secrets: {}, config: { address: 'support@example.com', authservId: ' mx.support.example ' } };
    const authservId = mailboxConfig(channel).authservId;
    expect(authservId).toBe('mx.support.example');
    expect((await senderOf(['Authentication-Results: mx.support.example; dmarc=pass header.from=customer.example'], authservId))?.authentication).toBe('pass');
    expect((await senderOf(['Authentication-Results: mx.support.example;\r\n dmarc=fail header.from=customer.example'], authservId))?.authentication).toBe('fail');
    expect((await senderOf(['Authentication-Results: mx.evil.example; dmarc=pass'], authservId))?.authentication).toBeUndefined();
    expect((await senderOf(['Authentication-Results: mx.support.example; dmarc=pass'], undefined))?.authentication).toBeUndefined();
  });
});
