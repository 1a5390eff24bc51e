import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { verifyInbound } from '../services/verify-inbound.js';
import type { ChannelKind, WebhookRequest } from '../../connectors/core/types.js';
import { CHANNEL_KINDS } from '../../connectors/core/types.js';
import { HubError, notFound } from '../errors.js';
import { whatsappWebhook } from './webhooks-whatsapp.js';
import { messengerWebhook } from './webhooks-messenger.js';

export type WebhookRequestOf = (req: FastifyRequest) => WebhookRequest;

/**
 * Platform webhooks. The raw-body parser lives only inside this plugin, so connectors verify
 * signatures over the exact bytes while the JSON API keeps its parser.
 */
const webhooks: FastifyPluginAsync = async (app) => {
  const { hub } = app;
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: hub.config.bodyLimit }, (_req, body, done) => done(null, body));
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'buffer', bodyLimit: hub.config.bodyLimit }, (_req, body, done) => done(null, body));

  const toWebhookRequest: WebhookRequestOf = (req) => ({
    method: req.method,
    path: req.url.split('?')[0]!,
    headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v])),
    query: req.query as Record<string, string | undefined>,
    rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
  });

  // One URL for every WhatsApp number: its bodies hold several numbers' changes (a static route wins over /:kind).
  await app.register(whatsappWebhook(toWebhookRequest));
  await app.register(messengerWebhook(toWebhookRequest));

  const handle = async (req: FastifyRequest<{ Params: { kind: string; channelId?: string } }>) => {
    const kind = req.params.kind as ChannelKind;
    if (!CHANNEL_KINDS.includes(kind)) throw new HubError(404, 'unknown_channel_kind', `no channel kind "${req.params.kind}"`);
    const connector = hub.connectors.get(kind);
    if (!connector) throw new HubError(404, 'connector_not_installed', `the ${kind} connector is not enabled on this hub`);
    const wreq = toWebhookRequest(req);
    const channelId = req.params.channelId;
    if (channelId !== undefined && !/^[0-9a-f-]{36}$/i.test(channelId)) throw notFound('channel');
    const externalKey = channelId ? undefined : connector.locate?.(wreq);
    const channel = channelId || externalKey ? await hub.installations.find({ kind, id: channelId, externalKey }) : undefined;
    wreq.channel = channel;
    const challenge = connector.handshake?.(wreq);
    if (challenge) return { challenge };
    if (!channel) throw notFound('channel');
    // Visitor messages go only through /webchat/:widgetId/…, which holds the visitor, address and upload limits.
    if (kind === 'webchat')
      throw new HubError(404, 'webchat_not_a_webhook', 'web chat has no webhook; the widget sends to /webchat/:widgetId/messages');
    await verifyInbound(connector, wreq);
    const events = connector.parse(wreq);
    // Acknowledged only after the commit: a crash before it makes the platform retry, never lose.
    const outcomes = await hub.ingest.ingest(channel, events);
    return { outcomes };
  };

  for (const url of ['/:kind', '/:kind/:channelId']) {
    app.route<{ Params: { kind: string; channelId?: string } }>({
      method: ['GET', 'POST'],
      url,
      schema: { tags: ['webhooks'], hide: true },
      handler: async (req, reply) => {
        const result = await handle(req);
        if ('challenge' in result && result.challenge) {
          const c = result.challenge;
          return reply.status(c.status).type(c.contentType ?? 'text/plain').send(c.body);
        }
        return reply.status(200).send({ ok: true, results: result.outcomes?.map((o) => o.result) });
      },
    });
  }
};

export default webhooks;
