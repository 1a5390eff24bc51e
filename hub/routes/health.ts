import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

/** Liveness, readiness and Prometheus metrics; unauthenticated and outside /api. */
const health: FastifyPluginAsyncTypebox = async (app) => {
  const { db, runner, metrics } = app.hub;

  app.get('/health', { config: { rateLimit: false }, schema: { tags: ['ops'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, async () => ({ status: 'ok' as const }));

  app.get('/ready', {
    config: { rateLimit: false },
    schema: { tags: ['ops'], response: { 200: Type.Object({ status: Type.String(), database: Type.String(), queue: Type.String() }), 503: Type.Object({ status: Type.String(), database: Type.String(), queue: Type.String() }) } },
  }, async (_req, reply) => {
    const check = async (fn: () => Promise<unknown>) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([fn(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), 2000)))]);
        return 'ok';
      } catch (err) {
        return `unreachable: ${err instanceof Error ? err.message : String(err)}`;
      } finally {
        // A pending timer per probe would hold the process open for 2 s after shutdown.
        clearTimeout(timer);
      }
    };
    const [database, queue] = await Promise.all([check(() => db.query('SELECT 1')), check(() => runner.ping())]);
    const ok = database === 'ok' && queue === 'ok';
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not_ready', database, queue });
  });

  app.get('/metrics', { config: { rateLimit: false }, schema: { hide: true } }, async (_req, reply) => {
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
