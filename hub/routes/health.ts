import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { timingSafeEqual } from 'node:crypto';
import { Type, type Static } from 'typebox';
import { unauthorized } from '../errors.js';

class ProbeTimeout extends Error {}

/** Constant-time: the scrape token is compared as a password is. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/i.exec(header ?? '')?.[1] ?? '');
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

/** Liveness, readiness and Prometheus metrics; outside /api, public except a metrics scrape with HUMMDESK_METRICS_TOKEN set. */
const health: FastifyPluginAsyncTypebox = async (app) => {
  const { db, runner, metrics } = app.hub;
  const { metricsToken } = app.hub.config;

  app.get('/health', {
    config: { rateLimit: false },
    schema: { tags: ['ops'], security: [], response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
  }, async () => ({ status: 'ok' as const }));

  // A probe reports a code, never the error's text: /ready is public and a driver's message names hosts and users.
  const Probe = Type.Union([Type.Literal('ok'), Type.Literal('unreachable'), Type.Literal('timeout')], { description: 'ok, or why the dependency did not answer' });
  const Readiness = Type.Object({ status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]), database: Probe, queue: Probe });
  app.get('/ready', {
    config: { rateLimit: false },
    schema: { tags: ['ops'], security: [], response: { 200: Readiness, 503: Readiness } },
  }, async (req, reply) => {
    const check = async (name: string, fn: () => Promise<unknown>): Promise<Static<typeof Probe>> => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([fn(), new Promise((_, reject) => (timer = setTimeout(() => reject(new ProbeTimeout()), 2000)))]);
        return 'ok';
      } catch (err) {
        req.log.warn({ err, dependency: name }, 'readiness probe failed');
        return err instanceof ProbeTimeout ? 'timeout' : 'unreachable';
      } finally {
        // A pending timer per probe would hold the process open for 2 s after shutdown.
        clearTimeout(timer);
      }
    };
    const [database, queue] = await Promise.all([check('database', () => db.query('SELECT 1')), check('queue', () => runner.ping())]);
    const ok = database === 'ok' && queue === 'ok';
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not_ready', database, queue });
  });

  app.get('/metrics', { config: { rateLimit: false }, schema: { hide: true } }, async (req, reply) => {
    if (metricsToken !== undefined && !bearerMatches(req.headers.authorization, metricsToken)) throw unauthorized('GET /metrics needs the metrics token (HUMMDESK_METRICS_TOKEN)');
    const depth = await runner.depth().catch(() => undefined);
    if (depth) {
      metrics.queueDepth.set({ state: 'waiting' }, depth.waiting);
      metrics.queueDepth.set({ state: 'active' }, depth.active);
      metrics.queueDepth.set({ state: 'dead' }, depth.dead);
    }
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
};

export default health;
