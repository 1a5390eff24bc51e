import { threadId } from 'node:worker_threads';
import { LocalEmbedder } from '../embed/local.js';
import { CategoryModel, type CategoryPrediction, type LabelledExample, type SerializedCategoryModel } from '../classify/model.js';
import { SentimentModel, type Sentiment, type SentimentResult } from '../providers/local/sentiment.js';
import { learnResidual, SentimentResidual, type SerializedSentimentResidual } from '../providers/local/sentiment-corrections.js';
import { detectLanguage, type LanguageGuess } from '../providers/local/language.js';

/*
 * The CPU-heavy half of the local AI: sentence embeddings, language ID, category and sentiment
 * prediction, and training. It runs in the hub's AI threads (ai/workers/thread.ts); the main thread
 * only sends it texts and model references (ai/workers/pool.ts). The same code runs inline in the
 * `hummdesk eval` command and in tests that build a provider without threads.
 */

/** One message to analyse; models are named by key, sent along only when the thread asks for them. */
export interface TextToAnalyze {
  text: string;
  /** The account's configured languages: a prior for language ID. */
  languages: string[];
  /** Key of the account's category model. */
  category: string;
  /** Key of the account's sentiment corrections; null: the shipped model alone. */
  sentiment: string | null;
}

export interface AnalyzedText {
  language: LanguageGuess | null;
  /** The text's sentence embedding (the knowledge-base search reuses it). */
  vector: Float32Array;
  category: CategoryPrediction;
  sentiment: SentimentResult | null;
}

export type ModelJson = { kind: 'category'; model: SerializedCategoryModel } | { kind: 'sentiment'; residual: SerializedSentimentResidual };

export type AiTask =
  | { kind: 'embed'; texts: string[] }
  | { kind: 'analyze'; items: TextToAnalyze[]; models?: Record<string, ModelJson> }
  /** `vectors`: one per example, or all of them end to end in one array (one buffer the pool moves to a thread instead of copying thousands). */
  | { kind: 'train-categories'; examples: LabelledExample[]; vectors?: Float32Array[] | Float32Array; threshold?: number }
  | { kind: 'learn-sentiment'; examples: { text: string; label: Sentiment }[] };

export type AiTaskResult<T extends AiTask> = T extends { kind: 'embed' } ? Float32Array[]
  : T extends { kind: 'analyze' } ? { missing: string[] } | { items: AnalyzedText[] }
  : T extends { kind: 'train-categories' } ? SerializedCategoryModel
  : T extends { kind: 'learn-sentiment' } ? SerializedSentimentResidual
  : never;

// Category models and sentiment corrections of this many accounts stay decoded in each thread.
const CACHED_MODELS = 200;

/** One thread's models: the sentence encoder, the shipped sentiment model, and accounts' models by key. */
export class AiKernel {
  readonly threadId = threadId;
  private readonly embedder = new LocalEmbedder();
  private sentimentBase?: SentimentModel;
  private readonly models = new Map<string, CategoryModel | SentimentModel>();

  async run<T extends AiTask>(task: T): Promise<AiTaskResult<T>> {
    return (await this.dispatch(task)) as AiTaskResult<T>;
  }

  private async dispatch(task: AiTask): Promise<unknown> {
    switch (task.kind) {
      case 'embed':
        return this.embedder.embed(task.texts);
      case 'analyze':
        return this.analyze(task.items, task.models ?? {});
      case 'train-categories':
        return (await CategoryModel.train(task.examples, { embedder: this.embedder, vectors: task.vectors && rows(task.vectors, task.examples.length), threshold: task.threshold })).toJSON();
      case 'learn-sentiment':
        return learnResidual(this.sentiment(), task.examples).toJSON();
      default:
        throw Object.assign(new Error(`unknown AI task ${(task as { kind: string }).kind}`), { code: 'ai_task_unknown' });
    }
  }

  private sentiment(): SentimentModel {
    return (this.sentimentBase ??= SentimentModel.fromFile());
  }

  /** The models the items name; keys this thread has not seen and was not sent are reported missing. */
  private async analyze(items: TextToAnalyze[], sent: Record<string, ModelJson>): Promise<{ missing: string[] } | { items: AnalyzedText[] }> {
    for (const [key, json] of Object.entries(sent)) this.remember(key, json.kind === 'category' ? CategoryModel.fromJSON(json.model, this.embedder) : this.sentiment().withResidual(SentimentResidual.fromJSON(json.residual)));
    const missing = [...new Set(items.flatMap((i) => (i.sentiment ? [i.category, i.sentiment] : [i.category])).filter((k) => !this.models.has(k)))];
    if (missing.length) return { missing };
    // One embedding call for the whole batch: the encoder's cost per text falls with the batch size.
    const vectors = await this.embedder.embed(items.map((i) => i.text || ' '));
    const out: AnalyzedText[] = [];
    for (const [n, item] of items.entries()) {
      const category = this.models.get(item.category) as CategoryModel;
      const sentiment = item.sentiment ? (this.models.get(item.sentiment) as SentimentModel) : this.sentiment();
      const language = (await detectLanguage(item.text, item.languages)) ?? null;
      out.push({
        language,
        vector: vectors[n]!,
        category: category.classifyWith(item.text, vectors[n]),
        sentiment: item.text ? sentiment.classify(item.text) : null,
      });
    }
    return { items: out };
  }

  private remember(key: string, model: CategoryModel | SentimentModel): void {
    this.models.delete(key);
    this.models.set(key, model);
    if (this.models.size > CACHED_MODELS) this.models.delete(this.models.keys().next().value!);
  }
}

/** Vectors one per example: as given, or cut from one end-to-end array (views, no copies). */
function rows(vectors: Float32Array[] | Float32Array, count: number): Float32Array[] {
  if (Array.isArray(vectors)) return vectors;
  const dim = count ? vectors.length / count : 0;
  if (!Number.isInteger(dim)) throw Object.assign(new Error(`${vectors.length} numbers are not ${count} vectors`), { code: 'ai_task_invalid' });
  return Array.from({ length: count }, (_, i) => vectors.subarray(i * dim, (i + 1) * dim));
}
