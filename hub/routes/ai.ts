import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { withAccount } from '../../storage/session.js';
import type { Queryable } from '../../storage/database.js';
import { addExample, addExamples } from '../../ai/classify/store.js';
import { addSentimentExample, sentimentCorrectionsInfo } from '../../ai/feedback/sentiment-store.js';
import { categoryAccuracy, draftStats } from '../../ai/feedback/stats.js';
import { badRequest, notFound } from '../errors.js';
import { IdParams, Nullable, Uuid } from '../schemas.js';
import { localAi } from '../install-ai.js';
import { analysisText } from '../../ai/providers/local/provider.js';
import { listRoutingRules, replaceRoutingRules } from '../../ai/routing/router.js';
import { audit } from '../../storage/repositories/audit.js';
import { usageByDay } from '../../ai/usage/report.js';
import { enqueue } from '../../storage/repositories/outbox.js';

const Category = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9][a-z0-9_-]*$' });
const SentimentLabel = Type.Union([Type.Literal('negative'), Type.Literal('neutral'), Type.Literal('positive')]);

/**
 * The customer message a correction teaches (the one named, or the conversation's latest with text),
 * with the text the model classified it by: subject and body for a thread's first message.
 */
async function customerMessage(tx: Queryable, conversationId: string, messageId?: string): Promise<{ id: string; text: string; analysed: string }> {
  const m = (await tx.query<{ id: string; text: string; customer: boolean; first: boolean; subject: string | null }>(
    `SELECT m.id, m.text, m.direction = 'inbound' AND NOT m.is_private AS customer, c.subject,
            NOT EXISTS (SELECT 1 FROM messages e WHERE e.conversation_id = m.conversation_id AND e.direction = 'inbound' AND NOT e.is_private
                        AND (e.sent_at, e.id) < (m.sent_at, m.id)) AS first
     FROM messages m JOIN conversations c ON c.id = m.conversation_id
     WHERE m.conversation_id = $1 AND ${messageId ? 'm.id = $2' : `m.direction = 'inbound' AND NOT m.is_private AND m.text <> ''`}
     ORDER BY m.sent_at DESC, m.id DESC LIMIT 1`,
    messageId ? [conversationId, messageId] : [conversationId],
  )).rows[0];
  if (!m) {
    if (messageId) throw notFound('message');
    throw badRequest('no_customer_text', 'the conversation has no customer text to learn from');
  }
  if (!m.customer) throw badRequest('not_customer_message', 'only a message from the customer can teach the model');
  if (!m.text.trim()) throw badRequest('no_customer_text', 'the message has no text to learn from');
  return { id: m.id, text: m.text, analysed: analysisText(m.subject, m.first, m.text) };
}

const KeptFigure = {
  classified: Type.Integer(),
  kept: Type.Integer(),
  keptRate: Type.Union([Type.Number(), Type.Null()], { description: 'kept / classified: the share of classified conversations whose category agents kept' }),
};

/** Teaching the local model and measuring how agents use its drafts. */
const ai: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.hub;

  app.get('/ai/stats', {
    onRequest: app.authorize('viewer'),
    schema: {
      tags: ['ai'],
      summary: 'Draft acceptance and edit-distance rates, and how often agents kept the category the AI gave',
      querystring: Type.Object({ days: Type.Integer({ minimum: 1, maximum: 365, default: 30 }) }),
      response: {
        200: Type.Object({
          days: Type.Integer(),
          drafts: Type.Integer(),
          decided: Type.Integer(),
          accepted: Type.Integer(),
          edited: Type.Integer(),
          rejected: Type.Integer(),
          acceptanceRate: Type.Union([Type.Number(), Type.Null()], { description: '(accepted + edited) / decided' }),
          unchangedRate: Type.Union([Type.Number(), Type.Null()], { description: 'accepted as is / decided' }),
          meanEditDistance: Type.Union([Type.Number(), Type.Null()], { description: 'mean normalised Levenshtein distance of edited drafts (0 same, 1 rewritten)' }),
          byCategory: Type.Record(Type.String(), Type.Object({ decided: Type.Integer(), acceptanceRate: Type.Union([Type.Number(), Type.Null()]) })),
          categoryAccuracy: Type.Object({
            ...KeptFigure,
            byCategory: Type.Record(Type.String(), Type.Object(KeptFigure), { description: 'by the category the AI gave' }),
          }, { description: 'conversations the AI classified in the period, and how many kept its category (no agent corrected it to another)' }),
        }),
      },
    },
  }, async (req) => withAccount(db, req.principal.accountId, async (tx) => ({
    days: req.query.days,
    ...(await draftStats(tx, req.query.days)),
    categoryAccuracy: await categoryAccuracy(tx, req.query.days),
  })));

  const Tokens = {
    requests: Type.Integer(),
    inputTokens: Type.Integer(),
    outputTokens: Type.Integer(),
    cacheReadTokens: Type.Integer({ description: 'prompt-cache reads (Anthropic)' }),
    cacheWriteTokens: Type.Integer({ description: 'prompt-cache writes (Anthropic)' }),
  };

  app.get('/ai/usage', {
    onRequest: app.authorize('admin'),
    schema: {
      tags: ['ai'],
      summary: 'Token usage of external model providers per UTC day, provider and model (today and the days before)',
      querystring: Type.Object({ days: Type.Integer({ minimum: 1, maximum: 366, default: 30 }) }),
      response: {
        200: Type.Object({
          days: Type.Integer(),
          items: Type.Array(Type.Object({ day: Type.String({ format: 'date' }), provider: Type.String(), model: Type.String(), ...Tokens })),
          totals: Type.Object(Tokens),
        }),
      },
    },
  }, async (req) => ({ days: req.query.days, ...(await withAccount(db, req.principal.accountId, (tx) => usageByDay(tx, req.query.days))) }));

  app.post('/ai/conversations/:id/category', {
    onRequest: app.authorize('agent', { allowEmbed: true }),
    schema: {
      tags: ['ai'],
      summary: "Correct a conversation's category; the account's model retrains in the background",
      params: IdParams,
      body: Type.Object({ category: Category }),
      response: { 202: Type.Object({ exampleId: Type.String(), retraining: Type.Boolean() }) },
    },
  }, async (req, reply) => {
    const accountId = req.principal.accountId;
    const exampleId = await withAccount(db, accountId, async (tx) => {
      const c = (await tx.query<{ id: string }>(`SELECT id FROM conversations WHERE id = $1`, [req.params.id])).rows[0];
      if (!c) throw notFound('conversation');
      const { text } = await customerMessage(tx, req.params.id);
      await tx.query(`UPDATE conversations SET category = $2, updated_at = now() WHERE id = $1`, [req.params.id, req.body.category]);
      await tx.query(`INSERT INTO audit_log (account_id, actor_kind, actor_id, action, target_kind, target_id, data) VALUES ($1, $2, $3, 'conversation.category_corrected', 'conversation', $4, $5)`,
        [accountId, req.principal.userId ? 'user' : 'api_key', req.principal.userId ?? req.principal.apiKeyId ?? null, req.params.id, { category: req.body.category }]);
      // The Slack card shows the category.
      await enqueue(tx, accountId, 'surface.sync', { conversationId: req.params.id });
      return addExample(tx, accountId, { category: req.body.category, text, source: 'correction', conversationId: req.params.id, userId: req.principal.userId ?? null });
    });
    app.hub.bus.publish(accountId, { type: 'conversation.updated', conversationId: req.params.id, changes: { category: req.body.category } });
    app.hub.runner.kick();
    // Retraining takes a second or two; the agent does not wait for it.
    localAi(app.hub).categories.retrain(accountId).catch((err: unknown) => req.log.warn({ err, accountId }, 'category retraining failed'));
    return reply.status(202).send({ exampleId, retraining: true });
  });

  app.post('/ai/conversations/:id/sentiment', {
    onRequest: app.authorize('agent'),
    schema: {
      tags: ['ai'],
      summary: "Correct a conversation's sentiment; the account's sentiment model learns it in the background",
      params: IdParams,
      body: Type.Object({
        sentiment: SentimentLabel,
        messageId: Type.Optional(Uuid),
      }, { additionalProperties: false, description: 'messageId: the customer message the label is about (default: the latest with text)' }),
      response: { 202: Type.Object({ exampleId: Type.String(), retraining: Type.Boolean() }) },
    },
  }, async (req, reply) => {
    const accountId = req.principal.accountId;
    const { sentiment, messageId } = req.body;
    const exampleId = await withAccount(db, accountId, async (tx) => {
      const c = (await tx.query<{ sentiment: string | null }>(`SELECT sentiment FROM conversations WHERE id = $1 FOR UPDATE`, [req.params.id])).rows[0];
      if (!c) throw notFound('conversation');
      const message = await customerMessage(tx, req.params.id, messageId);
      await tx.query(`UPDATE conversations SET sentiment = $2, updated_at = now() WHERE id = $1`, [req.params.id, sentiment]);
      await audit(tx, {
        accountId, actorKind: req.principal.userId ? 'user' : 'api_key', actorId: req.principal.userId ?? req.principal.apiKeyId ?? null,
        action: 'conversation.sentiment_corrected', targetKind: 'conversation', targetId: req.params.id, data: { sentiment: { from: c.sentiment, to: sentiment }, messageId: message.id },
      });
      // The Slack card shows the sentiment.
      await enqueue(tx, accountId, 'surface.sync', { conversationId: req.params.id });
      return addSentimentExample(tx, accountId, { conversationId: req.params.id, messageId: message.id, text: message.analysed, label: sentiment, userId: req.principal.userId ?? null });
    });
    app.hub.bus.publish(accountId, { type: 'conversation.updated', conversationId: req.params.id, changes: { sentiment } });
    app.hub.runner.kick();
    // Coalesced and delayed: a burst of corrections retrains once, and the agent never waits for it.
    localAi(app.hub).sentiments.retrain(accountId).catch((err: unknown) => req.log.warn({ err, accountId }, 'sentiment retraining failed'));
    return reply.status(202).send({ exampleId, retraining: true });
  });

  app.post('/ai/examples', {
    onRequest: app.authorize('admin'),
    schema: {
      tags: ['ai'],
      summary: 'Teach categories with example messages (an account may add its own categories)',
      body: Type.Object({ examples: Type.Array(Type.Object({ category: Category, text: Type.String({ minLength: 1, maxLength: 5000 }) }), { minItems: 1, maxItems: 5000 }) }),
      response: { 202: Type.Object({ added: Type.Integer(), retraining: Type.Boolean() }) },
    },
  }, async (req, reply) => {
    const accountId = req.principal.accountId;
    await withAccount(db, accountId, (tx) => addExamples(tx, accountId, req.body.examples, { source: 'import', userId: req.principal.userId ?? null }));
    localAi(app.hub).categories.retrain(accountId).catch((err: unknown) => req.log.warn({ err, accountId }, 'category retraining failed'));
    return reply.status(202).send({ added: req.body.examples.length, retraining: true });
  });

  app.get('/ai/model', {
    // The conversation view offers the account's categories for a correction.
    onRequest: app.authorize('viewer', { allowEmbed: true }),
    schema: {
      tags: ['ai'],
      summary: "The account's category model, and the corrections its sentiment model learned",
      response: {
        200: Type.Object({
          categories: Type.Array(Type.String()),
          trainedAt: Type.String(),
          examples: Type.Integer(),
          sentiment: Type.Object({
            model: Type.String({ description: 'the shipped sentiment model' }),
            corrections: Type.Integer({ description: "the account's stored sentiment corrections" }),
            trainedAt: Nullable(Type.String({ description: 'when the corrections in use were learned; null before the first retrain' })),
          }),
        }),
      },
    },
  }, async (req) => {
    const accountId = req.principal.accountId;
    const local = localAi(app.hub);
    const m = await local.categories.forAccount(accountId);
    const model = local.sentiment().id;
    const sentiment = await withAccount(db, accountId, (tx) => sentimentCorrectionsInfo(tx, accountId, model));
    return { categories: m.categories, trainedAt: m.trainedAt, examples: m.examples, sentiment: { model, ...sentiment } };
  });
  const Rule = Type.Object({
    id: Type.String(),
    position: Type.Integer(),
    category: Type.Union([Type.String(), Type.Null()]),
    language: Type.Union([Type.String(), Type.Null()]),
    teamId: Type.String(),
  });

  app.get('/ai/routing/rules', {
    onRequest: app.authorize('viewer'),
    schema: { tags: ['ai'], summary: 'Routing rules: category and language → team, first match wins', response: { 200: Type.Object({ items: Type.Array(Rule) }) } },
  }, async (req) => ({ items: await withAccount(db, req.principal.accountId, (tx) => listRoutingRules(tx)) }));

  app.put('/ai/routing/rules', {
    onRequest: app.authorize('admin'),
    schema: {
      tags: ['ai'],
      summary: "Replace the account's routing rules (in evaluation order); how a team then picks an agent is teams.settings.routing",
      body: Type.Object({
        rules: Type.Array(Type.Object({
          category: Type.Optional(Type.Union([Category, Type.Null()])),
          language: Type.Optional(Type.Union([Type.String({ minLength: 2, maxLength: 16 }), Type.Null()])),
          teamId: Type.String({ format: 'uuid' }),
        }, { additionalProperties: false }), { maxItems: 500 }),
      }),
      response: { 200: Type.Object({ items: Type.Array(Rule) }) },
    },
  }, async (req) => {
    const accountId = req.principal.accountId;
    return withAccount(db, accountId, async (tx) => {
      const teamIds = [...new Set(req.body.rules.map((r) => r.teamId))];
      const found = teamIds.length ? (await tx.query(`SELECT id FROM teams WHERE id = ANY($1::uuid[])`, [teamIds])).rowCount : 0;
      if (found !== teamIds.length) throw notFound('team');
      const items = await replaceRoutingRules(tx, accountId, req.body.rules);
      await audit(tx, { accountId, actorKind: req.principal.userId ? 'user' : 'api_key', actorId: req.principal.userId ?? req.principal.apiKeyId ?? null, action: 'routing.rules_replaced', data: { rules: items.length } });
      return { items };
    });
  });
};

export default ai;
