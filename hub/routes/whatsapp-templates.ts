import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AuthError, ConnectorError, RateLimitError, TransientError } from '../../connectors/core/errors.js';
import type { WhatsAppConnector } from '../../connectors/whatsapp/connector.js';
import { renderTemplateBody } from '../../connectors/whatsapp/outbound.js';
import { withAccount } from '../../storage/session.js';
import { getInstallation } from '../../storage/repositories/channels.js';
import { getConversation } from '../../storage/repositories/conversations.js';
import { findTemplate, listTemplates } from '../../storage/repositories/whatsapp-templates.js';
import { syncWhatsAppTemplates } from '../services/whatsapp-templates.js';
import { audit } from '../../storage/repositories/audit.js';
import { errorResponse } from '../plugins/error-responses.js';
import { HubError, badRequest, notFound } from '../errors.js';
import { IdParams, Message, Nullable, Uuid } from '../schemas.js';
import { actorOf } from './conversations.js';

/*
 * RBAC                                      viewer  agent  admin  owner   (API keys act as their role)
 * GET    /channels/:id/templates               ✓      ✓      ✓      ✓
 * POST   /channels/:id/templates/sync          ✗      ✗      ✓      ✓
 * POST   /conversations/:id/template           ✗      ✓      ✓      ✓
 * WhatsApp message templates: synced from the number's business account (approved only), kept current
 * by Meta's status webhooks, and the one kind of message WhatsApp delivers outside the 24-hour window.
 */

const Template = Type.Object({
  id: Uuid,
  channelId: Uuid,
  templateId: Type.String({ description: "Meta's template id" }),
  name: Type.String(),
  language: Type.String({ description: 'the language code as Meta writes it (en_US, fi)' }),
  category: Nullable(Type.String()),
  status: Type.String({ description: 'APPROVED when synced; a status webhook may change it (PAUSED, DISABLED, REJECTED…), and only APPROVED ones can be sent' }),
  statusReason: Nullable(Type.String()),
  body: Type.String({ description: 'the body text with its {{1}} … placeholders' }),
  params: Type.Integer({ description: 'how many variables the body takes' }),
  syncedAt: Type.Any(),
  updatedAt: Type.Any(),
});

const whatsappTemplates: FastifyPluginAsyncTypebox = async (app) => {
  const { db, box } = app.hub;

  app.get('/channels/:id/templates', {
    onRequest: app.authorize('viewer', { allowEmbed: true }),
    schema: { tags: ['channels'], summary: "A WhatsApp channel's message templates as last synced (other channels have none)", params: IdParams, response: { 200: Type.Object({ items: Type.Array(Template) }) } },
  }, async (req) => withAccount(db, req.principal.accountId, async (tx) => {
    const channel = await tx.query(`SELECT 1 FROM channels WHERE id = $1`, [req.params.id]);
    if (!channel.rowCount) throw notFound('channel');
    return { items: await listTemplates(tx, req.params.id) };
  }));

  app.post('/channels/:id/templates/sync', {
    onRequest: app.authorize('admin'),
    schema: {
      tags: ['channels'],
      summary: "Reads the number's approved templates from its WhatsApp Business Account (`businessAccountId`, kept on the channel once the token could read it) and stores them",
      params: IdParams,
      body: Type.Object({ businessAccountId: Type.Optional(Type.String({ pattern: '^[0-9]{5,32}$', description: 'the WhatsApp Business Account id (WhatsApp Manager → Account tools); needed once' })) }, { additionalProperties: false }),
      response: {
        200: Type.Object({ synced: Type.Integer(), items: Type.Array(Template) }),
        502: errorResponse(502, ['channel_unavailable', 'channel_rate_limited']),
      },
    },
  }, async (req) => {
    const { accountId } = req.principal;
    const channel = await withAccount(db, accountId, (tx) => getInstallation(tx, box, req.params.id));
    if (!channel) throw notFound('channel');
    if (channel.kind !== 'whatsapp') throw badRequest('templates_not_supported', `${channel.kind} channels have no message templates; templates are WhatsApp's`);
    const wabaId = req.body.businessAccountId ?? (typeof channel.config.businessAccountId === 'string' ? channel.config.businessAccountId : undefined);
    if (!wabaId) throw badRequest('whatsapp_business_account_id_required', 'give businessAccountId (the WhatsApp Business Account id of this number) once; it is kept on the channel');
    const connector = app.hub.connectors.get('whatsapp') as WhatsAppConnector | undefined;
    if (!connector) throw badRequest('connector_not_installed', 'the whatsapp connector is not enabled on this hub');
    let synced: number;
    try {
      synced = await syncWhatsAppTemplates(db, connector, channel, wabaId);
    } catch (err) {
      if (err instanceof RateLimitError || err instanceof TransientError) throw new HubError(502, err instanceof RateLimitError ? 'channel_rate_limited' : 'channel_unavailable', `the Graph API did not answer: ${err.message}`);
      if (err instanceof AuthError) throw badRequest('channel_auth_failed', "the channel's token may not read this business account's templates");
      if (err instanceof ConnectorError) throw badRequest(err.code, err.message);
      throw err;
    }
    return withAccount(db, accountId, async (tx) => {
      await audit(tx, { accountId, actorKind: actorOf(req).kind, actorId: actorOf(req).id, action: 'channel.templates_synced', targetKind: 'channel', targetId: channel.id, data: { synced } });
      return { synced, items: await listTemplates(tx, channel.id) };
    });
  });

  app.post('/conversations/:id/template', {
    onRequest: app.authorize('agent', { allowEmbed: true }),
    schema: {
      tags: ['conversations'],
      summary: 'Send an approved WhatsApp template (the only message WhatsApp delivers outside the 24-hour window); its variables are checked (count, one line, ≤ 1,024 characters) before anything is stored or sent',
      params: IdParams,
      body: Type.Object({
        name: Type.String({ minLength: 1, maxLength: 512 }),
        language: Type.String({ minLength: 2, maxLength: 15 }),
        variables: Type.Array(Type.String({ maxLength: 5000 }), { maxItems: 100, default: [], description: 'the body variables {{1}}, {{2}} … in order' }),
      }, { additionalProperties: false }),
      response: { 202: Message },
    },
  }, async (req, reply) => {
    const { name, language, variables } = req.body;
    const body = await withAccount(db, req.principal.accountId, async (tx) => {
      const conversation = await getConversation(tx, req.params.id);
      if (!conversation) throw notFound('conversation');
      if (conversation.channelKind !== 'whatsapp') throw badRequest('templates_not_supported', `${conversation.channelKind} conversations have no message templates; templates are WhatsApp's`);
      return (await findTemplate(tx, conversation.channelId, name, language))?.body;
    });
    // An unknown template is refused with its code by the reply's own checks; the stored text is what the customer reads.
    const message = await app.hub.conversations.reply(actorOf(req), req.params.id, { text: renderTemplateBody(body ?? name, variables), rich: { template: { name, language, variables } } });
    return reply.status(202).send(message);
  });
};

export default whatsappTemplates;
