import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest, RouteShorthandOptions } from 'fastify';
import { Type } from 'typebox';
import type { ChannelInstallation } from '../../connectors/core/types.js';
import { visitorTokenOf } from '../../connectors/webchat/connector.js';
import type { VisitorClaims } from '../../connectors/webchat/tokens.js';
import { withAccount } from '../../storage/session.js';
import { notFound } from '../errors.js';
import { Uuid } from '../schemas.js';
import { findVisitorConversation } from './webchat-visitor.js';

export interface WebchatPresenceOptions {
  channelOf(req: FastifyRequest): ChannelInstallation;
  authenticate(channel: ChannelInstallation, token: string | undefined, visitorId: string | undefined): VisitorClaims;
  limitPerVisitor: RouteShorthandOptions['config'];
}

const WidgetParams = Type.Object({ widgetId: Type.String({ minLength: 1, maxLength: 200 }) });
const VisitorHeaders = Type.Object({ authorization: Type.Optional(Type.String()), 'x-visitor-id': Type.Optional(Type.String({ maxLength: 300 })) });

/**
 * What the visitor is doing, not what they wrote: typing (a bus event agents see on the account
 * stream) and read receipts (outbound messages marked `read` through ingest's delivery status path).
 */
const webchatPresence: FastifyPluginAsyncTypebox<WebchatPresenceOptions> = async (app, { channelOf, authenticate, limitPerVisitor }) => {
  const { hub } = app;
  const visitorOf = (req: FastifyRequest) => {
    const channel = channelOf(req);
    return { channel, claims: authenticate(channel, visitorTokenOf({ headers: req.headers as Record<string, string> }), req.headers['x-visitor-id'] as string | undefined) };
  };

  app.post('/:widgetId/typing', {
    config: limitPerVisitor,
    schema: { tags: ['webchat'], summary: 'The visitor is typing (send every few seconds while they type)', security: [], params: WidgetParams, headers: VisitorHeaders, response: { 204: Type.Null() } },
  }, async (req, reply) => {
    const { channel, claims } = visitorOf(req);
    const typing = await withAccount(hub.db, channel.accountId, async (tx) => {
      const conversationId = await findVisitorConversation(tx, channel, claims.visitorId);
      if (!conversationId) return undefined;
      // Agents may have renamed the contact, or it joined one they knew: say the name their view shows.
      const { rows } = await tx.query<{ name: string | null }>(`SELECT ct.name FROM conversations c JOIN contacts ct ON ct.id = c.contact_id WHERE c.id = $1`, [conversationId]);
      return { conversationId, name: rows[0]?.name || claims.name || null };
    });
    // Before the first message there is nobody to tell.
    if (typing) hub.bus.publish(channel.accountId, { type: 'typing', ...typing, by: 'visitor' });
    return reply.status(204).send(null);
  });

  app.post('/:widgetId/read', {
    config: limitPerVisitor,
    schema: {
      tags: ['webchat'],
      summary: 'The visitor has seen the conversation up to this message: earlier replies become `read`',
      security: [],
      params: WidgetParams,
      headers: VisitorHeaders,
      body: Type.Object({ messageId: Uuid }, { additionalProperties: false }),
      response: { 200: Type.Object({ marked: Type.Integer() }) },
    },
  }, async (req) => {
    const { channel, claims } = visitorOf(req);
    const externalIds = await withAccount(hub.db, channel.accountId, async (tx) => {
      const conversationId = await findVisitorConversation(tx, channel, claims.visitorId);
      if (!conversationId) return undefined;
      const upTo = await tx.query(`SELECT 1 FROM messages WHERE id = $1 AND conversation_id = $2 AND NOT is_private`, [req.body.messageId, conversationId]);
      if (!upTo.rows.length) return undefined;
      // Stored order (a sequence), not sent_at: replies stored in the same millisecond share a clock.
      const { rows } = await tx.query<{ externalId: string }>(
        `SELECT m.external_id AS "externalId" FROM messages m, messages upto
         WHERE upto.id = $2 AND m.conversation_id = $1 AND m.channel_id = $3 AND m.direction = 'outbound' AND NOT m.is_private
           AND m.external_id IS NOT NULL AND m.delivery_status IN ('sent', 'delivered') AND m.seq <= upto.seq`,
        [conversationId, req.body.messageId, channel.id],
      );
      return rows.map((r) => r.externalId);
    });
    if (!externalIds) throw notFound('message');
    if (!externalIds.length) return { marked: 0 };
    const outcomes = await hub.ingest.ingest(channel, externalIds.map((externalId) => ({ type: 'status' as const, channelId: channel.id, externalId, status: 'read' as const })));
    return { marked: outcomes.filter((o) => o.result === 'status').length };
  });
};

export default webchatPresence;
