import { HubError } from '../errors.js';

/**
 * Open event streams per client address and per principal (user, API key, visitor) in this process:
 * a stream holds a connection and a bus subscription for as long as the client keeps it, so without a
 * cap one address could hold any number. A slot is taken before the stream opens and given back when
 * its connection closes, however it closes.
 */
export class StreamSlots {
  private readonly open = new Map<string, number>();

  constructor(private readonly limits: { perAddress: number; perPrincipal: number }) {}

  /** Takes a slot for both keys or throws 429 `too_many_streams`; the returned release may be called any number of times. */
  acquire(address: string, principal: string): () => void {
    const byAddress = `address:${address}`;
    const byPrincipal = `principal:${principal}`;
    if (this.count(byAddress) >= this.limits.perAddress)
      throw new HubError(429, 'too_many_streams', `at most ${this.limits.perAddress} event streams may be open from one address; close one first`);
    if (this.count(byPrincipal) >= this.limits.perPrincipal)
      throw new HubError(429, 'too_many_streams', `at most ${this.limits.perPrincipal} event streams may be open for one user, API key or visitor; close one first`);
    this.add(byAddress, 1);
    this.add(byPrincipal, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.add(byAddress, -1);
      this.add(byPrincipal, -1);
    };
  }

  /** Streams open now for an address or a principal (tests and metrics). */
  openFor(kind: 'address' | 'principal', key: string): number {
    return this.count(`${kind}:${key}`);
  }

  private count(key: string): number {
    return this.open.get(key) ?? 0;
  }

  private add(key: string, n: number): void {
    const next = this.count(key) + n;
    if (next > 0) this.open.set(key, next);
    else this.open.delete(key);
  }
}
