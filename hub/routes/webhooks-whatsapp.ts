import type { FastifyPluginAsync } from 'fastify';
import { splitWhatsAppWebhook, whatsappEvents, type WaChange, type WhatsAppSplit } from '../../connectors/whatsapp/parse.js';
import { applyTemplateStatus } from '../../storage/repositories/whatsapp-templates.js';
import { queueTemplateSyncs } from '../services/whatsapp-templates.js';
import { metaWebhook, type MetaSplit } from './meta-webhook.js';
import type { WebhookRequestOf } from './webhooks.js';

/**
 * The one WhatsApp Cloud API webhook URL of a hub (`metaWebhook`): bodies split per business number
 * (`phone_number_id`), each number's changes ingested as its installation.
 */
export function whatsappWebhook(toWebhookRequest: WebhookRequestOf): FastifyPluginAsync {
  return metaWebhook<WaChange, WhatsAppSplit & MetaSplit<WaChange>>(
    {
      kind: 'whatsapp',
      split: (body) => {
        const split = splitWhatsAppWebhook(body);
        return { ...split, byInstallation: split.byNumber };
      },
      installation: (hub, number) => hub.installations.find({ kind: 'whatsapp', externalKey: number }),
      events: (channel, _number, changes) => whatsappEvents(channel.id, changes),
      keyName: 'phoneNumberId',
      noun: 'number',
      // Template reviews: rows a channel synced with its own token carry the template's id; nothing else is touched.
      // One approved that no channel has yet is fetched by a sync of the channels on that account.
      async beforeIngest(hub, split) {
        for (const u of split.templateStatuses)
          if (!(await applyTemplateStatus(hub.db, { wabaId: u.wabaId, templateId: u.templateId, status: u.status, reason: u.reason })) && u.status === 'APPROVED' && (await queueTemplateSyncs(hub.db, u.wabaId))) hub.runner.kick();
      },
    },
    toWebhookRequest,
  );
}
