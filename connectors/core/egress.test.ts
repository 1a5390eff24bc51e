import { describe, expect, it } from 'vitest';
import { EgressError, EgressGuard, isPublicAddress, parseAllowList, type Lookup } from './egress.js';

/** A resolver answering from a table, standing in for DNS answers an attacker controls. */
const dns = (table: Record<string, string[]>): Lookup => async (host) => {
  const answers = table[host];
  if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof EgressError ? e.code : `unexpected: ${String(e)}`));

describe('isPublicAddress', () => {
  it.each([
    '127.0.0.1', '127.8.9.1', '0.0.0.0', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '100.127.255.255',
    '224.0.0.1', '255.255.255.255', '192.0.2.1', '198.18.0.1', '240.0.0.1',
    '::1', '::', 'fe80::1', 'fc00::1', 'fd00:ec2::254', 'ff02::1', '::ffff:127.0.0.1', '::ffff:169.254.169.254', '::ffff:10.0.0.1', '::127.0.0.1',
    '64:ff9b::a9fe:a9fe', '2002:a9fe:a9fe::1', '2001:db8::1', 'not-an-ip',
  ])('%s is not public', (a) => expect(isPublicAddress(a)).toBe(false));
  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('%s is public', (a) => expect(isPublicAddress(a)).toBe(true));
});

describe('EgressGuard', () => {
  it('refuses loopback, private, link-local and metadata targets, by literal or by name', async () => {
    const guard = new EgressGuard({ lookup: dns({ 'metadata.attacker.example': ['169.254.169.254'], 'mixed.attacker.example': ['93.184.215.14', '10.0.0.5'], 'v6.attacker.example': ['::ffff:127.0.0.1'] }) });
    for (const host of ['127.0.0.1', '0.0.0.0', '169.254.169.254', '[::1]', '::ffff:10.0.0.1', 'fd00::1', '100.100.100.200', 'metadata.attacker.example', 'mixed.attacker.example', 'v6.attacker.example'])
      expect([host, await codeOf(guard.check({ protocol: 'imap', host, port: 993 }))]).toEqual([host, 'egress_forbidden']);
  });

  it('resolves once and hands back the checked address, with the name as TLS server name', async () => {
    let lookups = 0;
    const guard = new EgressGuard({ lookup: async (host) => (lookups++, dns({ 'imap.example.com': ['93.184.215.14'] })(host)) });
    expect(await guard.check({ protocol: 'imap', host: 'IMAP.Example.com.', port: 993 })).toEqual({ host: 'imap.example.com', port: 993, address: '93.184.215.14', family: 4, servername: 'imap.example.com' });
    expect(lookups).toBe(1);
    expect(await guard.check({ protocol: 'smtp', host: '93.184.215.14', port: 587 })).toEqual({ host: '93.184.215.14', port: 587, address: '93.184.215.14', family: 4 });
    expect(await guard.check({ protocol: 'smtp', host: '::ffff:93.184.215.14', port: 25 })).toMatchObject({ address: '93.184.215.14', family: 4 });
  });

  it('limits ports to the protocol: IMAP 143/993, SMTP 25/465/587/2525', async () => {
    const guard = new EgressGuard();
    for (const port of [143, 993]) expect(await codeOf(guard.check({ protocol: 'imap', host: '93.184.215.14', port }))).toBe('ok');
    for (const port of [25, 465, 587, 2525]) expect(await codeOf(guard.check({ protocol: 'smtp', host: '93.184.215.14', port }))).toBe('ok');
    for (const port of [22, 80, 6379, 587, 0, 70000]) expect(await codeOf(guard.check({ protocol: 'imap', host: '93.184.215.14', port }))).toBe('egress_port_forbidden');
    expect(await codeOf(guard.check({ protocol: 'smtp', host: '93.184.215.14', port: 993 }))).toBe('egress_port_forbidden');
  });

  it('refuses what is not a host, and names that do not resolve', async () => {
    const guard = new EgressGuard({ lookup: dns({}) });
    for (const host of ['', ' ', 'http://x', 'a b', 'user@host', 'host:25', '-bad.example', '../etc']) expect(await codeOf(guard.check({ protocol: 'smtp', host, port: 25 }))).toBe('egress_host_invalid');
    expect(await codeOf(guard.check({ protocol: 'smtp', host: undefined as unknown as string, port: 25 }))).toBe('egress_host_invalid');
    expect(await codeOf(guard.check({ protocol: 'smtp', host: 'nowhere.example', port: 25 }))).toBe('egress_unresolvable');
    // A resolver that never answers does not hold the request.
    const hanging = new EgressGuard({ lookup: () => new Promise(() => undefined), lookupTimeoutMs: 20 });
    expect(await codeOf(hanging.check({ protocol: 'smtp', host: 'slow.example', port: 25 }))).toBe('egress_unresolvable');
  });

  it("the operator's host:port patterns allow private hosts and other ports, and nothing beside them", async () => {
    const guard = new EgressGuard({
      allow: parseAllowList('127.0.0.1:*, [::1]:1143, 10.0.0.0/8:993, bridge.internal:1025, *.corp.example:*'),
      lookup: dns({ localhost: ['127.0.0.1'], 'bridge.internal': ['192.168.5.5'], 'mx.corp.example': ['10.9.9.9', 'fd00::9'], 'other.internal': ['192.168.5.6'] }),
    });
    const ok = async (protocol: 'imap' | 'smtp', host: string, port: number) => codeOf(guard.check({ protocol, host, port }));
    expect(await ok('imap', '127.0.0.1', 31143)).toBe('ok');
    expect(await ok('imap', 'localhost', 31143)).toBe('ok');
    expect(await ok('imap', '::1', 1143)).toBe('ok');
    expect(await ok('imap', '::1', 143)).toBe('egress_forbidden');
    expect(await ok('imap', '10.1.2.3', 993)).toBe('ok');
    expect(await ok('imap', '10.1.2.3', 143)).toBe('egress_forbidden');
    expect(await ok('smtp', 'bridge.internal', 1025)).toBe('ok');
    expect(await ok('smtp', 'bridge.internal', 25)).toBe('egress_forbidden');
    expect(await ok('smtp', 'other.internal', 1025)).toBe('egress_forbidden');
    expect(await ok('smtp', 'mx.corp.example', 2526)).toBe('ok');
    expect(await ok('smtp', '127.0.0.2', 25)).toBe('egress_forbidden');
    expect(await ok('smtp', '93.184.215.14', 6379)).toBe('egress_port_forbidden');
  });

  it('parses only well-formed patterns', () => {
    expect(parseAllowList(' 127.0.0.1:* ,,[::1]:25 ')).toEqual(['127.0.0.1:*', '[::1]:25']);
    expect(parseAllowList(undefined)).toEqual([]);
    for (const bad of ['127.0.0.1', '::1:25', '10.0.0.0/33:*', 'host:port', 'host:70000', '*.:*', 'a b:25'])
      expect(() => parseAllowList(bad), bad).toThrow(expect.objectContaining({ code: 'egress_allow_list_invalid' }));
  });

  it('certificate checks stay on unless the operator allows turning them off', () => {
    expect(new EgressGuard().verifyTls(false)).toBe(true);
    expect(new EgressGuard({ allowInsecureTls: true }).verifyTls(false)).toBe(false);
    expect(new EgressGuard({ allowInsecureTls: true }).verifyTls(true)).toBe(true);
  });
});
