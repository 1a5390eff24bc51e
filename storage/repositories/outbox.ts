import type { Queryable } from '../database.js';

/** Topics the hub's workers handle; each outbox row becomes one job of its topic. */
export const OUTBOX_TOPICS = ['ai.classify', 'surface.sync', 'deliver', 'kb.reindex', 'kb.import', 'slack.backfill', 'slack.files', 'media.fetch', 'channel.handback', 'teams.notice', 'channel.read', 'whatsapp.templates'] as const;
export type OutboxTopic = (typeof OUTBOX_TOPICS)[number];

export interface OutboxRow {
  id: string;
  accountId: string;
  topic: OutboxTopic;
  payload: Record<string, unknown>;
  attempts: number;
  createdAt: string;
  deadAt?: string | null;
  lastError?: string | null;
}

export async function enqueue(tx: Queryable, accountId: string, topic: OutboxTopic, payload: Record<string, unknown>): Promise<void> {
  await tx.query(`INSERT INTO outbox (account_id, topic, payload) VALUES ($1, $2, $3)`, [accountId, topic, payload]);
}

/**
 * A surface sync of the conversation, only when the account has a Slack or Teams installation to mirror
 * into (one statement either way); true when a row was written.
 */
export async function enqueueSurfaceSync(tx: Queryable, accountId: string, payload: { conversationId: string; messageId?: string }): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO outbox (account_id, topic, payload)
     SELECT $1, 'surface.sync', $2::jsonb WHERE EXISTS (SELECT 1 FROM channels WHERE account_id = $1 AND kind IN ('slack', 'teams') AND enabled)`,
    [accountId, payload],
  );
  return rowCount > 0;
}

const COLUMNS = `id::text, account_id AS "accountId", topic, payload, attempts, created_at AS "createdAt",
  dead_at AS "deadAt", last_error AS "lastError"`;

/**
 * Claims due rows for the in-process runner (SKIP LOCKED lets several hub processes share them), taking
 * turns between topics: the first due job of every topic in `turns` order, then the second of each, and
 * so on; within a topic first due first. So a stream of one kind (analyses of new messages) never holds
 * another (a knowledge-base import that runs again) behind its whole backlog. Each topic's candidates
 * come from its own index range (migration 308), a few entries a topic, not the backlog before them.
 */
export async function claimDue(tx: Queryable, limit: number, leaseMs: number, wide?: { topics: OutboxTopic[]; limit: number }, turns: readonly OutboxTopic[] = OUTBOX_TOPICS): Promise<OutboxRow[]> {
  const due = `dispatched_at IS NULL AND done_at IS NULL AND dead_at IS NULL AND run_after <= now()`;
  const taking = wide ? turns.filter((t) => !wide.topics.includes(t)) : [...turns];
  // `wide` topics have a budget of their own (the AI stage: many jobs wait together on one batched model
  // call); both kinds are claimed in one round trip.
  const { rows } = await tx.query<OutboxRow>(
    `WITH candidate AS (
       SELECT c.id, t.turn, row_number() OVER (PARTITION BY t.turn ORDER BY c.run_after, c.id) AS nth
       FROM unnest($3::text[]) WITH ORDINALITY AS t(topic, turn)
       CROSS JOIN LATERAL (SELECT id, run_after FROM outbox WHERE ${due} AND topic = t.topic ORDER BY run_after, id LIMIT $1 FOR UPDATE SKIP LOCKED) c
     ), other AS (SELECT id FROM candidate ORDER BY nth, turn LIMIT $1)${wide ? `,
     wide AS (SELECT id FROM outbox WHERE ${due} AND topic = ANY($4::text[]) ORDER BY run_after, id LIMIT $5 FOR UPDATE SKIP LOCKED)` : ''}
     UPDATE outbox SET run_after = now() + make_interval(secs => $2::double precision / 1000), attempts = attempts + 1
     WHERE id IN (SELECT id FROM other${wide ? ' UNION ALL SELECT id FROM wide' : ''})
     RETURNING ${COLUMNS}`,
    wide ? [limit, leaseMs, taking, wide.topics, wide.limit] : [limit, leaseMs, taking],
  );
  return rows.sort((a, b) => Number(a.id) - Number(b.id));
}

/** Marks many jobs done in one statement (jobs that finished together, as a batch of analyses does). */
export async function markManyDone(tx: Queryable, ids: string[]): Promise<void> {
  await tx.query(`UPDATE outbox SET done_at = now(), last_error = NULL WHERE id = ANY($1::bigint[])`, [ids]);
}

/** Rows not yet handed to BullMQ; the relay marks them dispatched after the queue accepted them. */
export async function pendingForRelay(tx: Queryable, limit: number): Promise<OutboxRow[]> {
  const { rows } = await tx.query<OutboxRow>(
    `SELECT ${COLUMNS} FROM outbox WHERE dispatched_at IS NULL AND done_at IS NULL AND dead_at IS NULL ORDER BY id LIMIT $1`,
    [limit],
  );
  return rows;
}

export async function markDispatched(tx: Queryable, ids: string[]): Promise<void> {
  await tx.query(`UPDATE outbox SET dispatched_at = now() WHERE id = ANY($1::bigint[])`, [ids]);
}

export async function markDone(tx: Queryable, id: string): Promise<void> {
  await tx.query(`UPDATE outbox SET done_at = now(), last_error = NULL WHERE id = $1`, [id]);
}

export async function markFailed(tx: Queryable, id: string, error: string, retryInMs: number | null): Promise<void> {
  if (retryInMs === null) {
    await tx.query(`UPDATE outbox SET dead_at = now(), last_error = $2 WHERE id = $1`, [id, error]);
  } else {
    await tx.query(
      `UPDATE outbox SET last_error = $2, run_after = now() + make_interval(secs => $3::double precision / 1000) WHERE id = $1`,
      [id, error, retryInMs],
    );
  }
}

/** Dead rows of the current tenant (RLS scopes this to the transaction's account). */
export async function listDead(tx: Queryable, limit: number): Promise<OutboxRow[]> {
  const { rows } = await tx.query<OutboxRow>(
    `SELECT ${COLUMNS} FROM outbox WHERE dead_at IS NOT NULL ORDER BY dead_at DESC LIMIT $1`,
    [limit],
  );
  return rows;
}

export async function revive(tx: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE outbox SET dead_at = NULL, attempts = 0, run_after = now(), dispatched_at = NULL WHERE id = $1 AND dead_at IS NOT NULL`,
    [id],
  );
  return rowCount > 0;
}

export async function countPending(db: Queryable): Promise<{ pending: number; dead: number }> {
  const { rows } = await db.query<{ pending: string; dead: string }>(
    `SELECT count(*) FILTER (WHERE done_at IS NULL AND dead_at IS NULL AND dispatched_at IS NULL) AS pending,
            count(*) FILTER (WHERE dead_at IS NOT NULL) AS dead FROM outbox`,
  );
  return { pending: Number(rows[0]?.pending ?? 0), dead: Number(rows[0]?.dead ?? 0) };
}
