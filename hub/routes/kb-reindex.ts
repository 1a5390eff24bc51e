import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { withAccount } from '../../storage/session.js';
import { readKbIndex, reindexStatus } from '../../ai/kb/index-state.js';
import { requestReindex } from '../../ai/kb/reindex.js';
import { Nullable } from '../schemas.js';

const ReindexStatus = Type.Object({
  state: Type.Union([Type.Literal('idle'), Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]),
  model: Nullable(Type.String({ description: 'the model being built while running, else the one search uses' })),
  dimension: Nullable(Type.Integer()),
  done: Type.Integer({ description: 'passages with a vector of the model' }),
  total: Type.Integer({ description: 'passages of the account' }),
  startedAt: Nullable(Type.String()),
  finishedAt: Nullable(Type.String()),
  error: Nullable(Type.String()),
});

/** Knowledge-base reindex: re-embeds the account's passages with the configured model in the background. */
const kbReindex: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.hub;

  app.get('/kb/reindex', {
    onRequest: app.authorize('viewer'),
    schema: { tags: ['knowledge base'], summary: 'Progress of the knowledge-base reindex', response: { 200: ReindexStatus } },
  }, async (req) => reindexStatus(await withAccount(db, req.principal.accountId, (tx) => readKbIndex(tx))));

  app.post('/kb/reindex', {
    onRequest: app.authorize('admin'),
    schema: {
      tags: ['knowledge base'],
      summary: 'Re-embed every passage with the configured embedding model; search uses the old vectors until it is done',
      response: { 202: ReindexStatus },
    },
  }, async (req, reply) => {
    const accountId = req.principal.accountId;
    const status = await withAccount(db, accountId, (tx) => requestReindex(tx, accountId, app.hub.embedders.configured.modelId));
    app.hub.runner.kick();
    return reply.status(202).send(status);
  });
};

export default kbReindex;
