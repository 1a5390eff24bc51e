import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { clientAddress } from '../plugins/rate-limit.js';
import { sharedFrame } from '../realtime/sse.js';

const HEARTBEAT_MS = 25_000;

export interface EventsOptions {
  /** Tests shorten it; proxies close idle streams after about 30 s. */
  heartbeatMs?: number;
}

/** Server-sent events: every committed change of the caller's account, across hub processes. */
const events: FastifyPluginAsyncTypebox<EventsOptions> = async (app, opts) => {
  const heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS;
  const streams = new Set<() => void>();
  // Streams never end by themselves; end them before the server waits for open connections.
  app.addHook('preClose', async () => {
    for (const end of streams) end();
  });

  app.get('/events', {
    onRequest: app.authorize('viewer', { allowQueryToken: true, allowEmbed: true }),
    schema: {
      tags: ['realtime'],
      summary: 'Server-sent event stream of conversation and message changes',
      description: 'EventSource cannot send headers: `access_token` takes an access or embed token (never an API key: `api_key_in_url`). At most HUMMDESK_STREAMS_PER_PRINCIPAL streams per user or key and HUMMDESK_STREAMS_PER_ADDRESS per address are open at once (`too_many_streams`).',
      querystring: Type.Object({ access_token: Type.Optional(Type.String({ maxLength: 2000 })) }),
    },
  }, async (req, reply) => {
    const principal = req.principal;
    const release = app.streamSlots.acquire(clientAddress(req), principal.userId ? `user:${principal.userId}` : `api_key:${principal.apiKeyId}`);
    // Whatever ends the connection (the client going away mid-stream included) gives the slot back.
    reply.raw.on('close', release);
    reply.hijack();
    const res = reply.raw;
    // Headers set before the hijack (CORS for another origin's tool) would otherwise be dropped.
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) res.setHeader(name, value);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: 2000\n: connected\n\n`);
    const unsubscribe = app.hub.bus.subscribe(req.principal.accountId, (e) => {
      res.write(sharedFrame(e, 'account', e.event.type, () => ({ ...e.event, at: e.at })));
    });
    const heartbeat = setInterval(() => {
      res.write(`: ping\n\n`);
      // A stream outlives its token's check: a removed user or a revoked API key loses it at the next beat.
      app.principals.current(principal).then((now) => {
        if (!now || now.accountId !== principal.accountId) end();
      }, (err: unknown) => req.log.warn({ err }, 'event stream: could not re-check the principal; the stream stays open'));
    }, heartbeatMs);
    const end = () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(end);
      release();
      res.end();
    };
    streams.add(end);
    req.raw.on('close', end);
  });
};

export default events;
