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
