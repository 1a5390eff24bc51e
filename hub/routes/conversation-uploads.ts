import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DEFAULT_UPLOAD_TYPES, MAX_UPLOAD_NAME_LENGTH, UploadRejected, checkUpload, checkUploadSize, mediaType, type UploadPolicy } from '../../connectors/webchat/uploads.js';
import { getConversation } from '../../storage/repositories/conversations.js';
import { insertUpload } from '../../storage/repositories/uploads.js';
import { withAccount } from '../../storage/session.js';
import { HubError, notFound } from '../errors.js';
import { IdParams, Uuid } from '../schemas.js';
import { uploaderOf } from '../services/conversations.js';
import { actorOf } from './conversations.js';

/** What an agent may attach to a reply: the types whose bytes the hub can check (images, PDF, text, CSV), up to 20 MB. */
export const AGENT_UPLOAD_POLICY: UploadPolicy = { maxBytes: 20 * 1024 * 1024, types: DEFAULT_UPLOAD_TYPES };

/** Channels whose connector cannot send a file yet: refused at upload, before any byte is kept. */

const rejected = (err: unknown) => (err instanceof UploadRejected ? new HubError(err.status, err.code, err.message) : err);

/**
 * An agent's file for a reply: the raw file as the body (its type in Content-Type, its name in `?name=`),
 * kept in the blob store and the `uploads` table until a reply names it in `uploadIds`; one the agent
 * never sends is swept like a visitor's. Its own scope, so only this route reads raw bodies.
 */
const conversationUploads: FastifyPluginAsyncTypebox = async (app) => {
  const { hub } = app;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: AGENT_UPLOAD_POLICY.maxBytes }, (_req, body, done) => done(null, body));

  app.post('/conversations/:id/uploads', {
    onRequest: app.authorize('agent', { allowEmbed: true }),
    bodyLimit: AGENT_UPLOAD_POLICY.maxBytes,
    schema: {
      tags: ['conversations'],
      summary: 'Upload a file for a later reply in this conversation (send it with `uploadIds` on the reply)',
      description: `The body is the file itself. Allowed: ${DEFAULT_UPLOAD_TYPES.join(', ')} (checked against the file's first bytes), at most 20 MB. Refused: 413 \`upload_too_large\`, 415 \`upload_type_not_allowed\` / \`upload_content_mismatch\`, 400 \`upload_empty\` / \`upload_name_invalid\`.`,
      params: IdParams,
      querystring: Type.Object({ name: Type.String({ minLength: 1, maxLength: MAX_UPLOAD_NAME_LENGTH }) }),
      response: { 201: Type.Object({ id: Uuid, name: Type.String(), mimeType: Type.String(), size: Type.Integer(), kind: Type.Union([Type.Literal('image'), Type.Literal('file')]) }) },
    },
    // Before the body is read: a declared size that cannot fit is refused at once.
    preParsing: async (req) => {
      const declared = Number(req.headers['content-length']);
      try {
        if (Number.isFinite(declared)) checkUploadSize(AGENT_UPLOAD_POLICY, declared);
      } catch (err) {
        throw rejected(err);
      }
    },
  }, async (req, reply) => {
    const actor = actorOf(req);
    const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const mimeType = mediaType(req.headers['content-type']);
    const conversation = await withAccount(hub.db, actor.accountId, (tx) => getConversation(tx, req.params.id));
    if (!conversation) throw notFound('conversation');
    let checked: ReturnType<typeof checkUpload>;
    try {
      checked = checkUpload(AGENT_UPLOAD_POLICY, { name: req.query.name, mimeType, bytes });
    } catch (err) {
      throw rejected(err);
    }
    const blobKey = await hub.blobs.put(bytes);
    const { id } = await withAccount(hub.db, actor.accountId, (tx) =>
      insertUpload(tx, { accountId: actor.accountId, channelId: conversation.channelId, uploader: uploaderOf(actor), name: checked.name, mimeType, size: bytes.length, blobKey, byAgent: true }));
    return reply.status(201).send({ id, name: checked.name, mimeType, size: bytes.length, kind: checked.kind === 'image' ? 'image' : 'file' });
  });
};

export default conversationUploads;
