import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest, RouteShorthandOptions } from 'fastify';
import { Type } from 'typebox';
import type { ChannelInstallation } from '../../connectors/core/types.js';
import { searchAccountKb } from '../../ai/kb/search.js';
import { localAi } from '../install-ai.js';
import { Nullable } from '../schemas.js';

export interface WebchatKbOptions {
  channelOf(req: FastifyRequest): ChannelInstallation;
  limitPerAddress: RouteShorthandOptions['config'];
}

const SNIPPET = 240;
const snippetOf = (text: string) => {
  const flat = text.replace(/\s+/gu, ' ').trim();
  return flat.length > SNIPPET ? `${flat.slice(0, SNIPPET).replace(/\s\S*$/u, '')}…` : flat;
};

export const HelpHit = Type.Object({ title: Type.String(), snippet: Type.String(), url: Nullable(Type.String()) });

/**
 * The public help center search of a widget's account: published articles only (drafts never have
 * published passages), one hit per article, no login. Each search embeds the query, so the address
 * limit of the public routes applies.
 */
const webchatKb: FastifyPluginAsyncTypebox<WebchatKbOptions> = async (app, { channelOf, limitPerAddress }) => {
  app.get('/:widgetId/kb/search', {
    config: limitPerAddress,
    schema: {
      tags: ['webchat'],
      summary: "Search the published help articles of the widget's account (a public help center)",
      security: [],
      params: Type.Object({ widgetId: Type.String({ minLength: 1, maxLength: 200 }) }),
      querystring: Type.Object({
        q: Type.String({ minLength: 1, maxLength: 500 }),
        language: Type.Optional(Type.String({ minLength: 2, maxLength: 10, pattern: '^[a-z]{2,3}(-[A-Za-z0-9]+)?$' })),
        limit: Type.Integer({ minimum: 1, maximum: 10, default: 5 }),
      }),
      response: { 200: Type.Object({ items: Type.Array(HelpHit) }) },
    },
  }, async (req) => {
    const channel = channelOf(req);
    const { q, language, limit } = req.query;
    if (!q.trim()) return { items: [] };
    const embedder = localAi(app.hub).embedder;
    // A few passages more than asked: several may come from one article.
    const passages = await searchAccountKb(app.hub.db, channel.accountId, embedder, q, { limit: limit * 3, language });
    const seen = new Set<string>();
    const items = [];
    for (const p of passages) {
      if (seen.has(p.articleId)) continue;
      seen.add(p.articleId);
      items.push({ title: p.title, snippet: snippetOf(p.text), url: p.url });
      if (items.length === limit) break;
    }
    return { items };
  });
};

export default webchatKb;
