import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AuthError, ConnectorError, RateLimitError, TransientError } from '../../connectors/core/errors.js';
import type { WhatsAppConnector } from '../../connectors/whatsapp/connector.js';
import type { OutboundTemplate, TemplateButtonParam } from '../../connectors/core/types.js';
import { renderTemplateBody, whatsappMediaType } from '../../connectors/whatsapp/outbound.js';
import { pendingUploads } from '../../storage/repositories/uploads.js';
import { uploaderOf } from '../services/conversations.js';
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
      summary: 'Send an approved WhatsApp template (the only message WhatsApp delivers outside the 24-hour window); its parameters are checked against the synced template before anything is stored or sent',
      description: 'Body variables (count, one line, ≤ 1,024 characters), the header (a text variable ≤ 60 characters, or an uploaded image/video/document matching the template\'s header) and button parameters (a quick reply\'s payload, a dynamic link\'s suffix, by button index) are checked against the components last synced. Refusals (400): `whatsapp_template_not_found`, `whatsapp_template_params_mismatch` (with `expected`), `whatsapp_template_variable_invalid`, `whatsapp_template_header_missing`, `whatsapp_template_header_unexpected`, `whatsapp_template_header_format`, `whatsapp_template_button_missing`, `whatsapp_template_button_mismatch`, `whatsapp_template_unsupported`, `upload_unknown`, `templates_not_supported`.',
      params: IdParams,
      body: Type.Object({
        name: Type.String({ minLength: 1, maxLength: 512 }),
        language: Type.String({ minLength: 2, maxLength: 15 }),
        variables: Type.Array(Type.String({ maxLength: 5000 }), { maxItems: 100, default: [], description: 'the body variables {{1}}, {{2}} … in order' }),
        header: Type.Optional(Type.Union([
          Type.Object({ text: Type.String({ maxLength: 5000, description: "the header's variable, for a text header with {{1}}" }) }, { additionalProperties: false }),
          Type.Object({ uploadId: Type.String({ format: 'uuid', description: 'the image, video or document of a media header, uploaded first (POST /conversations/:id/uploads)' }) }, { additionalProperties: false }),
        ])),
        buttons: Type.Optional(Type.Array(Type.Union([
          Type.Object({ index: Type.Integer({ minimum: 0, maximum: 9 }), payload: Type.String({ maxLength: 5000, description: 'what comes back when the customer taps this quick-reply button' }) }, { additionalProperties: false }),
          Type.Object({ index: Type.Integer({ minimum: 0, maximum: 9 }), urlSuffix: Type.String({ maxLength: 5000, description: "the end of this link button's URL (its {{1}})" }) }, { additionalProperties: false }),
        ]), { maxItems: 10, description: "parameters of the template's buttons by their index: a quick reply's payload, a dynamic link's suffix" })),
      }, { additionalProperties: false }),
      response: { 202: Message },
    },
  }, async (req, reply) => {
    const { name, language, variables } = req.body;
    const actor = actorOf(req);
    const found = await withAccount(db, req.principal.accountId, async (tx) => {
      const conversation = await getConversation(tx, req.params.id);
      if (!conversation) throw notFound('conversation');
      if (conversation.channelKind !== 'whatsapp') throw badRequest('templates_not_supported', `${conversation.channelKind} conversations have no message templates; templates are WhatsApp's`);
      const template = await findTemplate(tx, conversation.channelId, name, language);
      const h = req.body.header;
      const upload = h && 'uploadId' in h ? (await pendingUploads(tx, { channelId: conversation.channelId, uploader: uploaderOf(actor), ids: [h.uploadId], byAgent: true }))[0] : undefined;
      if (h && 'uploadId' in h && !upload) throw badRequest('upload_unknown', 'the header file is unknown, was uploaded for another conversation or by someone else, or was already sent');
      return { template, upload };
    });
    const h = req.body.header;
    const header: OutboundTemplate['header'] = !h ? undefined : 'text' in h ? { type: 'text', text: h.text } : { type: mediaHeaderType(found.template?.components, found.upload!.mimeType) };
    const buttons: TemplateButtonParam[] | undefined = req.body.buttons?.map((b) => ('payload' in b ? { index: b.index, subType: 'quick_reply', payload: b.payload } : { index: b.index, subType: 'url', text: b.urlSuffix }));
    const headerText = found.template && header?.type === 'text' ? templateHeaderText(found.template.components, header.text) : undefined;
    const text = renderTemplateBody(found.template?.body ?? name, variables);
    // An unknown template or a mismatch is refused with its code by the reply's own checks; the stored text is what the customer reads.
    const message = await app.hub.conversations.reply(actor, req.params.id, {
      text: headerText ? `${headerText}\n\n${text}` : text,
      ...(found.upload ? { uploadIds: [found.upload.id] } : {}),
      rich: { template: { name, language, variables, ...(header ? { header } : {}), ...(buttons?.length ? { buttons } : {}) } },
    });
    return reply.status(202).send(message);
  });
};

/** A media header's type: the template's own format when it has a media header (the file is checked against it), else what the file would go out as. */
function mediaHeaderType(components: unknown[] | undefined, mimeType: string): 'image' | 'video' | 'document' {
  const header = (components ?? []).find((c): c is { type: string; format?: unknown } => !!c && typeof c === 'object' && String((c as { type?: unknown }).type).toUpperCase() === 'HEADER');
  const format = typeof header?.format === 'string' ? header.format.toLowerCase() : '';
  if (format === 'image' || format === 'video' || format === 'document') return format;
  const type = whatsappMediaType(mimeType);
  return type === 'audio' ? 'document' : type;
}

/** A text header with its variable filled, as the customer reads it. */
function templateHeaderText(components: unknown[], variable: string): string | undefined {
  const header = components.find((c): c is { type: string; text?: unknown } => !!c && typeof c === 'object' && String((c as { type?: unknown }).type).toUpperCase() === 'HEADER');
  return typeof header?.text === 'string' ? renderTemplateBody(header.text, [variable]) : undefined;
}

export default whatsappTemplates;
