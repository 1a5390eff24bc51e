import { randomUUID } from 'node:crypto';
import { verifyInbound } from '../services/verify-inbound.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { ChannelInstallation, WebhookRequest } from '../../connectors/core/types.js';
import { MAX_CLIENT_MESSAGE_ID_LENGTH, MAX_WEBCHAT_TEXT_LENGTH, visitorTokenOf } from '../../connectors/webchat/connector.js';
import {
  MAX_VISITOR_TOKEN_LENGTH,
  checkVisitorToken,
  identityEmailVouched,
  signVisitorToken,
  verifyIdentityHash,
  type VisitorClaims,
} from '../../connectors/webchat/tokens.js';
import { HubError, notFound } from '../errors.js';
import { clientAddress } from '../plugins/rate-limit.js';
import { Uuid } from '../schemas.js';
import { PREFLIGHT_HEADERS, widgetCorsHeaders } from './webchat-cors.js';
import { openVisitorStream } from './webchat-stream.js';
import { PublicMessage, findVisitorConversation, findVisitorMessageId, visitorHistory } from './webchat-visitor.js';
import webchatUploads from './webchat-uploads.js';
import webchatPresence from './webchat-presence.js';
import webchatCsat, { VisitorConversationState, conversationState } from './webchat-csat.js';
import webchatAvailability from './webchat-availability.js';
import webchatKb from './webchat-kb.js';
import { withAccount } from '../../storage/session.js';
import { MAX_ATTACHMENTS_PER_MESSAGE } from '../../connectors/webchat/uploads.js';

const WidgetParams = Type.Object({ widgetId: Type.String({ minLength: 1, maxLength: 200 }) });
const VisitorId = Type.String({ minLength: 1, maxLength: 300 });
const VisitorToken = Type.String({ minLength: 1, maxLength: MAX_VISITOR_TOKEN_LENGTH });
const VisitorHeaders = Type.Object({ authorization: Type.Optional(Type.String()), 'x-visitor-id': Type.Optional(VisitorId) });
const Name = Type.String({ minLength: 1, maxLength: 200 });
const Email = Type.String({ format: 'email', maxLength: 320 });

const visitorTokenInvalid = () => new HubError(401, 'visitor_token_invalid', 'visitor token is missing or invalid');
const visitorTokenExpired = () => new HubError(401, 'visitor_token_expired', 'visitor token has expired; start the session again (POST …/sessions with it) for a fresh one');

/**
 * The public web chat API a widget talks to; no agent auth. A visitor is whoever holds a visitor
 * token this channel signed. Every route is rate limited per visitor (or address) and per address.
 */
const webchat: FastifyPluginAsyncTypebox = async (app) => {
  const { hub } = app;
  const perMinute = hub.config.publicRateLimitPerMinute;
  const channels = new WeakMap<FastifyRequest, ChannelInstallation>();
  const channelOf = (req: FastifyRequest) => channels.get(req)!;
  const streams = new Set<() => void>();

  // A visitor counts by the id its verified token names (the same across token rotations); anything else by address.
  const visitorLimit = async (req: FastifyRequest) => {
    const token = visitorTokenOf({ headers: req.headers as Record<string, string> }) ?? (req.query as { visitorToken?: string } | undefined)?.visitorToken;
    const widgetId = (req.params as { widgetId?: string }).widgetId ?? '';
    const channel = token && widgetId.length <= 200 ? await hub.installations.find({ kind: 'webchat', externalKey: widgetId }) : undefined;
    const checked = channel ? checkVisitorToken(channel.secrets.sessionSecret, channel.id, token) : undefined;
    return checked ? `webchat:${channel!.id}:${checked.claims.visitorId}` : `webchat-ip:${clientAddress(req)}`;
  };
  const limitPerVisitor = { rateLimit: { max: perMinute, timeWindow: 60_000, keyGenerator: visitorLimit } };
  const limitPerAddress = { rateLimit: { max: perMinute, timeWindow: 60_000, keyGenerator: (req: FastifyRequest) => `webchat-ip:${clientAddress(req)}` } };
  // Visitors behind one office NAT share an address, so the address limit is wider than the visitor one.
  const addressLimit = app.createRateLimit({ max: perMinute * 5, timeWindow: 60_000, keyGenerator: (req) => `webchat-addr:${clientAddress(req)}` });

  app.addHook('preClose', async () => {
    for (const end of streams) end();
  });

  // After the route limit (onRequest) and before the body is read: address limit, channel, CORS.
  app.addHook('preParsing', async (req, reply) => {
    const limited = await addressLimit(req);
    if (!limited.isAllowed && limited.isExceeded) {
      reply.header('retry-after', String(limited.ttlInSeconds));
      throw new HubError(429, 'rate_limited', `too many requests; retry in ${limited.ttlInSeconds} s`);
    }
    const widgetId = (req.params as { widgetId?: string }).widgetId ?? '';
    const channel = widgetId.length <= 200 ? await hub.installations.find({ kind: 'webchat', externalKey: widgetId }) : undefined;
    if (!channel) throw notFound('channel');
    const cors = widgetCorsHeaders(channel, req);
    if (!cors) throw new HubError(403, 'origin_not_allowed', 'this site may not use this chat widget');
    reply.headers(cors);
    channels.set(req, channel);
  });

  app.options('/:widgetId/*', { config: limitPerAddress, schema: { hide: true } }, async (_req, reply) =>
    reply.status(204).headers(PREFLIGHT_HEADERS).send(),
  );

  app.post('/:widgetId/sessions', {
    config: limitPerAddress,
    schema: {
      tags: ['webchat'],
      summary: 'Start or resume a visitor session',
      description: 'With `identity`, the site vouches for a logged-in user: `hash` is hex HMAC-SHA256(identitySecret, userId).',
      security: [],
      params: WidgetParams,
      body: Type.Object({
        visitorId: Type.Optional(VisitorId),
        visitorToken: Type.Optional(VisitorToken),
        name: Type.Optional(Name),
        email: Type.Optional(Email),
        identity: Type.Optional(Type.Object({ userId: Type.String({ minLength: 1, maxLength: 200 }), email: Type.Optional(Email), name: Type.Optional(Name), hash: Type.String({ maxLength: 200 }) })),
      }, { additionalProperties: false }),
      response: {
        201: Type.Object({
          visitorId: Type.String(),
          visitorToken: Type.String(),
          /** Seconds until the token expires; the widget starts the session again with it before then for a fresh one. */
          expiresIn: Type.Integer(),
          channelId: Uuid,
          greeting: Type.Optional(Type.String()),
          /** Whether the hub knows an email to answer to (the widget asks for one when no agent is available). */
          hasEmail: Type.Boolean(),
        }),
      },
    },
  }, async (req, reply) => {
    const channel = channelOf(req);
    const sessionSecret = channel.secrets.sessionSecret;
    if (!sessionSecret) throw new HubError(503, 'channel_not_configured', 'this chat widget has no session secret yet');
    const b = req.body;
    let claims: VisitorClaims;
    if (b.identity) {
      const { userId, hash } = b.identity;
      if (!verifyIdentityHash(channel.secrets.identitySecret, userId, hash)) throw new HubError(401, 'identity_invalid', 'the identity hash does not match the user id');
      const email = b.identity.email ?? b.email;
      // Encoded so a user id can never contain the `:` that separates visitor and client message ids.
      claims = { visitorId: `u:${encodeURIComponent(userId)}`, name: b.identity.name ?? b.name, email, verified: identityEmailVouched(userId, email) };
    } else if (b.visitorId !== undefined || b.visitorToken !== undefined) {
      const checked = checkVisitorToken(sessionSecret, channel.id, b.visitorToken);
      if (!checked || checked.claims.visitorId !== b.visitorId) throw visitorTokenInvalid();
      // This is where a token is renewed: an expired one still resumes its visitor for a while, so a returning visitor keeps the chat.
      if (checked.expired && (checked.expiresAt ?? 0) + hub.config.visitorResumeSeconds < Date.now() / 1000) throw visitorTokenExpired();
      const resumed = checked.claims;
      // An anonymous visitor may name themselves later; a vouched-for identity stays as the site signed it.
      claims = resumed.visitorId.startsWith('u:') ? resumed : { ...resumed, name: b.name ?? resumed.name, email: b.email ?? resumed.email };
    } else {
      claims = { visitorId: `v:${randomUUID()}`, name: b.name, email: b.email, verified: false };
    }
    const greeting = typeof channel.config.greeting === 'string' ? channel.config.greeting : undefined;
    return reply.status(201).send({
      visitorId: claims.visitorId,
      visitorToken: signVisitorToken(sessionSecret, channel.id, claims, { ttlSeconds: hub.config.visitorTokenTtlSeconds }),
      expiresIn: hub.config.visitorTokenTtlSeconds,
      channelId: channel.id,
      ...(greeting ? { greeting } : {}),
      hasEmail: Boolean(claims.email),
    });
  });

  app.post('/:widgetId/messages', {
    config: limitPerVisitor,
    schema: {
      tags: ['webchat'],
      summary: 'Send a visitor message; resending the same clientMessageId is idempotent',
      security: [],
      params: WidgetParams,
      headers: VisitorHeaders,
      body: Type.Object({
        clientMessageId: Type.String({ minLength: 1, maxLength: MAX_CLIENT_MESSAGE_ID_LENGTH }),
        /** May be empty only when the message carries attachments. */
        text: Type.String({ maxLength: MAX_WEBCHAT_TEXT_LENGTH, default: '' }),
        /** Ids from POST /webchat/:widgetId/uploads by this visitor, not sent yet. */
        attachments: Type.Optional(Type.Array(Uuid, { maxItems: MAX_ATTACHMENTS_PER_MESSAGE })),
      }, { additionalProperties: false }),
      response: { 202: Type.Object({ messageId: Uuid, conversationId: Uuid, duplicate: Type.Boolean() }) },
    },
  }, async (req, reply) => {
    const channel = channelOf(req);
    const attachments = req.body.attachments ?? [];
    if (!req.body.text.trim() && attachments.length === 0) throw new HubError(400, 'validation_failed', 'a message needs text or an attachment');
    const connector = hub.connectors.get('webchat');
    if (!connector) throw new HubError(404, 'connector_not_installed', 'the webchat connector is not enabled on this hub');
    const wreq: WebhookRequest = {
      method: req.method,
      path: req.url.split('?')[0]!,
      headers: { authorization: req.headers.authorization, 'x-visitor-id': req.headers['x-visitor-id'] as string | undefined },
      query: {},
      // The visitor token, not the body, is what is signed, so the validated body re-serialised is enough.
      rawBody: Buffer.from(JSON.stringify({ clientMessageId: req.body.clientMessageId, text: req.body.text, attachments })),
      channel,
    };
    await verifyInbound(connector, wreq);
    const events = connector.parse(wreq);
    const [event] = events;
    if (event?.type !== 'message') throw new HubError(400, 'message_invalid', 'the message could not be read');
    // Answered only after the commit: a 202 means the message is durable.
    const [outcome] = await hub.ingest.ingest(channel, events);
    const conversationId = outcome?.conversationId;
    if (!conversationId) throw new HubError(500, 'ingest_failed', 'the message was not stored');
    const messageId = outcome.messageId ?? (await findVisitorMessageId(hub.db, channel, conversationId, event.message.externalId));
    if (!messageId) throw new HubError(409, 'client_message_id_taken', 'this clientMessageId was already used for another message');
    return reply.status(202).send({ messageId, conversationId, duplicate: outcome.result === 'duplicate' });
  });

  const check = (channel: ChannelInstallation, token: string | undefined, visitorId: string | undefined) => {
    const checked = checkVisitorToken(channel.secrets.sessionSecret, channel.id, token);
    if (!checked || (visitorId !== undefined && visitorId !== checked.claims.visitorId)) throw visitorTokenInvalid();
    if (checked.expired) throw visitorTokenExpired();
    return checked;
  };
  const authenticate = (channel: ChannelInstallation, token: string | undefined, visitorId: string | undefined) => check(channel, token, visitorId).claims;

  await app.register(webchatUploads, { channelOf, authenticate, limitPerVisitor });
  await app.register(webchatPresence, { channelOf, authenticate, limitPerVisitor });
  await app.register(webchatCsat, { channelOf, authenticate, limitPerVisitor });
  await app.register(webchatAvailability, { channelOf, limitPerAddress });
  await app.register(webchatKb, { channelOf, limitPerAddress });

  app.get('/:widgetId/messages', {
    config: limitPerVisitor,
    schema: {
      tags: ['webchat'],
      summary: "The visitor's conversation as the visitor sees it (no internal notes)",
      security: [],
      params: WidgetParams,
      headers: VisitorHeaders,
      response: { 200: Type.Object({ items: Type.Array(PublicMessage), conversation: Type.Optional(VisitorConversationState) }) },
    },
  }, async (req) => {
    const channel = channelOf(req);
    const claims = authenticate(channel, visitorTokenOf({ headers: req.headers as Record<string, string> }), req.headers['x-visitor-id']);
    const items = await visitorHistory(hub.db, channel, claims.visitorId);
    // The status (and whether a rating is invited) as of now; the stream's `conversation` event follows changes.
    const conversation = await withAccount(hub.db, channel.accountId, async (tx) => {
      const id = await findVisitorConversation(tx, channel, claims.visitorId);
      return id ? conversationState(tx, id) : undefined;
    });
    return { items, ...(conversation ? { conversation } : {}) };
  });

  app.get('/:widgetId/events', {
    config: limitPerVisitor,
    schema: {
      tags: ['webchat'],
      summary: 'Server-sent events for the visitor: `message`, `status`, `typing` and `conversation` (status and whether a rating is invited)',
      security: [],
      params: WidgetParams,
      // EventSource cannot send headers, so the stream takes the visitor's credentials in the query.
      querystring: Type.Object({ visitorId: VisitorId, visitorToken: VisitorToken }),
    },
  }, async (req, reply) => {
    const channel = channelOf(req);
    const { claims, expiresAt } = check(channel, req.query.visitorToken, req.query.visitorId);
    const { visitorId } = claims;
    const slot = app.streamSlots.acquire(clientAddress(req), `visitor:${channel.id}:${visitorId}`);
    reply.raw.on('close', slot);
    const end = openVisitorStream(app, req, reply, channel, visitorId);
    let expiry: ReturnType<typeof setTimeout> | undefined;
    const release = () => {
      if (!streams.delete(release)) return;
      clearTimeout(expiry);
      end();
      slot();
    };
    streams.add(release);
    // The URL carries the token, so the stream lasts no longer than it; the widget reopens it with the fresh one.
    expiry = setTimeout(release, Math.min(2 ** 31 - 1, Math.max(0, (expiresAt ?? 0) * 1000 - Date.now())));
    req.raw.on('close', release);
  });
};

export default webchat;
