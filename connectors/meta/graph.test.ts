import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, ConnectorError, PermanentError, RateLimitError, TransientError } from '../core/errors.js';
import { GraphClient, graphError } from './graph.js';
import { GraphEmulator } from './testing/emulator.js';

describe('Graph API errors, by code and subcode (never by title)', () => {
  const cases: [number, { code?: number; error_subcode?: number; message?: string }, new (...a: never[]) => ConnectorError, string][] = [
    [400, { code: 130429, message: 'anything' }, RateLimitError, 'channel_rate_limited'],
    [400, { code: 131056 }, RateLimitError, 'channel_rate_limited'],
    [400, { code: 4 }, RateLimitError, 'channel_rate_limited'],
    [400, { code: 613 }, RateLimitError, 'channel_rate_limited'],
    [429, {}, RateLimitError, 'channel_rate_limited'],
    [401, { code: 190, error_subcode: 463, message: 'Rate limit hit' }, AuthError, 'channel_auth_failed'],
    [400, { code: 131047, message: 'Re-engagement message' }, PermanentError, 'whatsapp_window_closed'],
    [400, { code: 10, error_subcode: 2018278 }, PermanentError, 'messenger_window_closed'],
    [503, {}, TransientError, 'channel_unavailable'],
    [500, { code: 131000 }, TransientError, 'channel_unavailable'],
    [400, { code: 100, message: 'Invalid parameter' }, PermanentError, 'meta_error_100'],
  ];
  it.each(cases)('HTTP %i %o', (status, error, type, code) => {
    const err = graphError('whatsapp', status, error);
    expect(err).toBeInstanceOf(type);
    expect(err.code).toBe(code);
  });

  it('takes Retry-After when Meta gives one', () => {
    expect((graphError('whatsapp', 429, undefined, '7') as RateLimitError).retryAfterMs).toBe(7000);
  });
});

describe('GraphClient against the local Graph emulator', () => {
  let graph: GraphEmulator;
  beforeAll(async () => {
    graph = await GraphEmulator.start();
    graph.addNumber({ id: '1000001', token: 'good-token' });
  });
  afterAll(() => graph.close());

  it('sends the bearer token under the installation version and reads the number', async () => {
    const client = new GraphClient({ baseUrl: graph.url, connector: 'whatsapp' });
    await expect(client.call({ token: 'good-token', version: 'v25.0', method: 'GET', path: ['1000001'] })).resolves.toMatchObject({ id: '1000001' });
    expect(graph.requests.at(-1)).toMatchObject({ path: '/v25.0/1000001', authorization: 'Bearer good-token' });
  });

  it('maps a wrong token to AuthError, an unknown version to a clear refusal, a bad version before any request', async () => {
    const client = new GraphClient({ baseUrl: graph.url, connector: 'whatsapp' });
    await expect(client.call({ token: 'stolen', version: 'v25.0', method: 'GET', path: ['1000001'] })).rejects.toBeInstanceOf(AuthError);
    await expect(client.call({ token: 'good-token', version: 'v9.0', method: 'GET', path: ['1000001'] })).rejects.toMatchObject({ code: 'meta_error_2500' });
    const before = graph.requests.length;
    await expect(client.call({ token: 'good-token', version: '../v25.0', method: 'GET', path: ['1000001'] })).rejects.toMatchObject({ code: 'graph_version_invalid' });
    expect(graph.requests.length).toBe(before);
  });

  it('keeps a path segment inside its segment', async () => {
    const client = new GraphClient({ baseUrl: graph.url, connector: 'whatsapp' });
    await expect(client.call({ token: 'good-token', version: 'v25.0', method: 'GET', path: ['1000001/../me'] })).rejects.toBeInstanceOf(AuthError);
    expect(graph.requests.at(-1)!.path).toBe('/v25.0/1000001%2F..%2Fme');
  });

  it('an unreachable Graph is transient', async () => {
    const client = new GraphClient({ baseUrl: 'http://127.0.0.1:9', connector: 'whatsapp' });
    await expect(client.call({ token: 't', version: 'v25.0', method: 'GET', path: ['1'] })).rejects.toBeInstanceOf(TransientError);
  });
});

describe('GraphClient.download streams the body', () => {
  /** A media host answering `handler`; closed after the test. */
  const host = async (handler: (req: IncomingMessage, res: ServerResponse) => void) => {
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/media`, close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
  };
  const client = new GraphClient({ connector: 'whatsapp' });

  it('gives the first bytes before the host has sent the rest, with the bearer token', async () => {
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const seen: (string | undefined)[] = [];
    const h = await host((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.write(Buffer.from('first'));
      void finished.then(() => res.end(Buffer.from('-last')));
    });
    try {
      const body = (await client.download(h.url, 'tok', 1000))[Symbol.asyncIterator]();
      // Held whole, this would wait for the end the host only sends after this read.
      expect(Buffer.from((await body.next()).value as Uint8Array).toString()).toBe('first');
      finish();
      const rest: Buffer[] = [];
      for (let r = await body.next(); !r.done; r = await body.next()) rest.push(Buffer.from(r.value));
      expect(Buffer.concat(rest).toString()).toBe('-last');
      expect(seen).toEqual(['Bearer tok']);
    } finally {
      await h.close();
    }
  });

  it('an endless body without Content-Length is refused at the cap and the download is cancelled', async () => {
    let hostSaw!: () => void;
    const cancelled = new Promise<void>((resolve) => (hostSaw = resolve));
    const h = await host((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.on('close', hostSaw);
      const pump = () => {
        while (!res.destroyed && res.write(Buffer.alloc(16 * 1024, 1)));
      };
      res.on('drain', pump);
      pump();
    });
    try {
      const body = await client.download(h.url, 'tok', 256 * 1024);
      let read = 0;
      const reading = (async () => {
        for await (const piece of body) read += piece.byteLength;
      })();
      await expect(reading).rejects.toMatchObject({ code: 'attachment_too_large' });
      expect(read).toBeLessThanOrEqual(256 * 1024);
      await cancelled;
    } finally {
      await h.close();
    }
  });

  it('a Content-Length over the cap is refused before any byte is read', async () => {
    const h = await host((_req, res) => {
      res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) });
      res.write(Buffer.alloc(1024));
    });
    try {
      await expect(client.download(h.url, 'tok', 1024 * 1024)).rejects.toMatchObject({ code: 'attachment_too_large' });
    } finally {
      await h.close();
    }
  });

  it('a body cut off midway is transient', async () => {
    const h = await host((_req, res) => {
      res.writeHead(200, { 'content-length': '100000' });
      res.write(Buffer.alloc(1000), () => res.destroy());
    });
    try {
      const body = await client.download(h.url, 'tok', 1024 * 1024);
      const reading = (async () => {
        for await (const piece of body) void piece;
      })();
      await expect(reading).rejects.toBeInstanceOf(TransientError);
    } finally {
      await h.close();
    }
  });
});
