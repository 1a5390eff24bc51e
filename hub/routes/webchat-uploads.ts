import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest, RouteShorthandOptions } from 'fastify';
import { Type } from 'typebox';
import type { ChannelInstallation } from '../../connectors/core/types.js';
import { visitorTokenOf } from '../../connectors/webchat/connector.js';
import { verifyAttachmentLink, type VisitorClaims } from '../../connectors/webchat/tokens.js';
import {
  MAX_UPLOAD_NAME_LENGTH,
  UPLOAD_MAX_BYTES_CEILING,
  UploadRejected,
  checkUpload,
  checkUploadSize,
  mediaType,
  uploadPolicy,
  DEFAULT_UPLOAD_TYPES,
} from '../../connectors/webchat/uploads.js';
import { withAccount } from '../../storage/session.js';
import { findPublicAttachment, insertUpload } from '../../storage/repositories/uploads.js';
import { HubError, notFound } from '../errors.js';
import { clientAddress } from '../plugins/rate-limit.js';
import { UploadQuotas, addressKey, type Uploader } from '../services/upload-quota.js';
import { Uuid } from '../schemas.js';
import { findVisitorConversation } from './webchat-visitor.js';
import { displayName } from '../../connectors/core/text.js';

export interface WebchatUploadOptions {
  channelOf(req: FastifyRequest): ChannelInstallation;
  authenticate(channel: ChannelInstallation, token: string | undefined, visitorId: string | undefined): VisitorClaims;
  limitPerVisitor: RouteShorthandOptions['config'];
}

const WidgetParams = Type.Object({ widgetId: Type.String({ minLength: 1, maxLength: 200 }) });

const rejected = (err: unknown) => (err instanceof UploadRejected ? new HubError(err.status, err.code, err.message) : err);

/** `filename*` carries the real name; the quoted ASCII one is for old clients. */
const contentDisposition = (stored: string, name = displayName(stored)) =>
  `attachment; filename="${name.replace(/[^\w .()-]/gu, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`;

/**
 * Visitor files: an upload is the raw file as the request body (its type in Content-Type, its name
 * in `?name=`), kept in the blob store until a message names it; a download is a signed link to an
 * attachment of the visitor's own conversation. Registered inside the webchat plugin, so the channel,
 * CORS and address limit are already settled.
 */
const webchatUploads: FastifyPluginAsyncTypebox<WebchatUploadOptions> = async (app, { channelOf, authenticate, limitPerVisitor }) => {
  const { hub } = app;
  const quotas = new UploadQuotas(hub.db, hub.config.uploadQuota);
  const uploaderOf = (req: FastifyRequest, channel: ChannelInstallation, visitorId: string): Uploader => ({
    accountId: channel.accountId,
    channelId: channel.id,
    visitorId,
    address: addressKey(hub.config.secretKey, clientAddress(req)),
  });
  // Only this plugin reads raw bodies, of any type; the rest of /webchat stays JSON-only.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: UPLOAD_MAX_BYTES_CEILING }, (_req, body, done) => done(null, body));

  app.post('/:widgetId/uploads', {
    config: limitPerVisitor,
    bodyLimit: UPLOAD_MAX_BYTES_CEILING,
    schema: {
      tags: ['webchat'],
      summary: 'Upload a file for a later visitor message',
      description: `The body is the file itself. Allowed by default: ${DEFAULT_UPLOAD_TYPES.join(', ')}; at most 10 MB unless the channel sets \`config.uploads\`. Bytes per visitor, address and channel are limited over a rolling window (HUMMDESK_UPLOAD_QUOTA_*): 429 \`upload_quota_exceeded\`.`,
      security: [],
      params: WidgetParams,
      querystring: Type.Object({ name: Type.String({ minLength: 1, maxLength: MAX_UPLOAD_NAME_LENGTH }) }),
      response: { 201: Type.Object({ id: Uuid, name: Type.String(), mimeType: Type.String(), size: Type.Integer() }) },
    },
    // Before the body is read: who is asking, and whether the declared size can fit at all.
    preParsing: async (req) => {
      const channel = channelOf(req);
      const claims = authenticate(channel, visitorTokenOf({ headers: req.headers as Record<string, string> }), req.headers['x-visitor-id'] as string | undefined);
      const declared = Number(req.headers['content-length']);
      try {
        if (Number.isFinite(declared)) checkUploadSize(uploadPolicy(channel.config), declared);
      } catch (err) {
        throw rejected(err);
      }
      await quotas.check(uploaderOf(req, channel, claims.visitorId), Number.isFinite(declared) ? declared : 0);
    },
  }, async (req, reply) => {
    const channel = channelOf(req);
    const claims = authenticate(channel, visitorTokenOf({ headers: req.headers as Record<string, string> }), req.headers['x-visitor-id'] as string | undefined);
    const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const mimeType = mediaType(req.headers['content-type']);
    let checked: ReturnType<typeof checkUpload>;
    try {
      checked = checkUpload(uploadPolicy(channel.config), { name: req.query.name, mimeType, bytes });
    } catch (err) {
      throw rejected(err);
    }
    const uploader = uploaderOf(req, channel, claims.visitorId);
    // Counted and stored under the quota locks; bytes are written only once they fit.
    const { id } = await quotas.within(uploader, bytes.length, async (tx) => {
      const blobKey = await hub.blobs.put(bytes);
      return insertUpload(tx, { accountId: channel.accountId, channelId: channel.id, uploader: claims.visitorId, name: checked.name, mimeType, size: bytes.length, blobKey, uploaderAddress: uploader.address });
    });
    return reply.status(201).send({ id, name: checked.name, mimeType, size: bytes.length });
  });

  app.get('/:widgetId/attachments/:attachmentId', {
    config: limitPerVisitor,
    schema: {
      tags: ['webchat'],
      summary: "Download an attachment of the visitor's conversation through a signed link from the history",
      security: [],
      params: Type.Object({ widgetId: Type.String({ minLength: 1, maxLength: 200 }), attachmentId: Uuid }),
      querystring: Type.Object({ visitorId: Type.String({ minLength: 1, maxLength: 300 }), expires: Type.Integer(), sig: Type.String({ maxLength: 100 }) }),
    },
  }, async (req, reply) => {
    const channel = channelOf(req);
    const { visitorId, expires, sig } = req.query;
    const { attachmentId } = req.params;
    if (!verifyAttachmentLink(channel.secrets.sessionSecret, channel.id, { visitorId, attachmentId, expires, signature: sig }))
      throw new HubError(403, 'attachment_link_invalid', 'this download link is invalid or has expired');
    const found = await withAccount(hub.db, channel.accountId, async (tx) => {
      const conversationId = await findVisitorConversation(tx, channel, visitorId);
      return conversationId ? findPublicAttachment(tx, conversationId, attachmentId) : undefined;
    });
    if (!found) throw notFound('attachment');
    const bytes = await hub.blobs.get(found.blobKey);
    // Agents may attach any type: only the visitor-safe ones keep their type, and nothing renders in the hub's origin.
    const type = found.mimeType && DEFAULT_UPLOAD_TYPES.includes(found.mimeType) ? found.mimeType : 'application/octet-stream';
    return reply
      .headers({
        'content-type': type,
        'content-disposition': contentDisposition(found.name ?? 'attachment'),
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'none'; sandbox",
        'cache-control': 'private, max-age=3600',
      })
      .send(bytes);
  });
};

export default webchatUploads;
