import type { Queryable } from '../database.js';
import { displayNameOrNull } from '../../connectors/core/text.js';

export interface ContactRow {
  id: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  metadata: Record<string, unknown>;
  createdAt: string;
}

const COLUMNS = `id, name, email, phone, metadata, created_at AS "createdAt"`;

export async function listContacts(tx: Queryable, opts: { query?: string; limit: number; after?: string }): Promise<ContactRow[]> {
  const { rows } = await tx.query<ContactRow>(
    `SELECT ${COLUMNS} FROM contacts
     WHERE ($1::text IS NULL OR name ILIKE '%' || $1 || '%' OR email ILIKE '%' || $1 || '%' OR phone ILIKE '%' || $1 || '%')
       AND ($2::uuid IS NULL OR id > $2)
     ORDER BY id LIMIT $3`,
    [opts.query ?? null, opts.after ?? null, opts.limit],
  );
  return rows;
}

export async function getContact(tx: Queryable, id: string): Promise<(ContactRow & { identities: unknown[] }) | undefined> {
  const { rows } = await tx.query<ContactRow & { identities: unknown[] }>(
    `SELECT ${COLUMNS}, coalesce((SELECT json_agg(json_build_object('channelId', i.channel_id, 'externalId', i.external_id,
        'displayName', i.display_name, 'address', i.address, 'verified', i.verified) ORDER BY i.created_at)
       FROM contact_identities i WHERE i.contact_id = contacts.id), '[]') AS identities
     FROM contacts WHERE id = $1`,
    [id],
  );
  return rows[0];
}

export async function updateContact(
  tx: Queryable,
  id: string,
  patch: { name?: string; email?: string; phone?: string; metadata?: Record<string, unknown> },
): Promise<ContactRow | undefined> {
  const { rows } = await tx.query<ContactRow>(
    `UPDATE contacts SET name = coalesce($2, name), email = coalesce($3, email), phone = coalesce($4, phone),
       metadata = coalesce($5, metadata) WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, displayNameOrNull(patch.name) ?? null, patch.email ?? null, patch.phone ?? null, patch.metadata ?? null],
  );
  return rows[0];
}
