import { AI_BATCH, type LocalModels } from '../../ai/workers/models.js';
import type { OutboxTopic } from '../../storage/repositories/outbox.js';
import type { Database } from '../../storage/database.js';
import { limitSessions } from '../../storage/session-limit.js';

/**
 * How many AI stage jobs the in-process runner keeps going at once, beside its budget for other jobs:
 * they wait together on one batched model call, so a batch for every AI thread and one forming. On
 * PGlite (one connection, on the main thread) they share the runner's few slots, so requests stay first.
 */
export function aiStageBudget(db: 'pglite' | 'postgres', models: LocalModels): { topics: OutboxTopic[]; concurrency: number } | undefined {
  if (db === 'pglite') return undefined;
  return { topics: ['ai.classify'], concurrency: AI_BATCH * (models.compute.size + 1) };
}

/**
 * How many database sessions the AI stage's jobs hold at once on PostgreSQL: a quarter of the pool (at
 * least 2), so its budget of jobs never takes the connections ingest and requests need.
 */
export function aiStageSessions(poolSize: number): number {
  return Math.max(2, Math.floor(poolSize / 4));
}

/** The database as the AI stage's jobs use it: on PostgreSQL within their share of the pool (aiStageSessions). */
export function aiStageDatabase(db: Database, poolSize: number): Database {
  return db.kind === 'postgres' ? limitSessions(db, aiStageSessions(poolSize)) : db;
}
