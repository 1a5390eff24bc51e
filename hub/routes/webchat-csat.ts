import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest, RouteShorthandOptions } from 'fastify';
import { Type, type Static } from 'typebox';
import type { ChannelInstallation } from '../../connectors/core/types.js';
import { visitorTokenOf } from '../../connectors/webchat/connector.js';
import type { VisitorClaims } from '../../connectors/webchat/tokens.js';
import type { Queryable } from '../../storage/database.js';
import { withAccount } from '../../storage/session.js';
import { HubError, notFound } from '../errors.js';
import { Csat } from '../schemas.js';
import { findVisitorConversation } from './webchat-visitor.js';

export interface WebchatCsatOptions {
  channelOf(req: FastifyRequest): ChannelInstallation;
  authenticate(channel: ChannelInstallation, token: string | undefined, visitorId: string | undefined): VisitorClaims;
  limitPerVisitor: RouteShorthandOptions['config'];
}

export const MAX_CSAT_COMMENT_LENGTH = 2000;

const WidgetParams = Type.Object({ widgetId: Type.String({ minLength: 1, maxLength: 200 }) });
const VisitorHeaders = Type.Object({ authorization: Type.Optional(Type.String()), 'x-visitor-id': Type.Optional(Type.String({ maxLength: 300 })) });

type CsatT = Static<typeof Csat>;
const iso = (v: unknown) => new Date(v as string).toISOString();

/** The newest rating of a conversation (of any of its resolutions); runs as the conversation's tenant. */
export async function latestCsat(tx: Queryable, conversationId: string): Promise<CsatT | undefined> {
  const { rows } = await tx.query<{ rating: number; comment: string | null; resolvedAt: Date; createdAt: Date }>(
    `SELECT rating, comment, resolved_at AS "resolvedAt", created_at AS "createdAt" FROM csat_ratings
     WHERE conversation_id = $1 ORDER BY resolved_at DESC LIMIT 1`,
    [conversationId],
  );
  const r = rows[0];
  return r ? { rating: r.rating, comment: r.comment, resolvedAt: iso(r.resolvedAt), createdAt: iso(r.createdAt) } : undefined;
}

/** What the widget needs to know of the visitor's conversation: its status, and whether a rating is invited. */
export const VisitorConversationState = Type.Object({ status: Type.String(), csatDue: Type.Boolean() });
export type VisitorConversationStateT = Static<typeof VisitorConversationState>;

export async function conversationState(tx: Queryable, conversationId: string): Promise<VisitorConversationStateT | undefined> {
  const { rows } = await tx.query<{ status: string; due: boolean }>(
    `SELECT c.status, (c.status = 'resolved' AND c.resolved_at IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM csat_ratings r WHERE r.conversation_id = c.id AND r.resolved_at = c.resolved_at)) AS due
     FROM conversations c WHERE c.id = $1`,
    [conversationId],
  );
  const r = rows[0];
  return r ? { status: r.status, csatDue: r.due } : undefined;
}

/**
 * CSAT: once an agent resolves the visitor's conversation, the visitor may rate that resolution once
 * (1–5 and an optional comment). A conversation reopened and resolved again may be rated again.
 */
const webchatCsat: FastifyPluginAsyncTypebox<WebchatCsatOptions> = async (app, { channelOf, authenticate, limitPerVisitor }) => {
  const { hub } = app;

  app.post('/:widgetId/csat', {
    config: limitPerVisitor,
    schema: {
      tags: ['webchat'],
      summary: "Rate the resolution of the visitor's conversation (once per resolution)",
      security: [],
      params: WidgetParams,
      headers: VisitorHeaders,
      body: Type.Object({
        rating: Type.Integer({ minimum: 1, maximum: 5 }),
        comment: Type.Optional(Type.String({ maxLength: MAX_CSAT_COMMENT_LENGTH })),
      }, { additionalProperties: false }),
      response: { 201: Csat },
    },
  }, async (req, reply) => {
    const channel = channelOf(req);
    const claims = authenticate(channel, visitorTokenOf({ headers: req.headers as Record<string, string> }), req.headers['x-visitor-id'] as string | undefined);
    const comment = req.body.comment?.trim() || null;
    const { conversationId, csat } = await withAccount(hub.db, channel.accountId, async (tx) => {
      const conversationId = await findVisitorConversation(tx, channel, claims.visitorId);
      if (!conversationId) throw notFound('conversation');
      // Locked so a reopen cannot slip in between the check and the insert.
      const { rows } = await tx.query<{ status: string; resolvedAt: Date | null }>(
        `SELECT status, resolved_at AS "resolvedAt" FROM conversations WHERE id = $1 FOR UPDATE`,
        [conversationId],
      );
      const c = rows[0];
      if (c?.status !== 'resolved' || !c.resolvedAt) throw new HubError(409, 'conversation_not_resolved', 'only a resolved conversation can be rated');
      // resolved_at copied in SQL: a JS Date would drop its microseconds and so never match it again.
      const inserted = await tx.query<{ createdAt: Date }>(
        `INSERT INTO csat_ratings (account_id, conversation_id, resolved_at, rating, comment, visitor_id)
         SELECT $1, c.id, c.resolved_at, $3, $4, $5 FROM conversations c WHERE c.id = $2
         ON CONFLICT (conversation_id, resolved_at) DO NOTHING RETURNING created_at AS "createdAt"`,
        [channel.accountId, conversationId, req.body.rating, comment, claims.visitorId],
      );
      const row = inserted.rows[0];
      if (!row) throw new HubError(409, 'csat_already_given', 'this resolution was already rated');
      return { conversationId, csat: { rating: req.body.rating, comment, resolvedAt: iso(c.resolvedAt), createdAt: iso(row.createdAt) } };
    });
    // Agents' views refresh on it; the visitor's other tabs drop their rating form.
    hub.bus.publish(channel.accountId, { type: 'conversation.updated', conversationId, changes: { csat: csat.rating } });
    return reply.status(201).send(csat);
  });
};

export default webchatCsat;
