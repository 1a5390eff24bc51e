import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { ConnectorError } from './errors.js';

/**
 * The one egress guard: every connection the server opens to an address a tenant gave (a mailbox's
 * IMAP and SMTP servers today; webhooks and media URLs tomorrow) is checked here first. The guard
 * resolves the name once, refuses loopback, private, link-local, metadata and other non-public
 * ranges and ports outside the protocol's own, unless the operator allowed that host and port
 * (HUMMDESK_ALLOW_PRIVATE_HOSTS), and returns the address it checked: the caller connects to that
 * address, with the original name only as the TLS server name, so a second DNS answer can never
 * point the connection elsewhere.
 */

export type EgressProtocol = 'imap' | 'smtp' | 'https';

/** Ports a tenant may use per protocol; anything else needs an operator's allow-list entry. */
export const EGRESS_PORTS: Readonly<Record<EgressProtocol, readonly number[]>> = {
  imap: [143, 993],
  smtp: [25, 465, 587, 2525],
  https: [443],
};

export type EgressErrorCode = 'egress_host_invalid' | 'egress_port_forbidden' | 'egress_forbidden' | 'egress_unresolvable' | 'egress_allow_list_invalid';

/** A refused or unreachable target; the message is ours (host, port, reason), never a remote server's. */
export class EgressError extends ConnectorError {
  constructor(
    override readonly code: EgressErrorCode,
    message: string,
  ) {
    super(message, 'egress', code);
    this.name = 'EgressError';
  }
}

export interface EgressTarget {
  protocol: EgressProtocol;
  host: string;
  port: number;
}

/** A target that passed the guard: connect to `address`, present `servername` for TLS (absent for an IP literal). */
export interface CheckedTarget {
  host: string;
  port: number;
  address: string;
  family: 4 | 6;
  servername?: string;
}

export type Lookup = (host: string) => Promise<{ address: string; family: number }[]>;

export interface EgressOptions {
  /** host:port patterns the operator allows beyond the public internet and the protocol ports (parseAllowList). */
  allow?: readonly string[];
  /** Whether a tenant's `rejectUnauthorized: false` is honoured (HUMMDESK_ALLOW_INSECURE_TLS); never by default. */
  allowInsecureTls?: boolean;
  /** Name resolution; the system resolver by default. */
  lookup?: Lookup;
  /** A name that takes longer to resolve counts as unresolvable (a request must not hang on a slow resolver). */
  lookupTimeoutMs?: number;
}

interface Pattern {
  text: string;
  host: { kind: 'any' } | { kind: 'name'; name: string } | { kind: 'suffix'; suffix: string } | { kind: 'cidr'; range: [ipaddr.IPv4 | ipaddr.IPv6, number] };
  port: number | '*';
}

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/u;

/** A host name (LDH labels) or an IP literal (IPv6 with or without brackets), lower-cased; undefined if neither. */
export function normalizeHost(host: string): string | undefined {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (isIP(h)) return h;
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (!h || h.length > 253) return undefined;
  return h.split('.').every((l) => LABEL.test(l)) ? h : undefined;
}

const validPort = (port: number) => Number.isInteger(port) && port >= 1 && port <= 65_535;

/**
 * HUMMDESK_ALLOW_PRIVATE_HOSTS: comma-separated `host:port` patterns. host is a name, `*.domain`, an
 * IPv4 address or CIDR, an IPv6 address or CIDR in brackets, or `*`; port a number or `*`.
 */
export function parseAllowList(value: string | undefined): string[] {
  const entries = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const e of entries) parsePattern(e);
  return entries;
}

function parsePattern(text: string): Pattern {
  const bad = () => new EgressError('egress_allow_list_invalid', `"${text}" is not a host:port pattern (such as 127.0.0.1:*, [::1]:143, 10.0.0.0/8:993 or mail.internal:*)`);
  const m = /^(\[[^\]]+\]|[^:[\]]+):(\*|\d{1,5})$/u.exec(text.trim());
  if (!m) throw bad();
  const port = m[2] === '*' ? '*' : Number(m[2]);
  if (port !== '*' && !validPort(port)) throw bad();
  const h = m[1]!.toLowerCase().replace(/^\[(.*)\]$/u, '$1');
  if (h === '*') return { text, host: { kind: 'any' }, port };
  if (h.includes('/')) {
    if (!ipaddr.isValidCIDR(h)) throw bad();
    return { text, host: { kind: 'cidr', range: ipaddr.parseCIDR(h) }, port };
  }
  if (isIP(h)) {
    const ip = ipaddr.process(h);
    return { text, host: { kind: 'cidr', range: [ip, ip.kind() === 'ipv4' ? 32 : 128] }, port };
  }
  if (h.startsWith('*.')) {
    const suffix = normalizeHost(h.slice(2));
    if (!suffix) throw bad();
    return { text, host: { kind: 'suffix', suffix }, port };
  }
  const name = normalizeHost(h);
  if (!name) throw bad();
  return { text, host: { kind: 'name', name }, port };
}

/** Whether an address is on the public internet: ipaddr.js's `unicast`, after unwrapping IPv4-mapped IPv6. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const ip = ipaddr.process(address);
  // ::a.b.c.d (IPv4-compatible, deprecated) is not in ipaddr's special ranges but is never a public host.
  if (ip.kind() === 'ipv6' && ip.match(ipaddr.parseCIDR('::/96'))) return false;
  return ip.range() === 'unicast';
}

export class EgressGuard {
  readonly allowInsecureTls: boolean;
  private readonly patterns: Pattern[];
  private readonly lookup: Lookup;
  private readonly lookupTimeoutMs: number;

  constructor(opts: EgressOptions = {}) {
    this.lookupTimeoutMs = opts.lookupTimeoutMs ?? 5000;
    this.patterns = (opts.allow ?? []).map(parsePattern);
    this.allowInsecureTls = opts.allowInsecureTls === true;
    this.lookup = opts.lookup ?? ((host) => dnsLookup(host, { all: true, verbatim: true }));
  }

  /** TLS verification for a connection: on unless the tenant asked it off and the operator allows that. */
  verifyTls(requested: boolean): boolean {
    return requested || !this.allowInsecureTls;
  }

  /** The checks that need no name resolution: host syntax and port range. Returns the normalized host. */
  validate(target: EgressTarget): string {
    const host = typeof target.host === 'string' ? normalizeHost(target.host) : undefined;
    if (!host) throw new EgressError('egress_host_invalid', `"${String(target.host ?? '')}" is not a host name or IP address`);
    if (!validPort(target.port)) throw new EgressError('egress_port_forbidden', `port ${String(target.port)} is not a TCP port`);
    return host;
  }

  /** Resolves the host once and checks every address it resolves to; returns the address to connect to. */
  async check(target: EgressTarget): Promise<CheckedTarget> {
    const host = this.validate(target);
    const { port, protocol } = target;
    let answers: { address: string; family: number }[];
    if (isIP(host)) answers = [{ address: host, family: isIP(host) }];
    else {
      let timer: NodeJS.Timeout | undefined;
      try {
        answers = await Promise.race([this.lookup(host), new Promise<never>((_, reject) => (timer = setTimeout(reject, this.lookupTimeoutMs)))]);
      } catch {
        answers = [];
      } finally {
        clearTimeout(timer);
      }
      if (answers.length === 0) throw new EgressError('egress_unresolvable', `${host} could not be resolved`);
    }
    // Every answer must pass: a name that also points inside is refused, whichever answer comes first.
    for (const a of answers) {
      if (this.allowed(host, a.address, port)) continue;
      if (!isPublicAddress(a.address)) throw new EgressError('egress_forbidden', `${host} is not a public address, and the operator has not allowed it`);
      if (!EGRESS_PORTS[protocol].includes(port))
        throw new EgressError('egress_port_forbidden', `${protocol.toUpperCase()} port ${port} is not allowed (use ${EGRESS_PORTS[protocol].join(', ')})`);
    }
    const address = ipaddr.process(answers[0]!.address).toString();
    return { host, port, address, family: address.includes(':') ? 6 : 4, ...(isIP(host) ? {} : { servername: host }) };
  }

  /** Whether an operator's pattern covers this name or address on this port. */
  private allowed(host: string, address: string, port: number): boolean {
    const ip = ipaddr.isValid(address) ? ipaddr.process(address) : undefined;
    return this.patterns.some((p) => {
      if (p.port !== '*' && p.port !== port) return false;
      switch (p.host.kind) {
        case 'any':
          return true;
        case 'name':
          return p.host.name === host;
        case 'suffix':
          return host.endsWith(`.${p.host.suffix}`);
        case 'cidr': {
          const [net, bits] = p.host.range;
          return !!ip && ip.kind() === net.kind() && ip.match(net, bits);
        }
      }
    });
  }
}
