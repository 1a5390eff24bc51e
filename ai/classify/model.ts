import { hashFeatures, type HashingOptions } from '../text/features.js';
import { deserialize, predict, serialize, train, type Example, type SerializedSoftmax, type SoftmaxModel } from '../learn/softmax.js';
import type { Embedder } from '../embed/embedder.js';

export const UNKNOWN = 'unknown';

/**
 * Character n-grams carry Finnish/Swedish and typos; the English sentence embedding carries meaning;
 * the concepts of the multilingual lexicon (ai/text/concepts.ts) carry what English examples teach
 * to every other language.
 */
export const CATEGORY_FEATURES: HashingOptions = { buckets: 1 << 14, charNgrams: [2, 3, 4], words: true, concepts: 6 };
/** What models stored before the concepts were trained on; they are read with it until retrained. */
export const LEGACY_CATEGORY_FEATURES: HashingOptions = { buckets: 1 << 14, charNgrams: [2, 3, 4], words: true };
// The dense block is scaled so a unit-length embedding weighs about as much as the sparse block.
const DENSE_SCALE = 1.5;

export interface LabelledExample {
  text: string;
  label: string;
}

export interface CategoryPrediction {
  /** The category, or 'unknown' below the threshold. */
  category: string;
  /** The best category even when below the threshold. */
  best: string;
  confidence: number;
  alternatives: { category: string; confidence: number }[];
}

export interface SerializedCategoryModel {
  kind: 'hashed-ngrams+embedding/softmax';
  embeddingModel: string | null;
  threshold: number;
  trainedAt: string;
  examples: number;
  softmax: SerializedSoftmax;
  /** The feature settings it was trained with; absent on models stored before they were recorded. */
  features?: HashingOptions;
}

/** An account's category classifier: softmax over hashed n-grams plus sentence embeddings. */
export class CategoryModel {
  constructor(
    private readonly m: SoftmaxModel,
    readonly threshold: number,
    private readonly embedder: Embedder | undefined,
    readonly trainedAt = new Date().toISOString(),
    readonly examples = 0,
    readonly features: HashingOptions = CATEGORY_FEATURES,
  ) {}

  get categories(): string[] {
    return this.m.classes;
  }

  static async train(examples: LabelledExample[], o: { embedder?: Embedder; threshold?: number; epochs?: number; vectors?: Float32Array[] } = {}): Promise<CategoryModel> {
    const classes = [...new Set(examples.map((e) => e.label))].sort();
    if (classes.length < 2) throw Object.assign(new Error('a category model needs examples of at least two categories'), { code: 'too_few_categories' });
    const vectors = o.vectors ?? (o.embedder ? await o.embedder.embed(examples.map((e) => e.text)) : undefined);
    const data: Example[] = examples.map((e, i) => ({ sparse: hashFeatures(e.text, CATEGORY_FEATURES), dense: vectors ? scaled(vectors[i]!) : undefined, label: classes.indexOf(e.label) }));
    // Few examples need many passes, many examples few; the cost stays about constant.
    const epochs = o.epochs ?? Math.max(4, Math.min(40, Math.round(40_000 / examples.length)));
    const m = train(classes, CATEGORY_FEATURES.buckets, vectors ? o.embedder?.dimension ?? vectors[0]!.length : 0, data, { epochs, learningRate: 0.3, l2: 1e-5, seed: 3 });
    return new CategoryModel(m, o.threshold ?? defaultThreshold(classes.length), o.embedder, new Date().toISOString(), examples.length);
  }

  static fromJSON(s: SerializedCategoryModel, embedder?: Embedder): CategoryModel {
    return new CategoryModel(deserialize(s.softmax), s.threshold, s.softmax.denseDim ? embedder : undefined, s.trainedAt, s.examples, s.features ?? LEGACY_CATEGORY_FEATURES);
  }

  toJSON(): SerializedCategoryModel {
    return { kind: 'hashed-ngrams+embedding/softmax', embeddingModel: this.embedder?.modelId ?? null, threshold: this.threshold, trainedAt: this.trainedAt, examples: this.examples, softmax: serialize(this.m), features: this.features };
  }

  withThreshold(threshold: number): CategoryModel {
    return new CategoryModel(this.m, threshold, this.embedder, this.trainedAt, this.examples, this.features);
  }

  async classify(text: string, vector?: Float32Array): Promise<CategoryPrediction> {
    const v = this.m.denseDim ? vector ?? (await this.embedder!.embed([text]))[0] : undefined;
    return this.classifyWith(text, v);
  }

  /** Synchronous when the embedding is already known (batch evaluation). */
  classifyWith(text: string, vector?: Float32Array): CategoryPrediction {
    const r = predict(this.m, hashFeatures(text, this.features), vector && this.m.denseDim ? scaled(vector) : undefined);
    const alternatives = this.m.classes.map((c, i) => ({ category: c, confidence: r.probs[i]! })).sort((a, b) => b.confidence - a.confidence).slice(0, 3);
    return { category: r.confidence >= this.threshold ? r.label : UNKNOWN, best: r.label, confidence: r.confidence, alternatives };
  }
}

/** With k categories a guess has 1/k; we ask for clearly more than that before naming one. */
export function defaultThreshold(k: number): number {
  return Math.min(0.5, 2 / Math.max(2, k) + 0.1);
}

function scaled(v: Float32Array): Float32Array {
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * DENSE_SCALE;
  return out;
}
