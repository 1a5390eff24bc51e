import type { Queryable } from '../database.js';

export interface ContactRow {
  id: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  metadata: Record<string, unknown>;
  createdAt: string;
}

const COLUMNS = `id, name, email, phone, metadata, created_at AS "createdAt"`;

export interface IdentityInput {
  accountId: string;
  channelId: string;
  externalId: string;
  displayName?: string;
  address?: string;
  /** Only a verified identity may attach to an existing contact found by email. */
  verified: boolean;
  email?: string;
  phone?: string;
}

/** Contact identity for (channel, external id), creating contact and identity once; safe under races. */
export async function resolveContactIdentity(tx: Queryable, input: IdentityInput): Promise<{ contactId: string; created: boolean }> {
  const existing = await tx.query<{ contactId: string }>(
    `SELECT contact_id AS "contactId" FROM contact_identities WHERE channel_id = $1 AND external_id = $2`,
    [input.channelId, input.externalId],
  );
  if (existing.rows[0]) return { contactId: existing.rows[0].contactId, created: false };

  let contactId: string | undefined;
  let createdContact = false;
  if (input.verified && input.email) {
    const match = await tx.query<{ id: string }>(
      `SELECT id FROM contacts WHERE lower(email) = lower($1) ORDER BY created_at LIMIT 1`,
      [input.email],
    );
    contactId = match.rows[0]?.id;
  }
  if (!contactId) {
    // An unverified visitor's claimed email is kept on the identity only, never on a shared contact.
    const email = input.verified ? input.email ?? null : null;
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO contacts (account_id, name, email, phone) VALUES ($1, $2, $3, $4) RETURNING id`,
      [input.accountId, input.displayName ?? null, email, input.phone ?? null],
    );
    contactId = rows[0]!.id;
    createdContact = true;
  }
  const inserted = await tx.query<{ contactId: string }>(
    `INSERT INTO contact_identities (account_id, channel_id, contact_id, external_id, display_name, address, verified)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (channel_id, external_id) DO NOTHING RETURNING contact_id AS "contactId"`,
    [input.accountId, input.channelId, contactId, input.externalId, input.displayName ?? null, input.address ?? null, input.verified],
  );
  if (inserted.rows[0]) return { contactId, created: true };
  // Lost a race with a concurrent transaction: its identity wins and our fresh contact goes.
  if (createdContact) await tx.query(`DELETE FROM contacts WHERE id = $1`, [contactId]);
  const winner = await tx.query<{ contactId: string }>(
    `SELECT contact_id AS "contactId" FROM contact_identities WHERE channel_id = $1 AND external_id = $2`,
    [input.channelId, input.externalId],
  );
  return { contactId: winner.rows[0]!.contactId, created: false };
}

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
    [id, patch.name ?? null, patch.email ?? null, patch.phone ?? null, patch.metadata ?? null],
  );
  return rows[0];
}
