import type { Database, Queryable } from '../../storage/database.js';
import { tenantReads, withAccount } from '../../storage/session.js';
import type { Embedder } from '../embed/embedder.js';
import { CATEGORY_FEATURES, CategoryModel, type LabelledExample, type SerializedCategoryModel } from './model.js';
import { DEFAULT_CATEGORY_EXAMPLES } from './defaults.js';
import { CoalescedRuns } from '../learn/coalesced-runs.js';
import { train as trainSoftmax } from '../learn/softmax.js';
import { cachedDefaultVectors, cachedJson, defaultModelFile, defaultVectorsFile } from './default-vectors.js';
import { hashFeatures } from '../text/features.js';
import { CONCEPTS } from '../text/concepts.js';
import type { LocalModels } from '../workers/models.js';

/** A category model with the key the AI threads know it by and its stored form (sent to a thread that lacks it). */
export interface CategoryModelRef {
  model: CategoryModel;
  key: string;
  json: SerializedCategoryModel;
}

export function defaultExamples(): LabelledExample[] {
  return Object.entries(DEFAULT_CATEGORY_EXAMPLES).flatMap(([label, texts]) => texts.map((text) => ({ text, label })));
}

export async function addExample(tx: Queryable, accountId: string, e: { category: string; text: string; source?: 'agent' | 'import' | 'correction'; conversationId?: string | null; userId?: string | null }): Promise<string> {
  return (await tx.query<{ id: string }>(
    `INSERT INTO ai_category_examples (account_id, category, text, source, conversation_id, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [accountId, e.category, e.text.slice(0, 5000), e.source ?? 'agent', e.conversationId ?? null, e.userId ?? null],
  )).rows[0]!.id;
}

// Rows per statement of an example import: on PGlite a statement runs on the main thread from start to end.
const EXAMPLES_PER_STATEMENT = 500;

/**
 * Many examples a few statements at a time: a 5,000-example import is 10 round trips, not 5,000, and on
 * PGlite no one statement holds the event loop for the whole import (each starts on a fresh turn).
 */
export async function addExamples(tx: Queryable, accountId: string, examples: { category: string; text: string }[], o: { source: 'agent' | 'import' | 'correction'; userId: string | null }): Promise<number> {
  let added = 0;
  for (let from = 0; from < examples.length; from += EXAMPLES_PER_STATEMENT) {
    const part = examples.slice(from, from + EXAMPLES_PER_STATEMENT);
    added += (await tx.query(
      `INSERT INTO ai_category_examples (account_id, category, text, source, conversation_id, created_by)
       SELECT $1, c, t, $4, NULL, $5 FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS x(c, t, n) ORDER BY n`,
      [accountId, part.map((e) => e.category), part.map((e) => e.text.slice(0, 5000)), o.source, o.userId])).rowCount;
  }
  return added;
}

/**
 * Each account's category model: trained from the default examples plus the account's own, persisted
 * in ai_category_models, cached per process and reloaded when another process retrained it.
 */
export class CategoryModels {
  private readonly cache = new Map<string, { trainedAt: string; ref: CategoryModelRef }>();
  private defaults?: Promise<CategoryModelRef>;
  // The default examples' embeddings, read from the machine's cache or computed once per process: every account's retrain needs them.
  private defaultVectors?: Promise<Float32Array[]>;
  private readonly runs = new CoalescedRuns<CategoryModel>();

  /** With `models`, training runs in the AI threads; without, on the calling thread. */
  constructor(private readonly db: Database, private readonly embedder: Embedder, private readonly models?: LocalModels) {}

  /** The model shared by accounts that have not taught their own categories yet. */
  async defaultModel(): Promise<CategoryModel> {
    return (await this.defaultRef()).model;
  }

  defaultRef(): Promise<CategoryModelRef> {
    return (this.defaults ??= this.trainDefault().then((json) => this.ref('default', json)).catch((err: unknown) => {
      this.defaults = undefined;
      throw err;
    }));
  }

  /** The default model: read from the machine's cache when the local encoder made its vectors, else trained. */
  private async trainDefault(): Promise<SerializedCategoryModel> {
    const embedder: Embedder = this.models?.embedder ?? this.embedder;
    const examples = defaultExamples();
    const train = async () => this.trainJson(undefined, examples, await this.vectorsOfDefaults());
    if (embedder.external) return train();
    // The feature code and the concept lexicon are part of the key: a changed lexicon entry trains again.
    const training = JSON.stringify({ features: CATEGORY_FEATURES, labels: examples.map((e) => e.label), train: CategoryModel.train.toString(), softmax: trainSoftmax.toString(), hashing: hashFeatures.toString(), concepts: CONCEPTS });
    const file = defaultModelFile(defaultVectorsFile(embedder.modelId, examples.map((e) => e.text)), training);
    return cachedJson(file, train, (m) => m.examples === examples.length && m.embeddingModel === embedder.modelId && !!m.features);
  }

  /** Read from the machine's cache (ai/classify/default-vectors.ts) when the local encoder makes them. */
  private vectorsOfDefaults(): Promise<Float32Array[]> {
    const embedder: Embedder = this.models?.embedder ?? this.embedder;
    const texts = defaultExamples().map((e) => e.text);
    return (this.defaultVectors ??= (embedder.external ? embedder.embed(texts, { lane: 'bulk' }) : cachedDefaultVectors({ modelId: embedder.modelId, dimension: embedder.dimension, embed: (t) => embedder.embed(t, { lane: 'bulk' }) }, texts)).catch((err: unknown) => {
      this.defaultVectors = undefined;
      throw err;
    }));
  }

  async forAccount(accountId: string): Promise<CategoryModel> {
    return (await this.refFor(accountId)).model;
  }

  /** The account's model and its key for the AI threads. */
  async refFor(accountId: string): Promise<CategoryModelRef> {
    // One statement as the tenant (one round trip on node-postgres): this runs for every analysis batch.
    const row = (await tenantReads(this.db, accountId).query<{ trainedAt: string }>(`SELECT trained_at::text AS "trainedAt" FROM ai_category_models WHERE account_id = $1`, [accountId])).rows[0];
    if (!row) return this.defaultRef();
    const hit = this.cache.get(accountId);
    if (hit && hit.trainedAt === row.trainedAt) return hit.ref;
    const stored = await withAccount(this.db, accountId, async (tx) =>
      (await tx.query<{ model: SerializedCategoryModel }>(`SELECT model FROM ai_category_models WHERE account_id = $1`, [accountId])).rows[0],
    );
    if (!stored) return this.defaultRef();
    const ref = this.ref(`${accountId}:${row.trainedAt}`, stored.model);
    this.cache.set(accountId, { trainedAt: row.trainedAt, ref });
    // Stored before the multilingual concepts: answers with its own features until the background retrain lands.
    if (!stored.model.features) void this.retrain(accountId).catch(() => undefined);
    return ref;
  }

  private ref(key: string, json: SerializedCategoryModel): CategoryModelRef {
    return { model: CategoryModel.fromJSON(json, this.embedder), key: `category:${key}`, json };
  }

  /** `known` are the vectors of the first examples (the defaults'); the rest are embedded here. */
  private async trainJson(accountId: string | undefined, examples: LabelledExample[], known: Float32Array[] = []): Promise<SerializedCategoryModel> {
    if (this.models) return this.models.trainCategories(accountId, examples, known);
    const vectors = [...known, ...(await this.embedder.embed(examples.slice(known.length).map((e) => e.text), { lane: 'bulk', accountId, work: 'retrain' }))];
    return (await CategoryModel.train(examples, { embedder: this.embedder, vectors })).toJSON();
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
    const json = await this.trainJson(accountId, [...defaultExamples(), ...examples], await this.vectorsOfDefaults());
    const model = CategoryModel.fromJSON(json, this.embedder);
    const trainedAt = await withAccount(this.db, accountId, async (tx) =>
      (await tx.query<{ trainedAt: string }>(
        `INSERT INTO ai_category_models (account_id, model, examples, trained_through, trained_at) VALUES ($1, $2, $3, $4, clock_timestamp())
         ON CONFLICT (account_id) DO UPDATE SET model = EXCLUDED.model, examples = EXCLUDED.examples, trained_through = EXCLUDED.trained_through, trained_at = EXCLUDED.trained_at
         RETURNING trained_at::text AS "trainedAt"`,
        [accountId, JSON.stringify(json), model.examples, newest],
      )).rows[0]!.trainedAt,
    );
    this.cache.set(accountId, { trainedAt, ref: this.ref(`${accountId}:${trainedAt}`, json) });
    return model;
  }

  /** Waits for background retraining of an account to settle (tests, shutdown). */
  idle(accountId: string): Promise<void> {
    return this.runs.idle(accountId);
  }
}
