import type { FastifyPluginAsync } from 'fastify';
import type { ChannelInstallation, Connector, InboundEvent } from '../../connectors/core/types.js';
import { MetaBodyError, decodeMetaBody } from '../../connectors/meta/body.js';
import type { Hub } from '../context.js';
import { HubError } from '../errors.js';
import type { IngestOutcome, IngestResult } from '../services/ingest.js';
import { verifyInbound } from '../services/verify-inbound.js';
import type { WebhookRequestOf } from './webhooks.js';

/** A Meta webhook body cut per installation (a business number, a Page), and the parts that are no one's. */
export interface MetaSplit<Item> {
  byInstallation: Map<string, Item[]>;
  ignored: { reason: string }[];
}

/** What one Meta platform gives the shared webhook route. */
export interface MetaPlatform<Item, Split extends MetaSplit<Item> = MetaSplit<Item>> {
  kind: 'whatsapp' | 'messenger';
  /** Its parser: the decoded body per installation key; throws MetaBodyError on a body that is not its shape. */
  split(body: unknown): Split;
  /** The installation serving a key, if any tenant does. */
  installation(hub: Hub, key: string): Promise<ChannelInstallation | undefined>;
  /** One installation's items as inbound events. */
  events(channel: ChannelInstallation, key: string, items: Item[], connector: Connector): InboundEvent[];
  /** For the log line of a key no installation serves: `{ [keyName]: key }`, "… for a `noun` no channel serves". */
  keyName: string;
  noun: string;
  /** Parts of the body that belong to no installation (WhatsApp template reviews), applied before ingest. */
  beforeIngest?(hub: Hub, split: Split): Promise<void>;
  /** After an installation's items were committed (not awaited by the answer): follow-up work such as names. */
  afterIngest?(hub: Hub, channel: ChannelInstallation, events: InboundEvent[], outcomes: IngestOutcome[]): void;
}

/**
 * The one webhook URL of a Meta platform on a hub (`/webhooks/<kind>`): `GET` answers Meta's handshake
 * with the operator's verify token; `POST` is verified with the operator's app secret before anything is
 * read (so an unsigned POST is 401 even where no channel exists), then split per installation: each
 * installation's items are ingested as it, a key no tenant serves is ignored, and the answer (200) goes
 * only after every commit, so Meta redelivers anything not stored; a redelivery is a duplicate, never a
 * second message.
 */
export function metaWebhook<Item, Split extends MetaSplit<Item>>(platform: MetaPlatform<Item, Split>, toWebhookRequest: WebhookRequestOf): FastifyPluginAsync {
  const { kind } = platform;
  return async (app) => {
    const { hub } = app;
    app.route({
      method: ['GET', 'POST'],
      url: `/${kind}`,
      schema: { tags: ['webhooks'], hide: true },
      handler: async (req, reply) => {
        const connector = hub.connectors.get(kind);
        if (!connector) throw new HubError(404, 'connector_not_installed', `the ${kind} connector is not enabled on this hub`);
        const wreq = toWebhookRequest(req);
        if (req.method === 'GET') {
          const c = connector.handshake!(wreq)!;
          return reply.status(c.status).type(c.contentType ?? 'text/plain').send(c.body);
        }
        await verifyInbound(connector, wreq);
        let split: Split;
        try {
          split = platform.split(decodeMetaBody(kind, wreq.rawBody));
        } catch (err) {
          // Signed by Meta and well formed, for an object this URL does not serve (an app subscribed to Instagram
          // too): answered 200 and ignored with the reason, since Meta disables a webhook that keeps failing.
          if (err instanceof MetaBodyError && err.otherObject) {
            req.log.info({ object: err.otherObject }, `${kind} webhook for an object this URL does not serve; ignored`);
            return reply.status(200).send({ ok: true, results: ['ignored'], reason: err.message });
          }
          if (err instanceof MetaBodyError) throw new HubError(400, err.code, err.message);
          throw err;
        }
        if (split.ignored.length) req.log.debug({ reasons: split.ignored.map((e) => e.reason) }, `${kind} webhook parts ignored`);
        await platform.beforeIngest?.(hub, split);
        const perInstallation = await Promise.all(
          [...split.byInstallation].map(async ([key, items]): Promise<IngestResult[]> => {
            const channel = await platform.installation(hub, key);
            if (!channel) {
              req.log.info({ [platform.keyName]: key }, `${kind} webhook for a ${platform.noun} no channel serves; ignored`);
              return items.map(() => 'ignored');
            }
            const events = platform.events(channel, key, items, connector);
            const outcomes = await hub.ingest.ingest(channel, events);
            platform.afterIngest?.(hub, channel, events, outcomes);
            return outcomes.map((o) => o.result);
          }),
        );
        return reply.status(200).send({ ok: true, results: [...split.ignored.map(() => 'ignored' as const), ...perInstallation.flat()] });
      },
    });
  };
}
