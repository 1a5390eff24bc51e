import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';

/** Test support: a scripted HTTP model endpoint on 127.0.0.1 (port 0) that records every request. */
export interface ScriptedReply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Never answer (the client's timeout must fire). */
  hang?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface ModelEmulator {
  url: string;
  requests: RecordedRequest[];
  script(...replies: ScriptedReply[]): void;
  close(): Promise<void>;
}

export async function startEmulator(path: string): Promise<ModelEmulator> {
  const requests: RecordedRequest[] = [];
  const queue: ScriptedReply[] = [];
  const hung: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: raw ? JSON.parse(raw) : {} });
      if (req.url !== path) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      const next = queue.shift() ?? { status: 500, body: { type: 'error', error: { type: 'api_error', message: 'no scripted reply left' } }, headers: { 'x-should-retry': 'false' } };
      if (next.hang) return void hung.push(res);
      res.writeHead(next.status ?? 200, { 'content-type': 'application/json', ...next.headers });
      res.end(JSON.stringify(next.body ?? {}));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script: (...replies) => void queue.push(...replies),
    async close() {
      for (const r of hung) r.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
