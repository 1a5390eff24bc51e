import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';

/**
 * Test support: an OpenAI-compatible embeddings server (`POST /v1/embeddings`) on 127.0.0.1. Vectors are
 * hashed bags of words, so texts sharing words are near each other and search results are meaningful.
 * Scripted failures are answered first; `hold()` parks requests until released (progress mid-way).
 */
export interface EmbeddingsEmulator {
  url: string;
  requests: { headers: IncomingMessage['headers']; body: { model: string; input: string[] } }[];
  /** Answers the next requests with these statuses (and headers) before serving embeddings again. */
  fail(...replies: { status: number; headers?: Record<string, string> }[]): void;
  /** Parks every request from now on until the returned function is called. */
  hold(): () => void;
  /** Requests parked by hold() right now. */
  readonly parked: number;
  close(): Promise<void>;
}

export function emulatedVector(text: string, dimension: number): number[] {
  const v = new Array<number>(dimension).fill(0);
  for (const w of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    let h = 2166136261;
    for (const ch of w) h = Math.imul(h ^ ch.codePointAt(0)!, 16777619) >>> 0;
    v[h % dimension]! += 1;
    v[(h >>> 8) % dimension]! += 0.5;
  }
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
}

export async function startEmbeddingsEmulator(o: { dimension?: number } = {}): Promise<EmbeddingsEmulator> {
  const dimension = o.dimension ?? 64;
  const requests: EmbeddingsEmulator['requests'] = [];
  const failures: { status: number; headers?: Record<string, string> }[] = [];
  let held: Promise<void> | undefined;
  const parked = new Set<ServerResponse>();
  const answer = (res: ServerResponse, body: { model: string; input: string[] }) => {
    const failure = failures.shift();
    if (failure) return void res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers }).end('{"error":{"message":"scripted failure"}}');
    const data = body.input.map((t, index) => ({ object: 'embedding', index, embedding: emulatedVector(t, dimension) }));
    // Answer out of order: clients must place vectors by index, not by position.
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: data.reverse(), model: body.model, usage: { prompt_tokens: 1, total_tokens: 1 } }));
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url !== '/v1/embeddings' || req.method !== 'POST') return void res.writeHead(404).end('{"error":"not found"}');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model: string; input: string[] };
      requests.push({ headers: req.headers, body });
      if (!held) return answer(res, body);
      parked.add(res);
      void held.then(() => parked.delete(res) && answer(res, body));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    requests,
    fail: (...replies) => void failures.push(...replies),
    get parked() {
      return parked.size;
    },
    hold() {
      let release!: () => void;
      const mine = (held = new Promise<void>((r) => (release = r)));
      return () => {
        // A newer hold() stays in force.
        if (held === mine) held = undefined;
        release();
      };
    },
    async close() {
      for (const r of parked) r.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
