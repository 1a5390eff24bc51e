import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { notFound } from '../errors.js';
import { Nullable } from '../schemas.js';

const DeadJob = Type.Object({
  id: Type.String(),
  topic: Type.String(),
  payload: Type.Record(Type.String(), Type.Unknown()),
  attempts: Type.Integer(),
  error: Nullable(Type.String()),
  failedAt: Nullable(Type.Any()),
});

/** Jobs that used up their retries, for an admin to inspect and run again. */
const jobs: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/jobs/dead', {
    onRequest: app.authorize('admin'),
    schema: { tags: ['jobs'], querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }) }), response: { 200: Type.Object({ items: Type.Array(DeadJob) }) } },
  }, async (req) => ({ items: await app.hub.runner.listDead(req.principal.accountId, req.query.limit) }));

  app.post('/jobs/dead/:id/retry', {
    onRequest: app.authorize('admin'),
    schema: { tags: ['jobs'], params: Type.Object({ id: Type.String({ pattern: '^[0-9]+$', maxLength: 20 }) }), response: { 202: Type.Object({ retried: Type.Boolean() }) } },
  }, async (req, reply) => {
    if (!(await app.hub.runner.retryDead(req.principal.accountId, req.params.id))) throw notFound('dead_job');
    return reply.status(202).send({ retried: true });
  });
};

export default jobs;
