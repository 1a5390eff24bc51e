import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hashFeatures, type HashingOptions } from '../../text/features.js';
import { deserialize, predict, type SerializedSoftmax, type SoftmaxModel } from '../../learn/softmax.js';

export type Sentiment = 'negative' | 'neutral' | 'positive';

/** Feature settings shared by the training script and the runtime: change both or neither. */
export const SENTIMENT_FEATURES: HashingOptions = { buckets: 1 << 17, charNgrams: [3, 4], words: true };

export const SENTIMENT_MODEL_PATH = fileURLToPath(new URL('../../models/sentiment.json', import.meta.url));

export interface SentimentModelFile {
  id: string;
  trainedAt: string;
  features: HashingOptions;
  model: SerializedSoftmax;
  metrics?: Record<string, unknown>;
}

/** The learned three-class sentiment model trained by ai/train/sentiment.ts (English, Finnish, Swedish). */
export class SentimentModel {
  readonly id: string;
  private constructor(private readonly m: SoftmaxModel, private readonly features: HashingOptions, id: string) {
    this.id = id;
  }

  static fromFile(path = SENTIMENT_MODEL_PATH): SentimentModel {
    const f = JSON.parse(readFileSync(path, 'utf8')) as SentimentModelFile;
    return new SentimentModel(deserialize(f.model), f.features, f.id);
  }

  static fromModel(m: SoftmaxModel, features = SENTIMENT_FEATURES, id = 'sentiment-adhoc'): SentimentModel {
    return new SentimentModel(m, features, id);
  }

  classify(text: string): { sentiment: Sentiment; confidence: number; probs: Record<Sentiment, number> } {
    const r = predict(this.m, hashFeatures(text, this.features));
    const probs = Object.fromEntries(this.m.classes.map((c, i) => [c, r.probs[i]!])) as Record<Sentiment, number>;
    return { sentiment: r.label as Sentiment, confidence: r.confidence, probs };
  }
}
