import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Test support: a pass-through HTTP proxy in front of an emulator that can hold the calls of one
 * path prefix until released, so a test can look at the hub while a platform takes its time.
 */
export class Gate {
  readonly seen: string[] = [];
  private holds = new Map<string, { waiting: (() => void)[]; arrived: number; onArrive: (() => void)[] }>();
  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly target: string,
  ) {}

  static async start(target: string): Promise<Gate> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const gate = new Gate(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, target);
    server.on('request', (req, res) => void gate.forward(req, res));
    return gate;
  }

  /** Calls whose path starts with `prefix` wait until release(prefix). */
  hold(prefix: string): void {
    this.holds.set(prefix, { waiting: [], arrived: 0, onArrive: [] });
  }

  /** Resolves once `n` held calls of `prefix` have arrived. */
  arrived(prefix: string, n = 1): Promise<void> {
    const h = this.holds.get(prefix)!;
    if (h.arrived >= n) return Promise.resolve();
    return new Promise((resolve) => h.onArrive.push(() => h.arrived >= n && resolve()));
  }

  release(prefix: string): void {
    const h = this.holds.get(prefix);
    this.holds.delete(prefix);
    for (const go of h?.waiting ?? []) go();
  }

  /** Held calls whose callers are still waiting for an answer. */
  get waiting(): number {
    return this.open;
  }
  private open = 0;

  count(prefix: string): number {
    return this.seen.filter((p) => p.startsWith(prefix)).length;
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = req.url ?? '/';
    this.seen.push(path);
    const h = [...this.holds.entries()].find(([prefix]) => path.startsWith(prefix))?.[1];
    if (h) {
      h.arrived++;
      for (const f of h.onArrive) f();
      this.open++;
      // A caller that gives up (its timeout) is no longer waiting.
      const gaveUp = () => this.open--;
      res.once('close', gaveUp);
      await new Promise<void>((go) => h.waiting.push(go));
      res.off('close', gaveUp);
      this.open--;
    }
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'content-length', 'connection'].includes(k)) as [string, string][]);
    const upstream = await fetch(`${this.target}${path}`, { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined, redirect: 'manual' });
    const out: Record<string, string> = {};
    upstream.headers.forEach((v, k) => {
      if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(k)) out[k] = v;
    });
    res.writeHead(upstream.status, out);
    res.end(Buffer.from(await upstream.arrayBuffer()));
  }

  close(): Promise<void> {
    for (const prefix of [...this.holds.keys()]) this.release(prefix);
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

