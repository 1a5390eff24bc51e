import type { Queryable } from '../database.js';

export interface AuditEntry {
  accountId: string;
  actorKind: 'user' | 'api_key' | 'system' | 'ai';
  actorId?: string | null;
  action: string;
  targetKind?: string;
  targetId?: string;
  data?: Record<string, unknown>;
}

export async function audit(tx: Queryable, e: AuditEntry): Promise<void> {
  await tx.query(
    `INSERT INTO audit_log (account_id, actor_kind, actor_id, action, target_kind, target_id, data) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [e.accountId, e.actorKind, e.actorId ?? null, e.action, e.targetKind ?? null, e.targetId ?? null, e.data ?? {}],
  );
}
