import type { Queryable } from '../database.js';

export interface TeamRow {
  id: string;
  name: string;
  settings: Record<string, unknown>;
  memberIds: string[];
  createdAt: string;
}

const COLUMNS = `t.id, t.name, t.settings, t.created_at AS "createdAt",
  coalesce((SELECT array_agg(m.user_id ORDER BY m.user_id) FROM team_members m WHERE m.team_id = t.id), '{}') AS "memberIds"`;

export async function listTeams(tx: Queryable): Promise<TeamRow[]> {
  return (await tx.query<TeamRow>(`SELECT ${COLUMNS} FROM teams t ORDER BY t.name, t.id`)).rows;
}

export async function getTeam(tx: Queryable, id: string): Promise<TeamRow | undefined> {
  return (await tx.query<TeamRow>(`SELECT ${COLUMNS} FROM teams t WHERE t.id = $1`, [id])).rows[0];
}

export async function insertTeam(tx: Queryable, t: { accountId: string; name: string; settings?: Record<string, unknown> }): Promise<TeamRow> {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO teams (account_id, name, settings) VALUES ($1, $2, $3) RETURNING id`,
    [t.accountId, t.name, t.settings ?? {}],
  );
  return (await getTeam(tx, rows[0]!.id))!;
}

export async function updateTeam(tx: Queryable, id: string, patch: { name?: string; settings?: Record<string, unknown> }): Promise<TeamRow | undefined> {
  const { rowCount } = await tx.query(
    `UPDATE teams SET name = coalesce($2, name), settings = coalesce($3, settings) WHERE id = $1`,
    [id, patch.name ?? null, patch.settings ?? null],
  );
  return rowCount ? getTeam(tx, id) : undefined;
}

export async function deleteTeam(tx: Queryable, id: string): Promise<boolean> {
  return (await tx.query(`DELETE FROM teams WHERE id = $1`, [id])).rowCount > 0;
}

/** Idempotent: adding a member twice keeps one row. */
export async function addTeamMember(tx: Queryable, m: { accountId: string; teamId: string; userId: string }): Promise<void> {
  await tx.query(
    `INSERT INTO team_members (account_id, team_id, user_id) VALUES ($1, $2, $3) ON CONFLICT (team_id, user_id) DO NOTHING`,
    [m.accountId, m.teamId, m.userId],
  );
}

export async function removeTeamMember(tx: Queryable, teamId: string, userId: string): Promise<boolean> {
  return (await tx.query(`DELETE FROM team_members WHERE team_id = $1 AND user_id = $2`, [teamId, userId])).rowCount > 0;
}
