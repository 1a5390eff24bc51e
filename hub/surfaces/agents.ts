import type { Queryable } from '../../storage/database.js';
import type { Actor } from '../services/conversations.js';

/**
 * Agent linking, keyed by surface: which HummDesk user a Slack user id or a Teams user (AAD object id)
 * is. Slack keeps its links in users.slack_user_id; other surfaces in surface_agent_links. Viewers are
 * never linked agents: they may look, not act. Every call runs inside a tenant transaction.
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

export const toAgent = (accountId: string, u: LinkedUser): Agent => ({ actor: { accountId, kind: 'user', id: u.id }, name: u.name });

/** The HummDesk user (not a viewer) linked to a surface user, if any. */
export async function linkedUser(tx: Queryable, surface: AgentSurface, surfaceUserId: string): Promise<LinkedUser | undefined> {
  if (!surfaceUserId) return undefined;
  if (surface === 'slack') {
    return (await tx.query<LinkedUser>(`SELECT id, name FROM users WHERE slack_user_id = $1 AND role <> 'viewer' ORDER BY created_at LIMIT 1`, [surfaceUserId])).rows[0];
  }
  return (await tx.query<LinkedUser>(
    `SELECT u.id, u.name FROM surface_agent_links l JOIN users u ON u.id = l.user_id
     WHERE l.surface = $1 AND l.surface_user_id = $2 AND u.role <> 'viewer'`,
    [surface, surfaceUserId],
  )).rows[0];
}

/** Links a surface user to the agent with this (confirmed) email, if there is one; the caller has checked the email belongs to the installation's workspace or tenant. */
export async function linkByEmail(tx: Queryable, p: { accountId: string; surface: AgentSurface; surfaceUserId: string; email: string }): Promise<LinkedUser | undefined> {
  if (p.surface === 'slack') {
    return (await tx.query<LinkedUser>(
      `UPDATE users SET slack_user_id = $2 WHERE id = (SELECT id FROM users WHERE lower(email) = lower($1) AND role <> 'viewer' LIMIT 1) RETURNING id, name`,
      [p.email, p.surfaceUserId],
    )).rows[0];
  }
  const user = (await tx.query<LinkedUser>(`SELECT id, name FROM users WHERE lower(email) = lower($1) AND role <> 'viewer' ORDER BY created_at LIMIT 1`, [p.email])).rows[0];
  if (!user) return undefined;
  // A link an admin made is never replaced by an email match.
  const { rows } = await tx.query(
    `INSERT INTO surface_agent_links (account_id, surface, surface_user_id, user_id, linked_by) VALUES ($1, $2, $3, $4, 'email')
     ON CONFLICT DO NOTHING RETURNING user_id`,
    [p.accountId, p.surface, p.surfaceUserId, user.id],
  );
  return rows.length ? user : await linkedUser(tx, p.surface, p.surfaceUserId);
}

/** An admin links a surface user to a HummDesk user, replacing either side's earlier link on this surface. */
export async function linkAgent(tx: Queryable, p: { accountId: string; surface: Exclude<AgentSurface, 'slack'>; surfaceUserId: string; userId: string }): Promise<void> {
  await tx.query(`DELETE FROM surface_agent_links WHERE surface = $1 AND (user_id = $2 OR surface_user_id = $3)`, [p.surface, p.userId, p.surfaceUserId]);
  await tx.query(
    `INSERT INTO surface_agent_links (account_id, surface, surface_user_id, user_id, linked_by) VALUES ($1, $2, $3, $4, 'admin')`,
    [p.accountId, p.surface, p.surfaceUserId, p.userId],
  );
}

export async function unlinkAgent(tx: Queryable, surface: Exclude<AgentSurface, 'slack'>, surfaceUserId: string): Promise<boolean> {
  const { rowCount } = await tx.query(`DELETE FROM surface_agent_links WHERE surface = $1 AND surface_user_id = $2`, [surface, surfaceUserId]);
  return rowCount > 0;
}

/** The surface user ids linked to these HummDesk users (per-user card views list them). */
export async function surfaceUserIds(tx: Queryable, surface: Exclude<AgentSurface, 'slack'>, userIds?: string[]): Promise<Map<string, string>> {
  const { rows } = await tx.query<{ userId: string; surfaceUserId: string }>(
    `SELECT user_id AS "userId", surface_user_id AS "surfaceUserId" FROM surface_agent_links WHERE surface = $1 AND ($2::uuid[] IS NULL OR user_id = ANY($2::uuid[])) ORDER BY created_at`,
    [surface, userIds ?? null],
  );
  return new Map(rows.map((r) => [r.userId, r.surfaceUserId]));
}
