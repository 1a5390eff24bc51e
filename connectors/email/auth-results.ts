/**
 * Authentication-Results (RFC 8601): what a receiving server found when it checked DKIM, SPF and
 * DMARC. Any sender can write such a header, so only the one carrying the channel's own receiving
 * server's authserv-id is believed. Pure: no DNS, no network.
 */

export interface AuthResult {
  /** `dkim`, `spf`, `dmarc`, … (lower case, version dropped). */
  method: string;
  /** `pass`, `fail`, `none`, `neutral`, `temperror`, … (lower case). */
  result: string;
  reason?: string;
  /** `header.d`, `header.from`, `smtp.mailfrom`, … (ptype.property lower case) → value. */
  props: Record<string, string>;
}

export interface AuthenticationResults {
  authservId: string;
  version?: number;
  results: AuthResult[];
}

/** The receiving server's verdict on the sender: DMARC first, else DKIM aligned with the From domain. */
export type SenderAuthentication = 'pass' | 'fail' | 'none';

/** One header's value (after `Authentication-Results:`), or undefined when it is not one. */
export function parseAuthenticationResults(value: string): AuthenticationResults | undefined {
  const parts = splitTopLevel(stripComments(value.replace(/\r?\n[ \t]+/gu, ' ')));
  if (parts === undefined) return undefined;
  const head = tokens(parts[0]!);
  const authservId = head[0] === undefined ? undefined : unquote(head[0]);
  if (!authservId) return undefined;
  let version: number | undefined;
  if (head.length > 1) {
    if (head.length > 2 || !/^\d+$/u.test(head[1]!)) return undefined;
    version = Number(head[1]);
  }
  const results: AuthResult[] = [];
  for (const part of parts.slice(1)) {
    // `; none` says no method was run; an empty part is a stray `;` some servers write.
    if (/^\s*(?:none)?\s*$/iu.test(part)) continue;
    const r = resinfo(part);
    if (!r) return undefined;
    results.push(r);
  }
  return { authservId, ...(version !== undefined ? { version } : {}), results };
}

/**
 * The verdict of the channel's own receiving server, from a message's Authentication-Results header
 * values (topmost first, as they appear). Only the first header naming `authservId` counts: the
 * receiving server adds its own on top, and anything below it came with the message. Undefined when
 * that server left no header (or no authserv-id is configured).
 */
export function senderAuthentication(headerValues: string[], authservId: string | undefined, fromAddress: string | undefined): SenderAuthentication | undefined {
  if (!authservId) return undefined;
  const want = authservId.trim().toLowerCase();
  for (const v of headerValues) {
    if (authservIdOf(v)?.toLowerCase() !== want) continue;
    // Ours but unreadable: no verdict, rather than the next (forgeable) header down.
    const ar = parseAuthenticationResults(v);
    return ar && verdict(ar.results, fromAddress);
  }
  return undefined;
}

function authservIdOf(value: string): string | undefined {
  const first = tokens(stripComments(value.replace(/\r?\n[ \t]+/gu, ' ')).split(';')[0] ?? '')[0];
  return first === undefined ? undefined : unquote(first);
}

function verdict(results: AuthResult[], fromAddress: string | undefined): SenderAuthentication {
  const dmarc = results.find((r) => r.method === 'dmarc' && ['pass', 'fail'].includes(r.result));
  if (dmarc) return dmarc.result === 'pass' ? 'pass' : 'fail';
  const fromDomain = fromAddress?.slice(fromAddress.lastIndexOf('@') + 1).toLowerCase();
  const dkim = results.filter((r) => r.method === 'dkim');
  // A signature by some other domain says nothing about who wrote From (relaxed alignment, as DMARC).
  if (fromDomain && dkim.some((r) => r.result === 'pass' && aligned(signingDomain(r), fromDomain))) return 'pass';
  if (dkim.some((r) => r.result === 'fail' || r.result === 'permerror')) return 'fail';
  return 'none';
}

function signingDomain(r: AuthResult): string | undefined {
  const d = r.props['header.d'] ?? r.props['header.i']?.slice(r.props['header.i'].lastIndexOf('@') + 1);
  return d?.toLowerCase().replace(/\.$/u, '');
}

function aligned(d: string | undefined, from: string): boolean {
  return !!d && (d === from || from.endsWith(`.${d}`) || d.endsWith(`.${from}`));
}

/** `method[/version] = result [reason=…] [ptype.property=value …]`. */
function resinfo(part: string): AuthResult | undefined {
  const toks = tokens(part, true);
  const m = /^([a-z0-9][a-z0-9_-]*)(?:\/\d+)?$/iu.exec(toks[0] ?? '');
  if (!m || toks[1] !== '=' || toks[2] === undefined) return undefined;
  const result: AuthResult = { method: m[1]!.toLowerCase(), result: toks[2].toLowerCase(), props: {} };
  for (let i = 3; i < toks.length; i += 3) {
    const [key, eq, value] = [toks[i]!, toks[i + 1], toks[i + 2]];
    if (eq !== '=' || value === undefined) return undefined;
    if (key.toLowerCase() === 'reason') result.reason = unquote(value);
    else if (/^[a-z0-9_-]+\.[a-z0-9_.-]+$/iu.test(key)) result.props[key.toLowerCase()] = unquote(value);
    else return undefined;
  }
  return result;
}

/** Whitespace-separated tokens; quoted strings stay whole; with `splitEquals`, `=` is a token of its own. */
function tokens(s: string, splitEquals = false): string[] {
  const out: string[] = [];
  const re = splitEquals ? /"(?:[^"\\]|\\.)*"|=|[^\s="]+/gu : /"(?:[^"\\]|\\.)*"|[^\s"]+/gu;
  for (const m of s.matchAll(re)) out.push(m[0]);
  return out;
}

function unquote(v: string): string {
  return v.startsWith('"') && v.endsWith('"') && v.length >= 2 ? v.slice(1, -1).replace(/\\(.)/gu, '$1') : v;
}

/** Comments `( … )`, nested, outside quoted strings, become a space. */
function stripComments(s: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && (quoted || depth > 0)) {
      if (depth === 0) out += c + (s[i + 1] ?? '');
      i++;
      continue;
    }
    if (depth === 0 && c === '"') quoted = !quoted;
    if (!quoted && c === '(') {
      depth++;
      continue;
    }
    if (!quoted && c === ')' && depth > 0) {
      depth--;
      if (depth === 0) out += ' ';
      continue;
    }
    if (depth === 0) out += c;
  }
  return out;
}

/** Splits on `;` outside quoted strings; undefined for an unterminated quote. */
function splitTopLevel(s: string): string[] | undefined {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted && c === '\\') {
      cur += c + (s[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  if (quoted) return undefined;
  parts.push(cur);
  return parts;
}
