import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { badRequest } from '../errors.js';

/** Lifetime of an embed token: long enough for a page, short enough that a leaked one soon dies. */
export const EMBED_TOKEN_TTL_SECONDS = 900;

/**
 * Embed tokens for the Lit agent components: a short-lived token for the calling user that opens only
 * the routes those components call (they opt in with `allowEmbed`), so no API key or session token
 * ever has to sit in an embedding page.
 */
const embedTokens: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/embed-tokens', {
    onRequest: app.authorize('agent'),
    schema: {
      tags: ['auth'],
      summary: 'Mint a short-lived embed token for the calling user (for the agent web components)',
      response: { 201: Type.Object({ token: Type.String(), expiresIn: Type.Integer({ description: 'seconds until the token expires' }) }) },
    },
  }, async (req, reply) => {
    const p = req.principal;
    // An API key is nobody; an embed token acts as a person, so it needs one.
    if (!p.userId) throw badRequest('embed_token_needs_user', 'embed tokens are minted for a user, not an API key');
    const token = app.signAccessToken({ userId: p.userId, accountId: p.accountId, role: p.role }, 'embed', EMBED_TOKEN_TTL_SECONDS);
    return reply.status(201).send({ token, expiresIn: EMBED_TOKEN_TTL_SECONDS });
  });
};

export default embedTokens;
