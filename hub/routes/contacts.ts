import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { withAccount } from '../../storage/session.js';
import { getContact, listContacts, updateContact } from '../../storage/repositories/contacts.js';
import { audit } from '../../storage/repositories/audit.js';
import { notFound } from '../errors.js';
import { IdParams, Nullable, Page, Uuid, decodeCursor, encodeCursor } from '../schemas.js';
import { actorOf } from './conversations.js';

/*
 * RBAC                                   viewer  agent  admin  owner   (API keys act as their role)
 * GET    /contacts, /contacts/:id           ✓      ✓      ✓      ✓
 * PATCH  /contacts/:id                      ✗      ✓      ✓      ✓
 */

const Contact = Type.Object({
  id: Uuid,
  name: Nullable(Type.String()),
  email: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.Any(),
});

const Identity = Type.Object({
  channelId: Uuid,
  externalId: Type.String(),
  displayName: Nullable(Type.String()),
  address: Nullable(Type.String()),
  verified: Type.Boolean(),
});

const contacts: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.hub;

  app.get('/contacts', {
    onRequest: app.authorize('viewer'),
    schema: {
      tags: ['contacts'],
      querystring: Type.Object({
        q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'matches name, email or phone' })),
        limit: Type.Integer({ minimum: 1, maximum: 100, default: 25 }),
        cursor: Type.Optional(Type.String({ maxLength: 500 })),
      }),
      response: { 200: Page(Contact) },
    },
  }, async (req) => {
    const { q, limit, cursor } = req.query;
    const after = decodeCursor<{ id: string }>(cursor, ['id']);
    const rows = await withAccount(db, req.principal.accountId, (tx) => listContacts(tx, { query: q, limit: limit + 1, after: after?.id }));
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor({ id: last.id }) : null };
  });

  app.get('/contacts/:id', {
    onRequest: app.authorize('viewer'),
    schema: { tags: ['contacts'], params: IdParams, response: { 200: Type.Intersect([Contact, Type.Object({ identities: Type.Array(Identity) })]) } },
  }, async (req) => {
    const contact = await withAccount(db, req.principal.accountId, (tx) => getContact(tx, req.params.id));
    if (!contact) throw notFound('contact');
    return contact as typeof contact & { identities: { channelId: string; externalId: string; displayName: string | null; address: string | null; verified: boolean }[] };
  });

  app.patch('/contacts/:id', {
    onRequest: app.authorize('agent'),
    schema: {
      tags: ['contacts'],
      params: IdParams,
      body: Type.Object({
        name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        email: Type.Optional(Type.String({ format: 'email', maxLength: 320 })),
        phone: Type.Optional(Type.String({ minLength: 3, maxLength: 40 })),
        metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      }, { additionalProperties: false }),
      response: { 200: Contact },
    },
  }, async (req) => {
    const actor = actorOf(req);
    return withAccount(db, actor.accountId, async (tx) => {
      const contact = await updateContact(tx, req.params.id, req.body);
      if (!contact) throw notFound('contact');
      await audit(tx, { accountId: actor.accountId, actorKind: actor.kind, actorId: actor.id, action: 'contact.updated', targetKind: 'contact', targetId: contact.id, data: { fields: Object.keys(req.body) } });
      return contact;
    });
  });
};

export default contacts;
