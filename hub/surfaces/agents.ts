import type { Queryable } from '../../storage/database.js';
import type { Actor } from '../services/conversations.js';

/**
 * Agent linking, keyed by surface: which HummDesk user a Slack user id (users.slack_user_id) or a Teams
 * user's Entra (AAD) object id (users.teams_user_id) is. Viewers are never linked agents: they may look,
 * not act. Every call runs inside a tenant transaction.
 */

export type AgentSurface = 'slack' | 'teams';

export interface LinkedUser {
  id: string;
  name: string;
}

export interface Agent {
  actor: Actor;
  name: string;
}

const COLUMN: Record<AgentSurface, string> = { slack: 'slack_user_id', teams: 'teams_user_id' };

export const toAgent = (accountId: string, u: LinkedUser): Agent => ({ actor: { accountId, kind: 'user', id: u.id }, name: u.name });

/** The HummDesk user (not a viewer) linked to a surface user, if any. */
export async function linkedUser(tx: Queryable, surface: AgentSurface, surfaceUserId: string): Promise<LinkedUser | undefined> {
  if (!surfaceUserId) return undefined;
  return (await tx.query<LinkedUser>(`SELECT id, name FROM users WHERE ${COLUMN[surface]} = $1 AND role <> 'viewer' ORDER BY created_at LIMIT 1`, [surfaceUserId])).rows[0];
}

/**
 * Links a surface user to the agent with this (confirmed) email, if there is one; the caller has checked
 * that the email belongs to the installation's workspace or tenant. On Teams an existing link (an admin's)
 * is never moved by an email match.
 */
export async function linkByEmail(tx: Queryable, p: { surface: AgentSurface; surfaceUserId: string; email: string }): Promise<LinkedUser | undefined> {
  const col = COLUMN[p.surface];
  const keep = p.surface === 'slack' ? '' : ` AND ${col} IS NULL`;
  const unique = p.surface === 'slack' ? '' : ` AND NOT EXISTS (SELECT 1 FROM users WHERE ${col} = $2)`;
  return (await tx.query<LinkedUser>(
    `UPDATE users SET ${col} = $2 WHERE id = (SELECT id FROM users WHERE lower(email) = lower($1) AND role <> 'viewer'${keep} LIMIT 1)${unique} RETURNING id, name`,
    [p.email, p.surfaceUserId],
  )).rows[0];
}

/** An admin links a surface user to a HummDesk user, taking the surface user from whoever had them. */
export async function linkAgent(tx: Queryable, p: { surface: AgentSurface; surfaceUserId: string; userId: string }): Promise<boolean> {
  const col = COLUMN[p.surface];
  await tx.query(`UPDATE users SET ${col} = NULL WHERE ${col} = $1 AND id <> $2`, [p.surfaceUserId, p.userId]);
  const { rowCount } = await tx.query(`UPDATE users SET ${col} = $2 WHERE id = $1`, [p.userId, p.surfaceUserId]);
  return rowCount > 0;
}

export async function unlinkAgent(tx: Queryable, surface: AgentSurface, userId: string): Promise<boolean> {
  const { rowCount } = await tx.query(`UPDATE users SET ${COLUMN[surface]} = NULL WHERE id = $1 AND ${COLUMN[surface]} IS NOT NULL`, [userId]);
  return rowCount > 0;
}

/** The surface user ids of linked agents (all, or these HummDesk users): HummDesk user id → surface user id. */
export async function surfaceUserIds(tx: Queryable, surface: AgentSurface, userIds?: string[]): Promise<Map<string, string>> {
  const col = COLUMN[surface];
  const { rows } = await tx.query<{ userId: string; surfaceUserId: string }>(
    `SELECT id AS "userId", ${col} AS "surfaceUserId" FROM users WHERE ${col} IS NOT NULL AND role <> 'viewer' AND ($1::uuid[] IS NULL OR id = ANY($1::uuid[])) ORDER BY created_at`,
    [userIds ?? null],
  );
  return new Map(rows.map((r) => [r.userId, r.surfaceUserId]));
}
