import { createHash } from 'node:crypto';
import type { Database, Queryable } from '../../storage/database.js';

/**
 * An account above the exact-search limit gets its own partial HNSW index over its active model
 * (bench/ai: recall@10 of a shared index under row-level security falls with the account's share of
 * it). Queries name the account and model literally, so the planner can match the partial index.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MODEL = /^[\w.:/@+-]{1,200}$/;

/** A uuid as a SQL literal; anything else is refused, never quoted. */
export function uuidLiteral(id: string): string {
  if (!UUID.test(id)) throw new Error(`not a uuid: ${id}`);
  return `'${id}'::uuid`;
}

/** A model id as a SQL literal; its alphabet (checked) holds no quote or backslash. */
export function modelLiteral(model: string): string {
  if (!MODEL.test(model)) throw new Error(`unexpected model id: ${model}`);
  return `'${model}'`;
}

export function tenantIndexName(accountId: string, model: string): string {
  return `kb_hnsw_${accountId.replace(/-/g, '').toLowerCase()}_${createHash('sha256').update(model).digest('hex').slice(0, 8)}`;
}

/** The WHERE clause of the account's index; search repeats it word for word. */
export function tenantPredicate(accountId: string, model: string, dim: number): string {
  if (!Number.isInteger(dim) || dim <= 0) throw new Error(`bad dimension ${dim}`);
  return `account_id = ${uuidLiteral(accountId)} AND model = ${modelLiteral(model)} AND dim = ${dim} AND published`;
}

/** Whether the account has more than `max` published vectors of a model (a bounded count). */
export async function hasMoreVectors(tx: Queryable, model: string, max: number): Promise<boolean> {
  const { rows } = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM kb_embeddings WHERE model = $1 AND published LIMIT $2) mine`,
    [model, max + 1],
  );
  return (rows[0]?.n ?? 0) > max;
}

/**
 * Builds the account's index over one model, outside any transaction: CONCURRENTLY on Postgres so
 * other tenants' writes go on. A concurrent build cut off by a crash leaves an invalid index: dropped first.
 */
export async function buildTenantIndex(db: Database, accountId: string, model: string, dim: number): Promise<string> {
  const name = tenantIndexName(accountId, model);
  const concurrently = db.kind === 'postgres' ? 'CONCURRENTLY ' : '';
  const found = (await db.query<{ valid: boolean }>(`SELECT i.indisvalid AS valid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid WHERE c.relname = $1`, [name])).rows[0];
  if (found?.valid) return name;
  if (found) await db.query(`DROP INDEX ${concurrently}IF EXISTS ${name}`);
  await db.query(`CREATE INDEX ${concurrently}${name} ON kb_embeddings USING hnsw ((embedding::vector(${dim})) vector_cosine_ops) WHERE ${tenantPredicate(accountId, model, dim)}`);
  return name;
}

/** Drops the account's indexes of every model but `keep`. */
export async function dropTenantIndexes(db: Database, accountId: string, keep?: string): Promise<void> {
  const prefix = tenantIndexName(accountId, '').replace(/_[0-9a-f]{8}$/, '_');
  const keepName = keep ? tenantIndexName(accountId, keep) : '';
  const { rows } = await db.query<{ name: string }>(`SELECT indexname AS name FROM pg_indexes WHERE tablename = 'kb_embeddings' AND starts_with(indexname, $1)`, [prefix]);
  const concurrently = db.kind === 'postgres' ? 'CONCURRENTLY ' : '';
  for (const { name } of rows) if (name !== keepName && /^kb_hnsw_[0-9a-f]{32}_[0-9a-f]{8}$/.test(name)) await db.query(`DROP INDEX ${concurrently}IF EXISTS ${name}`);
}

/**
 * Drops the indexes of accounts that no longer exist: deleting an account removes its rows by
 * cascade, but an index is not a row. Run at start-up, and by whatever deletes accounts.
 */
export async function dropIndexesOfDeletedAccounts(db: Database): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT indexname AS name FROM pg_indexes i WHERE tablename = 'kb_embeddings' AND indexname ~ '^kb_hnsw_[0-9a-f]{32}_[0-9a-f]{8}$'
       AND NOT EXISTS (SELECT 1 FROM accounts a WHERE replace(a.id::text, '-', '') = substr(i.indexname, 9, 32))`);
  const concurrently = db.kind === 'postgres' ? 'CONCURRENTLY ' : '';
  for (const { name } of rows) await db.query(`DROP INDEX ${concurrently}IF EXISTS ${name}`);
  return rows.map((r) => r.name);
}
