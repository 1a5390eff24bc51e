import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type TSchema } from 'typebox';
import { withAccount } from '../../storage/session.js';
import { readImport, requestImport } from '../../ai/kb/import.js';
import { notFound } from '../errors.js';
import { IdParams, Nullable, Uuid } from '../schemas.js';

const ImportStatus = Type.Object({
  id: Uuid,
  state: Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]),
  total: Type.Integer({ description: 'articles in the import' }),
  done: Type.Integer({ description: 'articles written so far' }),
  created: Type.Integer(),
  updated: Type.Integer(),
  chunks: Type.Integer({ description: 'passages written so far' }),
  // Why it failed, or why its last run did while it is retried.
  error: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
  createdAt: Type.String(),
  startedAt: Nullable(Type.String()),
  finishedAt: Nullable(Type.String()),
});

/** Knowledge-base import: stored at once, embedded and written by a `kb.import` job (ai/kb/import.ts). */
const kbImport = (ArticleBody: TSchema): FastifyPluginAsyncTypebox => async (app) => {
  const { db } = app.hub;

  app.post('/kb/import', {
    onRequest: app.authorize('admin'),
    schema: {
      tags: ['knowledge base'],
      summary: 'Import many articles in the background (those with an externalId already present are updated); GET /kb/imports/:id shows progress',
      body: Type.Object({ articles: Type.Array(ArticleBody, { minItems: 1, maxItems: 500 }) }),
      response: { 202: ImportStatus },
    },
  }, async (req, reply) => {
    const accountId = req.principal.accountId;
    const status = await withAccount(db, accountId, (tx) => requestImport(tx, accountId, req.body.articles as never, req.principal.userId ?? null));
    app.hub.runner.kick();
    return reply.status(202).header('location', `/api/v1/kb/imports/${status.id}`).send(status);
  });

  app.get('/kb/imports/:id', {
    onRequest: app.authorize('viewer'),
    schema: { tags: ['knowledge base'], summary: 'Progress of a knowledge-base import', params: IdParams, response: { 200: ImportStatus } },
  }, async (req) => {
    const status = await withAccount(db, req.principal.accountId, (tx) => readImport(tx, req.params.id));
    if (!status) throw notFound('import');
    return status;
  });
};

export default kbImport;
