import type { FastifyPluginAsync } from 'fastify';
import type { InboundEvent } from '../../connectors/core/types.js';
import { MetaBodyError, decodeMetaBody } from '../../connectors/meta/body.js';
import { splitWhatsAppWebhook, whatsappEvents } from '../../connectors/whatsapp/parse.js';
import { HubError } from '../errors.js';
import type { IngestResult } from '../services/ingest.js';
import { verifyInbound } from '../services/verify-inbound.js';
import type { WebhookRequestOf } from './webhooks.js';

/**
 * The one WhatsApp Cloud API webhook URL of a hub: `GET` answers Meta's handshake with the operator's
 * verify token; `POST` is verified with the operator's app secret before anything is read (so an
 * unsigned POST is 401 even where no channel exists), then split per business number: each number's
 * events are ingested as its installation, a number no tenant serves is ignored, and the answer
 * (200) goes only after every commit, so Meta redelivers anything not stored.
 */
export function whatsappWebhook(toWebhookRequest: WebhookRequestOf): FastifyPluginAsync {
  return async (app) => {
    const { hub } = app;
    app.route({
      method: ['GET', 'POST'],
      url: '/whatsapp',
      schema: { tags: ['webhooks'], hide: true },
      handler: async (req, reply) => {
        const connector = hub.connectors.get('whatsapp');
        if (!connector) throw new HubError(404, 'connector_not_installed', 'the whatsapp connector is not enabled on this hub');
        const wreq = toWebhookRequest(req);
        if (req.method === 'GET') {
          const c = connector.handshake!(wreq)!;
          return reply.status(c.status).type(c.contentType ?? 'text/plain').send(c.body);
        }
        await verifyInbound(connector, wreq);
        let split;
        try {
          split = splitWhatsAppWebhook(decodeMetaBody('whatsapp', wreq.rawBody));
        } catch (err) {
          if (err instanceof MetaBodyError) throw new HubError(400, err.code, err.message);
          throw err;
        }
        if (split.ignored.length) req.log.debug({ reasons: split.ignored.map((e) => e.reason) }, 'whatsapp webhook changes ignored');
        const perNumber = await Promise.all(
          [...split.byNumber].map(async ([number, changes]): Promise<IngestResult[]> => {
            const channel = await hub.installations.find({ kind: 'whatsapp', externalKey: number });
            if (!channel) {
              req.log.info({ phoneNumberId: number }, 'whatsapp webhook for a number no channel serves; ignored');
              return changes.map(() => 'ignored');
            }
            const events: InboundEvent[] = whatsappEvents(channel.id, changes);
            return (await hub.ingest.ingest(channel, events)).map((o) => o.result);
          }),
        );
        return reply.status(200).send({ ok: true, results: [...split.ignored.map(() => 'ignored' as const), ...perNumber.flat()] });
      },
    });
  };
}
