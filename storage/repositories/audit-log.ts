import type { Queryable } from '../database.js';

/** Reading the audit log; writing stays in audit.ts, which every change calls. */

export interface AuditRow {
  id: string;
  actorKind: string;
  actorId: string | null;
  action: string;
  targetKind: string | null;
  targetId: string | null;
  data: Record<string, unknown>;
  createdAt: string;
}

/** Newest first, keyset-paginated on the bigserial id (ids only grow, so a page never repeats a row). */
export async function listAuditEntries(
  tx: Queryable,
  f: { action?: string; targetKind?: string; targetId?: string; beforeId?: string; limit: number },
): Promise<AuditRow[]> {
  const { rows } = await tx.query<AuditRow>(
    `SELECT id::text, actor_kind AS "actorKind", actor_id AS "actorId", action, target_kind AS "targetKind",
       target_id AS "targetId", data, created_at AS "createdAt"
     FROM audit_log
     WHERE ($1::text IS NULL OR action = $1) AND ($2::text IS NULL OR target_kind = $2)
       AND ($3::text IS NULL OR target_id = $3) AND ($4::bigint IS NULL OR id < $4)
     ORDER BY id DESC LIMIT $5`,
    [f.action ?? null, f.targetKind ?? null, f.targetId ?? null, f.beforeId ?? null, f.limit],
  );
  return rows;
}
