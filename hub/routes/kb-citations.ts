import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { withAccount } from '../../storage/session.js';
import { mostCitedArticles } from '../../ai/kb/citations.js';
import { Uuid } from '../schemas.js';

const CitedArticle = Type.Object({
  articleId: Uuid,
  title: Type.String(),
  language: Type.String(),
  status: Type.Union([Type.Literal('published'), Type.Literal('draft')]),
  drafts: Type.Integer({ description: 'drafts in the period that cited the article' }),
  sent: Type.Integer({ description: 'of those, drafts an agent sent (accepted or edited)' }),
});

/** Which knowledge-base articles the AI's drafts cite most: what the knowledge base is actually used for. */
const kbCitations: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/kb/cited', {
    onRequest: app.authorize('viewer'),
    schema: {
      tags: ['knowledge base'],
      summary: 'The articles drafts cited most in the last `days` days (from the citations stored with each draft)',
      querystring: Type.Object({
        days: Type.Integer({ minimum: 1, maximum: 365, default: 30 }),
        limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
      }),
      response: { 200: Type.Object({ since: Type.String({ format: 'date-time' }), items: Type.Array(CitedArticle) }) },
    },
  }, async (req) => {
    const since = new Date(Date.now() - req.query.days * 86_400_000);
    const items = await withAccount(app.hub.db, req.principal.accountId, (tx) => mostCitedArticles(tx, since, req.query.limit));
    return { since: since.toISOString(), items };
  });
};

export default kbCitations;
