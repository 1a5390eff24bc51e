import type { Queryable } from '../../storage/database.js';
import type { AgentSurface } from './agents.js';

/**
 * A conversation's threads on a surface (surface_threads): at most one active per conversation and
 * surface, found by the surface's own key (Slack `channel:ts`, Teams `channel;messageid=root`). What a
 * thread holds beyond that (`data`) is the surface's. Every call runs inside a tenant transaction.
 */

export interface SurfaceThread<D extends object = Record<string, unknown>> {
  id: string;
  conversationId: string;
  surfaceKey: string;
  data: D;
  active: boolean;
}

const COLUMNS = `id, conversation_id AS "conversationId", surface_key AS "surfaceKey", data, active`;

export async function surfaceThreadByKey<D extends object>(tx: Queryable, surface: AgentSurface, surfaceKey: string): Promise<SurfaceThread<D> | undefined> {
  return (await tx.query<SurfaceThread<D>>(`SELECT ${COLUMNS} FROM surface_threads WHERE surface = $1 AND surface_key = $2`, [surface, surfaceKey])).rows[0];
}

/** The conversation's active thread on a surface, if any. */
export async function activeSurfaceThread<D extends object>(tx: Queryable, surface: AgentSurface, conversationId: string): Promise<SurfaceThread<D> | undefined> {
  return (await tx.query<SurfaceThread<D>>(
    `SELECT ${COLUMNS} FROM surface_threads WHERE surface = $1 AND conversation_id = $2 AND active ORDER BY created_at DESC LIMIT 1`,
    [surface, conversationId],
  )).rows[0];
}

export async function insertSurfaceThread<D extends object>(tx: Queryable, surface: AgentSurface, t: { accountId: string; conversationId: string; surfaceKey: string; data: D }): Promise<SurfaceThread<D>> {
  const { rows } = await tx.query<SurfaceThread<D>>(
    `INSERT INTO surface_threads (account_id, conversation_id, surface, surface_key, data) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
    [t.accountId, t.conversationId, surface, t.surfaceKey, t.data],
  );
  return rows[0]!;
}

/** The root card was brought up to date with this rendering (a hash of it). */
export async function saveSurfaceRootHash(tx: Queryable, id: string, hash: string): Promise<void> {
  await tx.query(`UPDATE surface_threads SET data = jsonb_set(data, '{rootHash}', to_jsonb($2::text)) WHERE id = $1`, [id, hash]);
}

/** The conversation moved to another channel: its old thread stays, inactive, saying where it went. */
export async function retireSurfaceThread(tx: Queryable, id: string, movedTo: string): Promise<void> {
  await tx.query(`UPDATE surface_threads SET data = jsonb_set(data, '{movedTo}', to_jsonb($2::text)), active = false WHERE id = $1`, [id, movedTo]);
}

export async function saveSurfaceThread<D extends object>(tx: Queryable, id: string, data: D, active = true): Promise<void> {
  await tx.query(`UPDATE surface_threads SET data = $2, active = $3 WHERE id = $1`, [id, data, active]);
}
