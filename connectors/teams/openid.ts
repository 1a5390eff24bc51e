import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';

/** One Bot Framework signing key and the channels (`msteams`, `webchat`, …) it may sign for. */
export interface SigningKey {
  kid: string;
  key: KeyObject;
  endorsements: string[];
}

export class KeysUnavailableError extends Error {
  readonly code = 'teams_auth_keys_unavailable';
}

export interface KeySetOptions {
  /** The OpenID metadata document; its `jwks_uri` lists the keys. */
  metadataUrl: string;
  fetch?: typeof fetch;
  now?: () => number;
  /** Keys are re-read this often even when every kid is known (Bot Framework rotates them). */
  maxAgeMs?: number;
  /** An unknown kid re-reads the keys at most this often, so made-up kids cannot make us hammer the metadata. */
  unknownKidRefreshMs?: number;
  timeoutMs?: number;
}

/**
 * Bot Framework's signing keys, read from its OpenID metadata and cached: refreshed after `maxAgeMs`, and
 * on an unknown key id at most once per `unknownKidRefreshMs`. Concurrent callers share one fetch.
 */
export class BotFrameworkKeySet {
  private keys = new Map<string, SigningKey>();
  private loadedAt = -Infinity;
  private attemptedAt = -Infinity;
  private inflight?: Promise<void>;
  /** How many times the metadata was read (for tests and metrics). */
  fetches = 0;

  constructor(private readonly opts: KeySetOptions) {}

  private get now(): number {
    return (this.opts.now ?? Date.now)();
  }

  async find(kid: string): Promise<SigningKey | undefined> {
    const maxAge = this.opts.maxAgeMs ?? 24 * 3600_000;
    if (this.now - this.loadedAt > maxAge) await this.refresh(this.keys.size === 0);
    const known = this.keys.get(kid);
    if (known) return known;
    if (this.now - this.attemptedAt >= (this.opts.unknownKidRefreshMs ?? 5 * 60_000)) await this.refresh(false);
    return this.keys.get(kid);
  }

  /** Throws only when there are no keys at all to fall back on. */
  private async refresh(required: boolean): Promise<void> {
    this.inflight ??= this.load().finally(() => (this.inflight = undefined));
    try {
      await this.inflight;
    } catch (err) {
      if (required || this.keys.size === 0) throw err;
    }
  }

  private async load(): Promise<void> {
    this.attemptedAt = this.now;
    this.fetches++;
    const doFetch = this.opts.fetch ?? fetch;
    const get = async (url: string): Promise<Record<string, unknown>> => {
      let res: Response;
      try {
        res = await doFetch(url, { signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000), headers: { accept: 'application/json' } });
      } catch (err) {
        throw new KeysUnavailableError(`could not fetch ${url}: ${(err as Error).message}`);
      }
      if (!res.ok) throw new KeysUnavailableError(`${url} answered ${res.status}`);
      return (await res.json().catch(() => {
        throw new KeysUnavailableError(`${url} did not answer JSON`);
      })) as Record<string, unknown>;
    };
    const metadata = await get(this.opts.metadataUrl);
    if (typeof metadata.jwks_uri !== 'string') throw new KeysUnavailableError(`${this.opts.metadataUrl} has no jwks_uri`);
    const jwks = await get(metadata.jwks_uri);
    const next = new Map<string, SigningKey>();
    for (const jwk of Array.isArray(jwks.keys) ? (jwks.keys as Record<string, unknown>[]) : []) {
      if (jwk.kty !== 'RSA' || typeof jwk.kid !== 'string') continue;
      try {
        const key = createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e } as JsonWebKey, format: 'jwk' });
        const endorsements = Array.isArray(jwk.endorsements) ? jwk.endorsements.filter((e): e is string => typeof e === 'string') : [];
        next.set(jwk.kid, { kid: jwk.kid, key, endorsements });
      } catch {
        // A key we cannot read is a key nobody can use with us; the others still count.
      }
    }
    if (next.size === 0) throw new KeysUnavailableError(`${metadata.jwks_uri} lists no RSA keys`);
    this.keys = next;
    this.loadedAt = this.now;
  }
}
