import { randomBytes } from 'node:crypto';
import type { Database } from '../../storage/database.js';
import { withAccount } from '../../storage/session.js';
import { insertUser } from '../../storage/repositories/users.js';
import { HubError } from '../errors.js';
import { createApiKey, hashPassword } from './auth.js';

/** Opens a new tenant with its owner; the owner's first password and an admin API key are returned once. */
export async function createAccount(
  db: Database,
  input: { name: string; slug: string; ownerEmail: string; ownerName?: string },
): Promise<{ accountId: string; ownerPassword: string; apiKey: string }> {
  if (!/^[a-z0-9][a-z0-9-]{1,62}$/.test(input.slug)) throw new HubError(400, 'slug_invalid', 'a slug is 2–63 lowercase letters, digits or dashes');
  const taken = await db.query(`SELECT 1 FROM accounts WHERE slug = $1`, [input.slug]);
  if (taken.rowCount) throw new HubError(409, 'account_exists', `an account with slug "${input.slug}" exists`);
  const ownerPassword = randomBytes(12).toString('base64url');
  const passwordHash = await hashPassword(ownerPassword);
  // The account row precedes any tenant, so it is written as the connection's own role.
  const accountId = (await db.query<{ id: string }>(`INSERT INTO accounts (name, slug) VALUES ($1, $2) RETURNING id`, [input.name, input.slug])).rows[0]!.id;
  await withAccount(db, accountId, (tx) => insertUser(tx, { accountId, email: input.ownerEmail, name: input.ownerName ?? input.ownerEmail, role: 'owner', passwordHash }));
  const { key } = await createApiKey(db, accountId, { name: 'initial', role: 'admin' }, { kind: 'system', id: null });
  return { accountId, ownerPassword, apiKey: key };
}
