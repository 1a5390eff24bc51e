import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { withAccount } from '../../storage/session.js';
import type { Queryable } from '../../storage/database.js';
import { articleVariants, deleteArticle, getArticle, listArticles, VariantExistsError } from '../../ai/kb/articles.js';
import { editArticle, saveArticles, saveVariant } from '../../ai/kb/save.js';
import { searchAccountKb } from '../../ai/kb/search.js';
import { HubError, notFound } from '../errors.js';
import { EmbeddingError } from '../../ai/embed/embedder.js';
import { IdParams, Nullable, Page, Uuid, decodeCursor, encodeCursor } from '../schemas.js';
import { requestTenantIndexIfLarge } from '../../ai/kb/reindex.js';
import kbReindex from './kb-reindex.js';
import kbImport from './kb-import.js';
import kbCitations from './kb-citations.js';

const Status = Type.Union([Type.Literal('published'), Type.Literal('draft')]);
const Language = Type.String({ minLength: 2, maxLength: 10, pattern: '^[a-z]{2,3}(-[A-Za-z0-9]+)?$' });

const Article = Type.Object({
  id: Uuid,
  title: Type.String(),
  body: Type.String(),
  language: Type.String(),
  tags: Type.Array(Type.String()),
  status: Status,
  url: Nullable(Type.String()),
  externalId: Nullable(Type.String()),
  variantGroup: Type.String({ description: "the article's language variants share this id" }),
  createdAt: Type.Any(),
  updatedAt: Type.Any(),
});

const ArticleBody = Type.Object({
  title: Type.String({ minLength: 1, maxLength: 500 }),
  body: Type.String({ minLength: 1, maxLength: 200_000, description: 'markdown' }),
  language: Type.Optional(Language),
  tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50 })),
  status: Type.Optional(Status),
  url: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  externalId: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 500 }))),
});

const SearchHit = Type.Object({
  chunkId: Uuid,
  articleId: Uuid,
  title: Type.String(),
  heading: Nullable(Type.String()),
  text: Type.String(),
  language: Type.String(),
  url: Nullable(Type.String()),
  score: Type.Number(),
  similarity: Nullable(Type.Number()),
});

/** An embedding endpoint that fails after its retries is a 503 with a stable code, not a 500. */
async function embedding<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof EmbeddingError) throw new HubError(503, 'embeddings_unavailable', `the embedding model failed (${err.code}); try again later`);
    if (err instanceof VariantExistsError) throw new HubError(409, 'variant_exists', err.message);
    throw err;
  }
}

/** Knowledge base: articles the drafts are grounded in, and the hybrid search over their passages. */
const kb: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.hub;
  const embedder = () => app.hub.embedders;
  // A write that takes the account past the exact-search limit schedules its own HNSW index.
  const afterWrite = async (tx: Queryable, accountId: string) => {
    if (await requestTenantIndexIfLarge(tx, accountId)) setImmediate(() => app.hub.runner.kick());
  };
  await app.register(kbReindex);
  await app.register(kbImport(ArticleBody));
  await app.register(kbCitations);

  app.get('/kb/articles', {
    onRequest: app.authorize('viewer'),
    schema: {
      tags: ['knowledge base'],
      querystring: Type.Object({
        language: Type.Optional(Language), status: Type.Optional(Status), tag: Type.Optional(Type.String({ maxLength: 100 })),
        limit: Type.Integer({ minimum: 1, maximum: 100, default: 25 }), cursor: Type.Optional(Type.String({ maxLength: 500 })),
      }),
      response: { 200: Page(Article) },
    },
  }, async (req) => {
    const q = req.query;
    const after = decodeCursor<{ updatedAt: string; id: string }>(q.cursor, ['updatedAt', 'id']);
    const rows = await withAccount(db, req.principal.accountId, (tx) => listArticles(tx, { language: q.language, status: q.status, tag: q.tag, limit: q.limit + 1, after }));
    const items = rows.slice(0, q.limit);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > q.limit && last ? encodeCursor({ updatedAt: new Date(last.updatedAt).toISOString(), id: last.id }) : null };
  });

  app.post('/kb/articles', {
    onRequest: app.authorize('admin'),
    schema: { tags: ['knowledge base'], summary: 'Create an article (or update the one with the same externalId)', body: ArticleBody, response: { 201: Article, 200: Article } },
  }, async (req, reply) => {
    const accountId = req.principal.accountId;
    const [r] = await embedding(saveArticles(db, accountId, [req.body], embedder(), (tx) => afterWrite(tx, accountId)));
    return reply.status(r!.created ? 201 : 200).send(r!.article);
  });

  app.get('/kb/articles/:id', {
    onRequest: app.authorize('viewer'),
    schema: { tags: ['knowledge base'], params: IdParams, response: { 200: Article } },
  }, async (req) => {
    const a = await withAccount(db, req.principal.accountId, (tx) => getArticle(tx, req.params.id));
    if (!a) throw notFound('article');
    return a;
  });

  app.patch('/kb/articles/:id', {
    onRequest: app.authorize('admin'),
    schema: { tags: ['knowledge base'], params: IdParams, body: Type.Partial(ArticleBody), response: { 200: Article } },
  }, async (req) => {
    const accountId = req.principal.accountId;
    const a = await embedding(editArticle(db, accountId, req.params.id, req.body, embedder(), (tx) => afterWrite(tx, accountId)));
    if (!a) throw notFound('article');
    return a;
  });

  app.get('/kb/articles/:id/variants', {
    onRequest: app.authorize('viewer'),
    schema: { tags: ['knowledge base'], summary: "The article's language variants (itself included), by language", params: IdParams, response: { 200: Type.Object({ items: Type.Array(Article) }) } },
  }, async (req) => {
    const items = await withAccount(db, req.principal.accountId, (tx) => articleVariants(tx, req.params.id));
    if (!items.length) throw notFound('article');
    return { items };
  });

  app.post('/kb/articles/:id/variants', {
    onRequest: app.authorize('admin'),
    schema: {
      tags: ['knowledge base'],
      summary: 'Add a language variant of the article (its own id and language; 409 variant_exists when that language has one)',
      params: IdParams,
      body: Type.Intersect([ArticleBody, Type.Object({ language: Language })]),
      response: { 201: Article },
    },
  }, async (req, reply) => {
    const accountId = req.principal.accountId;
    const a = await embedding(saveVariant(db, accountId, req.params.id, req.body as typeof req.body & { language: string }, embedder(), (tx) => afterWrite(tx, accountId)));
    if (!a) throw notFound('article');
    return reply.status(201).send(a);
  });

  app.delete('/kb/articles/:id', {
    onRequest: app.authorize('admin'),
    schema: { tags: ['knowledge base'], params: IdParams, response: { 204: Type.Null() } },
  }, async (req, reply) => {
    if (!(await withAccount(db, req.principal.accountId, (tx) => deleteArticle(tx, req.params.id)))) throw notFound('article');
    return reply.status(204).send(null);
  });

  app.get('/kb/search', {
    onRequest: app.authorize('viewer', { allowEmbed: true }),
    schema: {
      tags: ['knowledge base'],
      summary: 'Hybrid search (meaning + words, reciprocal rank fusion) over published passages',
      querystring: Type.Object({ q: Type.String({ minLength: 1, maxLength: 2000 }), language: Type.Optional(Language), limit: Type.Integer({ minimum: 1, maximum: 50, default: 5 }) }),
      response: { 200: Type.Object({ items: Type.Array(SearchHit) }) },
    },
  }, async (req) => {
    const items = await searchAccountKb(db, req.principal.accountId, embedder(), req.query.q, { limit: req.query.limit, language: req.query.language });
    return { items };
  });
};

export default kb;
