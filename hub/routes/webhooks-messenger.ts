import type { FastifyPluginAsync } from 'fastify';
import { MessengerConnector } from '../../connectors/messenger/connector.js';
import { messengerEvents, splitMessengerWebhook, type MessengerSplit, type MsItem } from '../../connectors/messenger/parse.js';
import { messengerNamesOf } from '../services/messenger-names.js';
import { metaWebhook, type MetaSplit } from './meta-webhook.js';
import type { WebhookRequestOf } from './webhooks.js';

/**
 * The one Messenger webhook URL of a hub (`metaWebhook`): bodies split per Page id (`entry[].id`),
 * each Page's `messaging[]` and `standby[]` items ingested as its installation.
 */
export function messengerWebhook(toWebhookRequest: WebhookRequestOf): FastifyPluginAsync {
  return metaWebhook<MsItem, MessengerSplit & MetaSplit<MsItem>>(
    {
      kind: 'messenger',
      split: (body) => {
        const split = splitMessengerWebhook(body);
        return { ...split, byInstallation: split.byPage };
      },
      installation: (hub, page) => hub.installations.find({ kind: 'messenger', externalKey: page }),
      // Our own echoes are told apart by the app ids of the operator's Meta app.
      events: (channel, page, items, connector) =>
        messengerEvents(channel.id, page, items, { appIds: connector instanceof MessengerConnector ? connector.app.appIds : undefined }),
      // Webhooks carry only a PSID: the customer's name is looked up once per Page and customer, after the commit.
      afterIngest: (hub, channel, events, outcomes) => messengerNamesOf(hub).afterIngest(channel, events, outcomes),
      keyName: 'pageId',
      noun: 'Page',
    },
    toWebhookRequest,
  );
}
