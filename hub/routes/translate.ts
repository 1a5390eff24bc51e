import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { withAccount } from '../../storage/session.js';
import { getConversation } from '../../storage/repositories/conversations.js';
import { HubError, badRequest, notFound } from '../errors.js';
import { Nullable, Uuid, IdParams } from '../schemas.js';
import { errorResponse } from '../plugins/error-responses.js';
import type { Hub } from '../context.js';
import { recordTranslationUsage, translate, TranslationError, Translators, type Translation } from '../../ai/translate/translate.js';

const Language = Type.String({ pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$', maxLength: 12, description: 'a language code: en, fi, sv, de, pt-BR…' });
const Text = Type.Object({ text: Type.String(), language: Nullable(Type.String({ description: 'null when not known' })) });
const TranslationFields = {
  original: Text,
  translation: Type.Object({ text: Type.String(), language: Type.String() }),
  provider: Nullable(Type.String({ description: 'anthropic or openai-compatible; null when the text was already in that language' })),
  model: Nullable(Type.String()),
};
const TranslationBody = Type.Object(TranslationFields);
// Offline is a state of the account's AI setup, not an outage: 409, so nothing retries it (5xx are the hub's own faults).
const ERRORS = {
  409: errorResponse(409, ['translation_unavailable']),
  502: errorResponse(502, ['translation_failed']),
};

const translators = new WeakMap<Hub, Translators>();

/** The first language the agent's browser or tool asks for (Accept-Language), else English. */
export function agentLanguage(header: string | string[] | undefined): string {
  const first = (Array.isArray(header) ? header[0] : header)?.split(',')[0]?.split(';')[0]?.trim().toLowerCase();
  const base = first?.split('-')[0];
  return base && /^[a-z]{2,3}$/.test(base) ? base : 'en';
}

/**
 * Translation for agents: read a message in the agent's language, preview a reply in the customer's
 * (both texts side by side; the reply is then sent with POST /conversations/:id/reply as the agent
 * chooses). Needs Claude or an OpenAI-compatible model; offline it is 409 `translation_unavailable`.
 */
const translateRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.hub;
  const models = () => {
    let t = translators.get(app.hub);
    if (!t) translators.set(app.hub, (t = new Translators({ db, config: app.hub.config.ai })));
    return t;
  };

  async function run(accountId: string, conversationId: string, text: string, to: string, from: string | null): Promise<Translation> {
    const model = await models().forAccount(accountId);
    if (!model) throw new HubError(409, 'translation_unavailable', 'translation needs Claude or an OpenAI-compatible model; the offline AI cannot translate (set the account\'s AI provider, see ai/README.md)');
    try {
      const t = await translate(model, text, { to, from });
      await recordTranslationUsage(db, accountId, conversationId, t);
      return t;
    } catch (err) {
      if (err instanceof TranslationError) throw new HubError(err.code === 'translation_unavailable' ? 409 : 502, err.code, err.message, err.reason ? { cause: err.reason } : undefined);
      throw err;
    }
  }

  app.post('/conversations/:id/messages/:messageId/translate', {
    onRequest: app.authorize('agent', { allowEmbed: true }),
    schema: {
      tags: ['conversations'],
      summary: "A message in the agent's language (`to`, else the request's Accept-Language, else English); the original is kept and returned beside it",
      params: Type.Object({ id: Uuid, messageId: Uuid }),
      body: Type.Object({ to: Type.Optional(Language) }),
      response: { 200: Type.Object({ messageId: Uuid, ...TranslationFields }), ...ERRORS },
    },
  }, async (req) => {
    const { accountId } = req.principal;
    const to = req.body.to ?? agentLanguage(req.headers['accept-language']);
    const m = await withAccount(db, accountId, async (tx) => {
      if (!(await getConversation(tx, req.params.id))) throw notFound('conversation');
      return (await tx.query<{ text: string; language: string | null }>(
        `SELECT m.text, (SELECT r.language FROM ai_results r WHERE r.message_id = m.id ORDER BY r.created_at DESC LIMIT 1) AS language
         FROM messages m WHERE m.conversation_id = $1 AND m.id = $2`, [req.params.id, req.params.messageId])).rows[0];
    });
    if (!m) throw notFound('message');
    if (!m.text.trim()) throw badRequest('no_text', 'the message has no text to translate');
    const original = { text: m.text, language: m.language };
    // Already in the agent's language (as the analysis detected it): nothing to call a model for.
    if (m.language && m.language === to) return { messageId: req.params.messageId, original, translation: { text: m.text, language: to }, provider: null, model: null };
    const t = await run(accountId, req.params.id, m.text, to, m.language);
    return { messageId: req.params.messageId, original, translation: { text: t.text, language: t.language }, provider: t.provider, model: t.model };
  });

  app.post('/conversations/:id/reply-translation', {
    onRequest: app.authorize('agent', { allowEmbed: true }),
    schema: {
      tags: ['conversations'],
      summary: "Preview a reply in the customer's language (`to`, else the conversation's detected language): both texts, nothing is sent",
      params: IdParams,
      body: Type.Object({ text: Type.String({ minLength: 1, maxLength: 20_000 }), to: Type.Optional(Language), from: Type.Optional(Language) }),
      response: { 200: TranslationBody, ...ERRORS },
    },
  }, async (req) => {
    const { accountId } = req.principal;
    const language = await withAccount(db, accountId, async (tx) => {
      const c = await getConversation(tx, req.params.id);
      if (!c) throw notFound('conversation');
      if (c.language) return c.language;
      return (await tx.query<{ language: string | null }>(`SELECT language FROM ai_results WHERE conversation_id = $1 AND language IS NOT NULL ORDER BY created_at DESC LIMIT 1`, [req.params.id])).rows[0]?.language ?? null;
    });
    const to = req.body.to ?? language;
    if (!to) throw badRequest('customer_language_unknown', "the customer's language is not known yet; name it in `to`");
    if (!req.body.text.trim()) throw badRequest('no_text', 'the reply has no text to translate');
    const from = req.body.from ?? null;
    const original = { text: req.body.text, language: from };
    if (from === to) return { original, translation: { text: req.body.text, language: to }, provider: null, model: null };
    const t = await run(accountId, req.params.id, req.body.text, to, from);
    return { original, translation: { text: t.text, language: t.language }, provider: t.provider, model: t.model };
  });
};

export default translateRoutes;
