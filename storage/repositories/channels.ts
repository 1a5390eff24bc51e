import type { ChannelInstallation, ChannelKind } from '../../connectors/core/types.js';
import type { Queryable } from '../database.js';
import type { SecretBox } from '../secret-box.js';

export interface ChannelRow {
  id: string;
  accountId: string;
  kind: ChannelKind;
  name: string;
  externalKey: string;
  config: Record<string, unknown>;
  teamId: string | null;
  enabled: boolean;
  createdAt: string;
}

const COLUMNS = `id, account_id AS "accountId", kind, name, external_key AS "externalKey", config,
  team_id AS "teamId", enabled, created_at AS "createdAt"`;

export async function listChannels(tx: Queryable): Promise<ChannelRow[]> {
  return (await tx.query<ChannelRow>(`SELECT ${COLUMNS} FROM channels ORDER BY created_at`)).rows;
}

export async function getChannel(tx: Queryable, id: string): Promise<ChannelRow | undefined> {
  return (await tx.query<ChannelRow>(`SELECT ${COLUMNS} FROM channels WHERE id = $1`, [id])).rows[0];
}

export async function insertChannel(
  tx: Queryable,
  box: SecretBox,
  c: { accountId: string; kind: ChannelKind; name: string; externalKey: string; config?: Record<string, unknown>; secrets?: Record<string, string>; teamId?: string | null },
): Promise<ChannelRow> {
  const { rows } = await tx.query<ChannelRow>(
    `INSERT INTO channels (account_id, kind, name, external_key, config, secrets_enc, team_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
    [c.accountId, c.kind, c.name, c.externalKey, c.config ?? {}, c.secrets ? box.seal(c.secrets) : null, c.teamId ?? null],
  );
  return rows[0]!;
}

export async function updateChannel(
  tx: Queryable,
  box: SecretBox,
  id: string,
  patch: { name?: string; config?: Record<string, unknown>; secrets?: Record<string, string>; teamId?: string | null; enabled?: boolean },
): Promise<ChannelRow | undefined> {
  const { rows } = await tx.query<ChannelRow>(
    `UPDATE channels SET name = coalesce($2, name), config = coalesce($3, config),
       secrets_enc = coalesce($4, secrets_enc), team_id = CASE WHEN $5::boolean THEN $6::uuid ELSE team_id END,
       enabled = coalesce($7, enabled)
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, patch.name ?? null, patch.config ?? null, patch.secrets ? box.seal(patch.secrets) : null,
      patch.teamId !== undefined, patch.teamId ?? null, patch.enabled ?? null],
  );
  return rows[0];
}

/**
 * Finds an installation from a webhook payload key before any tenant is known; the only
 * channel read that runs without a tenant, and it returns one row by an exact unique key.
 */
export async function findInstallation(
  db: Queryable,
  box: SecretBox,
  by: { kind: ChannelKind; externalKey?: string; id?: string },
): Promise<ChannelInstallation | undefined> {
  // A mailbox address is unique only within its account (migration 111): email is found by channel id.
  if (by.kind === 'email' && !by.id) return undefined;
  const { rows } = await db.query<ChannelRow & { secretsEnc: string | null }>(
    `SELECT ${COLUMNS}, secrets_enc AS "secretsEnc" FROM channels
     WHERE kind = $1 AND enabled AND (($2::text IS NOT NULL AND external_key = $2) OR ($3::uuid IS NOT NULL AND id = $3))`,
    [by.kind, by.externalKey ?? null, by.id ?? null],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { id: row.id, accountId: row.accountId, kind: row.kind, externalKey: row.externalKey, teamId: row.teamId, config: row.config, secrets: box.open(row.secretsEnc) };
}

/** The installation with secrets, inside a tenant transaction (delivery worker). */
export async function getInstallation(tx: Queryable, box: SecretBox, id: string): Promise<ChannelInstallation | undefined> {
  const { rows } = await tx.query<ChannelRow & { secretsEnc: string | null }>(
    `SELECT ${COLUMNS}, secrets_enc AS "secretsEnc" FROM channels WHERE id = $1`,
    [id],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { id: row.id, accountId: row.accountId, kind: row.kind, externalKey: row.externalKey, teamId: row.teamId, config: row.config, secrets: box.open(row.secretsEnc) };
}
