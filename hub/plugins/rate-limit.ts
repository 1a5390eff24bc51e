import fp from 'fastify-plugin';
import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import { HubError } from '../errors.js';
import { StreamSlots } from '../services/stream-slots.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Open event streams per address and per principal (HUMMDESK_STREAMS_PER_ADDRESS, HUMMDESK_STREAMS_PER_PRINCIPAL). */
    streamSlots: StreamSlots;
  }
}

/** Addresses kept per limiter; an IPv6 client counts as its /64, so one host cannot spread over many keys. */
const ADDRESS_CACHE = 20_000;
const CALLER_CACHE = 5_000;

/** The address a limit counts a request against: IPv4 as is, IPv6 by its /64 (one customer's network). */
export const clientAddress = (req: FastifyRequest): string => normalizeIP(req.ip, 64);

/**
 * The global request limit (HUMMDESK_RATE_LIMIT per minute). A request whose credential verifies counts
 * against its user or API key; any other (none, junk, expired) against its address. The two kinds live in
 * separate stores, so no number of made-up credentials can evict the address counters, and a made-up
 * credential never earns a bucket of its own. Routes with their own `config.rateLimit` (web chat, login, platform webhooks)
 * or `false` (health, metrics, the embed scripts) keep it; the plugin also provides those route limits, and the
 * cap on open event streams.
 */
export default fp(
  async (app) => {
    const { config } = app.hub;
    const max = config.rateLimitPerMinute;
    app.decorate('streamSlots', new StreamSlots({ perAddress: config.streamsPerAddress, perPrincipal: config.streamsPerPrincipal }));
    // Platforms post every tenant's traffic from a few addresses: each webhook URL gets its own budget per
    // address, so one platform's burst neither hits the address limit nor starves another platform. Added
    // before the limiter registers, so its own onRoute hook sees the route's limit.
    app.addHook('onRoute', (route) => {
      if (!route.url.startsWith('/webhooks/') || (route.config as { rateLimit?: unknown } | undefined)?.rateLimit !== undefined) return;
      const platform = route.url.split('/')[2] || 'webhooks';
      const limit = { max: config.webhookRateLimitPerMinute, timeWindow: 60_000, keyGenerator: (req: FastifyRequest) => `webhook:${platform}:${clientAddress(req)}` };
      route.config = { ...(route.config ?? {}), rateLimit: limit } as typeof route.config;
    });
    await app.register(rateLimit, {
      global: false,
      max,
      timeWindow: 60_000,
      keyGenerator: clientAddress,
      errorResponseBuilder: (_req, ctx) => ({
        statusCode: 429,
        error: { code: 'rate_limited', message: `too many requests; retry in ${Math.ceil(ctx.ttl / 1000)} s` },
      }),
    });
    // Each limiter has its own LRU store; `cache` (its size) is honoured though the types omit it.
    const byCaller = app.createRateLimit({ max, timeWindow: 60_000, cache: CALLER_CACHE, keyGenerator: (req) => app.callerOf(req).then((c) => c ?? '') } as Parameters<typeof app.createRateLimit>[0]);
    const byAddress = app.createRateLimit({ max, timeWindow: 60_000, cache: ADDRESS_CACHE, keyGenerator: clientAddress } as Parameters<typeof app.createRateLimit>[0]);

    // A root hook runs before any route's own onRequest hooks, so a request is counted before authorize refuses it.
    app.addHook('onRequest', async (req, reply) => {
      if (req.routeOptions.config?.rateLimit !== undefined) return;
      const caller = await app.callerOf(req);
      const limited = await (caller ? byCaller : byAddress)(req);
      if (limited.isAllowed) return;
      reply.header('x-ratelimit-limit', limited.max).header('x-ratelimit-remaining', limited.remaining).header('x-ratelimit-reset', limited.ttlInSeconds);
      if (!limited.isExceeded) return;
      reply.header('retry-after', limited.ttlInSeconds);
      throw new HubError(429, 'rate_limited', `too many requests; retry in ${limited.ttlInSeconds} s`);
    });
  },
  { name: 'rate-limit', dependencies: ['hub', 'auth'] },
);
