import type { FastifyPluginAsync } from 'fastify';
import { MetaBodyError, decodeMetaBody } from '../../connectors/meta/body.js';
import { MessengerConnector } from '../../connectors/messenger/connector.js';
import { messengerEvents, splitMessengerWebhook } from '../../connectors/messenger/parse.js';
import { HubError } from '../errors.js';
import type { IngestResult } from '../services/ingest.js';
import { verifyInbound } from '../services/verify-inbound.js';
import type { WebhookRequestOf } from './webhooks.js';

/**
 * The one Messenger webhook URL of a hub: `GET` answers Meta's handshake with the operator's verify
 * token; `POST` is verified with the operator's app secret before anything is read (so an unsigned
 * POST is 401 even where no channel exists), then split per Page: each Page's items are ingested as
 * its installation, a Page no tenant serves is ignored, and the answer (200) goes only after every
 * commit, so Meta redelivers anything not stored; a redelivery is a duplicate, never a second message.
 */
export function messengerWebhook(toWebhookRequest: WebhookRequestOf): FastifyPluginAsync {
  return async (app) => {
    const { hub } = app;
    app.route({
      method: ['GET', 'POST'],
      url: '/messenger',
      schema: { tags: ['webhooks'], hide: true },
      handler: async (req, reply) => {
        const connector = hub.connectors.get('messenger');
        if (!connector) throw new HubError(404, 'connector_not_installed', 'the messenger connector is not enabled on this hub');
        const wreq = toWebhookRequest(req);
        if (req.method === 'GET') {
          const c = connector.handshake!(wreq)!;
          return reply.status(c.status).type(c.contentType ?? 'text/plain').send(c.body);
        }
        await verifyInbound(connector, wreq);
        let split;
        try {
          split = splitMessengerWebhook(decodeMetaBody('messenger', wreq.rawBody));
        } catch (err) {
          if (err instanceof MetaBodyError) throw new HubError(400, err.code, err.message);
          throw err;
        }
        if (split.ignored.length) req.log.debug({ reasons: split.ignored.map((e) => e.reason) }, 'messenger webhook entries ignored');
        const appIds = connector instanceof MessengerConnector ? connector.app.appIds : undefined;
        const perPage = await Promise.all(
          [...split.byPage].map(async ([page, items]): Promise<IngestResult[]> => {
            const channel = await hub.installations.find({ kind: 'messenger', externalKey: page });
            if (!channel) {
              req.log.info({ pageId: page }, 'messenger webhook for a Page no channel serves; ignored');
              return items.map(() => 'ignored');
            }
            return (await hub.ingest.ingest(channel, messengerEvents(channel.id, page, items, { appIds }))).map((o) => o.result);
          }),
        );
        return reply.status(200).send({ ok: true, results: [...split.ignored.map(() => 'ignored' as const), ...perPage.flat()] });
      },
    });
  };
}
