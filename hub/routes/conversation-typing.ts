import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { withAccount } from '../../storage/session.js';
import { notFound } from '../errors.js';
import { IdParams } from '../schemas.js';

/** No body (as older callers send) means typing; `stopped` ends the "… is typing" line at once. */
const TypingBody = Type.Union([
  Type.Object({ stopped: Type.Optional(Type.Boolean({ description: 'The agent stopped typing (switched to a note, cleared the reply, left)' })) }, { additionalProperties: false }),
  Type.Null(),
]);

/** An agent is typing a reply: the visitor's widget (and other agents) see it live; nothing is stored. */
const conversationTyping: FastifyPluginAsyncTypebox = async (app) => {
  const { hub } = app;
  app.post('/conversations/:id/typing', {
    onRequest: app.authorize('agent', { allowEmbed: true }),
    schema: {
      tags: ['conversations'],
      summary: 'Tell the customer an agent is typing (send every few seconds while typing), or `{ "stopped": true }` that they stopped',
      params: IdParams,
      body: TypingBody,
      response: { 204: Type.Null() },
    },
  }, async (req, reply) => {
    const { accountId, userId } = req.principal;
    const name = await withAccount(hub.db, accountId, async (tx) => {
      const { rows } = await tx.query(`SELECT 1 FROM conversations WHERE id = $1`, [req.params.id]);
      if (!rows.length) throw notFound('conversation');
      return userId ? ((await tx.query<{ name: string }>(`SELECT name FROM users WHERE id = $1`, [userId])).rows[0]?.name ?? null) : null;
    });
    const stopped = req.body?.stopped === true;
    hub.bus.publish(accountId, { type: 'typing', conversationId: req.params.id, by: 'agent', name, ...(stopped ? { stopped } : {}) });
    return reply.status(204).send(null);
  });
};

export default conversationTyping;
