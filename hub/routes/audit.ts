import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { withAccount } from '../../storage/session.js';
import { listAuditEntries } from '../../storage/repositories/audit-log.js';
import { badRequest } from '../errors.js';
import { Nullable, Page, decodeCursor, encodeCursor } from '../schemas.js';

/*
 * RBAC                                   viewer  agent  admin  owner   (API keys act as their role)
 * GET    /audit                             ✗      ✗      ✓      ✓
 */

const AuditEntry = Type.Object({
  id: Type.String(),
  actorKind: Type.String(),
  actorId: Nullable(Type.String()),
  action: Type.String(),
  targetKind: Nullable(Type.String()),
  targetId: Nullable(Type.String()),
  data: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.Any(),
});

const audit: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/audit', {
    onRequest: app.authorize('admin'),
    schema: {
      tags: ['audit'],
      summary: 'Who changed what, newest first',
      querystring: Type.Object({
        action: Type.Optional(Type.String({ maxLength: 100 })),
        targetKind: Type.Optional(Type.String({ maxLength: 100 })),
        targetId: Type.Optional(Type.String({ maxLength: 100 })),
        limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
        cursor: Type.Optional(Type.String({ maxLength: 500 })),
      }),
      response: { 200: Page(AuditEntry) },
    },
  }, async (req) => {
    const { limit, cursor, ...filter } = req.query;
    const before = decodeCursor<{ id: string }>(cursor, ['id']);
    if (before && !/^\d{1,19}$/.test(before.id)) throw badRequest('invalid_cursor', 'cursor is not valid');
    const rows = await withAccount(app.hub.db, req.principal.accountId, (tx) => listAuditEntries(tx, { ...filter, beforeId: before?.id, limit: limit + 1 }));
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor({ id: last.id }) : null };
  });
};

export default audit;
