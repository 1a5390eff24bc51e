import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { withAccount } from '../../storage/session.js';
import { getConversationAttachment } from '../../storage/repositories/messages.js';
import { HubError, notFound } from '../errors.js';
import { Uuid } from '../schemas.js';
import { checkFileLink, sendAttachment } from '../services/file-links.js';

/** A conversation's file by a signed link (GET /conversations/:id/messages hands them out): images inline, downloads. */
const files: FastifyPluginAsyncTypebox = async (app) => {
  const { db, config, blobs } = app.hub;
  app.get('/files/:accountId/:conversationId/:attachmentId', {
    schema: {
      tags: ['conversations'],
      summary: "A conversation's file by the signed link a message lists (`attachments[].url`); valid one to two hours",
      security: [],
      params: Type.Object({ accountId: Uuid, conversationId: Uuid, attachmentId: Uuid }),
      querystring: Type.Object({ exp: Type.Integer({ minimum: 0 }), sig: Type.String({ minLength: 1, maxLength: 100 }) }),
    },
  }, async (req, reply) => {
    const ref = req.params;
    const check = checkFileLink(config.secretKey, ref, req.query.exp, req.query.sig);
    if (check === 'invalid') throw new HubError(403, 'file_link_invalid', 'this file link is not valid');
    if (check === 'expired') throw new HubError(403, 'file_link_expired', 'this file link expired; reload the conversation for a fresh one');
    const attachment = await withAccount(db, ref.accountId, (tx) => getConversationAttachment(tx, ref.conversationId, ref.attachmentId));
    if (!attachment) throw notFound('attachment');
    if (!attachment.blobKey) throw new HubError(404, 'attachment_not_stored', 'this attachment was too large to keep; only its name and size are known');
    return sendAttachment(reply, attachment, await blobs.get(attachment.blobKey), req.query.exp - Math.floor(Date.now() / 1000));
  });
};

export default files;
