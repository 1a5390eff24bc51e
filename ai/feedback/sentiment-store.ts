import { CoalescedRuns } from '../learn/coalesced-runs.js';
import type { Logger } from 'pino';
import type { Database, Queryable } from '../../storage/database.js';
import { tenantReads, withAccount } from '../../storage/session.js';
import type { Sentiment, SentimentModel } from '../providers/local/sentiment.js';
import { learnResidual, SentimentResidual, type SerializedSentimentResidual } from '../providers/local/sentiment-corrections.js';
import type { LocalModels } from '../workers/models.js';

/** An account's sentiment model as the AI threads know it: the shipped one (key null) or with its corrections. */
export interface SentimentModelRef {
  model: SentimentModel;
  key: string | null;
  residual?: SerializedSentimentResidual;
}

// The newest corrections an account's residual learns from; older ones rarely still describe its customers.
const MAX_EXAMPLES = 5000;

export interface SentimentExample {
  conversationId: string;
  messageId: string | null;
  text: string;
  label: Sentiment;
  userId: string | null;
}

export async function addSentimentExample(tx: Queryable, accountId: string, e: SentimentExample): Promise<string> {
  return (await tx.query<{ id: string }>(
    `INSERT INTO ai_sentiment_examples (account_id, conversation_id, message_id, text, label, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [accountId, e.conversationId, e.messageId, e.text.slice(0, 5000), e.label, e.userId],
  )).rows[0]!.id;
}

export interface SentimentCorrectionsInfo {
  /** Corrections stored for the account. */
  corrections: number;
  /** When the residual in use was learned; null while none matches the shipped model. */
  trainedAt: string | null;
}

export async function sentimentCorrectionsInfo(tx: Queryable, accountId: string, baseModel: string): Promise<SentimentCorrectionsInfo> {
  const { rows } = await tx.query<{ corrections: number; trainedAt: Date | string | null }>(
    `SELECT (SELECT count(*)::int FROM ai_sentiment_examples WHERE account_id = $1) AS corrections,
            (SELECT trained_at FROM ai_sentiment_models WHERE account_id = $1 AND base_model = $2) AS "trainedAt"`,
    [accountId, baseModel],
  );
  const r = rows[0]!;
  return { corrections: r.corrections, trainedAt: r.trainedAt === null ? null : new Date(r.trainedAt).toISOString() };
}

/**
 * Each account's sentiment model: the shipped one plus the residual its corrections taught, stored in
 * ai_sentiment_models, cached per process by trained_at, so a retrain in another process is seen too.
 */
export class SentimentModels {
  private readonly cache = new Map<string, { trainedAt: string; ref: SentimentModelRef }>();
  private readonly runs: CoalescedRuns<SentimentModel>;
  /** Accounts whose residual was learned on another shipped model and is being relearned. */
  private readonly relearning = new Set<string>();

  constructor(
    private readonly db: Database,
    private readonly base: () => SentimentModel,
    /** With `models`, corrections are learned in the AI threads. */
    private readonly opts: { delayMs?: number; log?: Logger; models?: LocalModels } = {},
  ) {
    this.runs = new CoalescedRuns(opts.delayMs ?? 1000);
  }

  async forAccount(accountId: string): Promise<SentimentModel> {
    return (await this.refFor(accountId)).model;
  }

  async refFor(accountId: string): Promise<SentimentModelRef> {
    const base = this.base();
    const hit = this.cache.get(accountId);
    // One statement as the tenant (one round trip on node-postgres): this runs for every analysis batch.
    const row = (await tenantReads(this.db, accountId).query<{ trainedAt: string; baseModel: string; model: SerializedSentimentResidual | null }>(
      // The residual itself is sent only when the cached one is out of date.
      `SELECT trained_at::text AS "trainedAt", base_model AS "baseModel", CASE WHEN trained_at::text IS DISTINCT FROM $2 THEN model END AS model
       FROM ai_sentiment_models WHERE account_id = $1`,
      [accountId, hit?.trainedAt ?? null],
    )).rows[0];
    if (!row) return { model: base, key: null };
    if (row.baseModel !== base.id) {
      this.relearnOnce(accountId);
      return { model: base, key: null };
    }
    if (hit && hit.trainedAt === row.trainedAt) return hit.ref;
    const ref = this.ref(accountId, row.trainedAt, row.model!);
    this.cache.set(accountId, { trainedAt: row.trainedAt, ref });
    return ref;
  }

  private ref(accountId: string, trainedAt: string, residual: SerializedSentimentResidual): SentimentModelRef {
    return { model: this.base().withResidual(SentimentResidual.fromJSON(residual)), key: `sentiment:${accountId}:${trainedAt}`, residual };
  }

  /**
   * Relearns the account's residual from its corrections after a short wait, so a burst of corrections
   * trains once; a request during a run is served by exactly one run after it.
   */
  retrain(accountId: string): Promise<SentimentModel> {
    return this.runs.run(accountId, () => this.train(accountId));
  }

  /** Waits until no retrain of the account is queued or running (tests, shutdown). */
  idle(accountId: string): Promise<void> {
    return this.runs.idle(accountId);
  }

  private async train(accountId: string): Promise<SentimentModel> {
    const base = this.base();
    const examples = await withAccount(this.db, accountId, async (tx) =>
      (await tx.query<{ text: string; label: Sentiment }>(
        `SELECT text, label FROM (SELECT text, label, created_at, id FROM ai_sentiment_examples WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2) newest
         ORDER BY created_at, id`,
        [accountId, MAX_EXAMPLES],
      )).rows,
    );
    if (!examples.length) return base;
    const residual = this.opts.models ? await this.opts.models.learnSentiment(accountId, examples) : learnResidual(base, examples).toJSON();
    const trainedAt = await withAccount(this.db, accountId, async (tx) =>
      (await tx.query<{ trainedAt: string }>(
        `INSERT INTO ai_sentiment_models (account_id, model, examples, base_model, trained_at) VALUES ($1, $2, $3, $4, clock_timestamp())
         ON CONFLICT (account_id) DO UPDATE SET model = EXCLUDED.model, examples = EXCLUDED.examples, base_model = EXCLUDED.base_model, trained_at = EXCLUDED.trained_at
         RETURNING trained_at::text AS "trainedAt"`,
        [accountId, JSON.stringify(residual), examples.length, base.id],
      )).rows[0]!.trainedAt,
    );
    const ref = this.ref(accountId, trainedAt, residual);
    this.cache.set(accountId, { trainedAt, ref });
    return ref.model;
  }

  /** A residual of an older shipped model is useless; the stored corrections teach the current one instead. */
  private relearnOnce(accountId: string): void {
    if (this.relearning.has(accountId)) return;
    this.relearning.add(accountId);
    this.retrain(accountId).catch((err: unknown) => {
      this.relearning.delete(accountId);
      this.opts.log?.warn({ err, accountId }, 'sentiment corrections could not be relearned on the shipped model');
    });
  }
}
