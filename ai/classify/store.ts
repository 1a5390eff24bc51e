import type { Database, Queryable } from '../../storage/database.js';
import { withAccount } from '../../storage/session.js';
import type { Embedder } from '../embed/embedder.js';
import { CategoryModel, type LabelledExample, type SerializedCategoryModel } from './model.js';
import { DEFAULT_CATEGORY_EXAMPLES } from './defaults.js';
import { CoalescedRuns } from '../learn/coalesced-runs.js';

export function defaultExamples(): LabelledExample[] {
  return Object.entries(DEFAULT_CATEGORY_EXAMPLES).flatMap(([label, texts]) => texts.map((text) => ({ text, label })));
}

export async function addExample(tx: Queryable, accountId: string, e: { category: string; text: string; source?: 'agent' | 'import' | 'correction'; conversationId?: string | null; userId?: string | null }): Promise<string> {
  return (await tx.query<{ id: string }>(
    `INSERT INTO ai_category_examples (account_id, category, text, source, conversation_id, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [accountId, e.category, e.text.slice(0, 5000), e.source ?? 'agent', e.conversationId ?? null, e.userId ?? null],
  )).rows[0]!.id;
}

/**
 * Each account's category model: trained from the default examples plus the account's own, persisted
 * in ai_category_models, cached per process and reloaded when another process retrained it.
 */
export class CategoryModels {
  private readonly cache = new Map<string, { trainedAt: string; model: CategoryModel }>();
  private defaults?: Promise<CategoryModel>;
  // The default examples' embeddings, computed once per process: every account's retrain needs them.
  private defaultVectors?: Promise<Float32Array[]>;
  private readonly runs = new CoalescedRuns<CategoryModel>();

  constructor(private readonly db: Database, private readonly embedder: Embedder) {}

  /** The model shared by accounts that have not taught their own categories yet. */
  defaultModel(): Promise<CategoryModel> {
    return (this.defaults ??= this.vectorsOfDefaults().then((vectors) => CategoryModel.train(defaultExamples(), { embedder: this.embedder, vectors })).catch((err: unknown) => {
      this.defaults = undefined;
      throw err;
    }));
  }

  private vectorsOfDefaults(): Promise<Float32Array[]> {
    return (this.defaultVectors ??= this.embedder.embed(defaultExamples().map((e) => e.text)).catch((err: unknown) => {
      this.defaultVectors = undefined;
      throw err;
    }));
  }

  async forAccount(accountId: string): Promise<CategoryModel> {
    const row = await withAccount(this.db, accountId, async (tx) =>
      (await tx.query<{ trainedAt: string }>(`SELECT trained_at::text AS "trainedAt" FROM ai_category_models WHERE account_id = $1`, [accountId])).rows[0],
    );
    if (!row) return this.defaultModel();
    const hit = this.cache.get(accountId);
    if (hit && hit.trainedAt === row.trainedAt) return hit.model;
    const stored = await withAccount(this.db, accountId, async (tx) =>
      (await tx.query<{ model: SerializedCategoryModel }>(`SELECT model FROM ai_category_models WHERE account_id = $1`, [accountId])).rows[0],
    );
    if (!stored) return this.defaultModel();
    const model = CategoryModel.fromJSON(stored.model, this.embedder);
    this.cache.set(accountId, { trainedAt: row.trainedAt, model });
    // Stored before the multilingual concepts: answers with its own features until the background retrain lands.
    if (!stored.model.features) void this.retrain(accountId).catch(() => undefined);
    return model;
  }

  /**
   * Retrains an account's model from defaults + its examples and stores it, in the background; requests
   * coalesce (ai/learn/coalesced-runs.ts): a correction arriving during a run gets exactly one more run.
   */
  retrain(accountId: string): Promise<CategoryModel> {
    return this.runs.run(accountId, () => this.train(accountId));
  }

  private async train(accountId: string): Promise<CategoryModel> {
    const { examples, newest } = await withAccount(this.db, accountId, async (tx) => {
      const rows = (await tx.query<{ category: string; text: string; createdAt: string }>(`SELECT category, text, created_at::text AS "createdAt" FROM ai_category_examples ORDER BY created_at`)).rows;
      return { examples: rows.map((r) => ({ label: r.category, text: r.text })), newest: rows[rows.length - 1]?.createdAt ?? null };
    });
    const vectors = [...(await this.vectorsOfDefaults()), ...(await this.embedder.embed(examples.map((e) => e.text)))];
    const model = await CategoryModel.train([...defaultExamples(), ...examples], { embedder: this.embedder, vectors });
    const trainedAt = await withAccount(this.db, accountId, async (tx) =>
      (await tx.query<{ trainedAt: string }>(
        `INSERT INTO ai_category_models (account_id, model, examples, trained_through, trained_at) VALUES ($1, $2, $3, $4, clock_timestamp())
         ON CONFLICT (account_id) DO UPDATE SET model = EXCLUDED.model, examples = EXCLUDED.examples, trained_through = EXCLUDED.trained_through, trained_at = EXCLUDED.trained_at
         RETURNING trained_at::text AS "trainedAt"`,
        [accountId, JSON.stringify(model.toJSON()), model.examples, newest],
      )).rows[0]!.trainedAt,
    );
    this.cache.set(accountId, { trainedAt, model });
    return model;
  }

  /** Waits for background retraining of an account to settle (tests, shutdown). */
  idle(accountId: string): Promise<void> {
    return this.runs.idle(accountId);
  }
}
