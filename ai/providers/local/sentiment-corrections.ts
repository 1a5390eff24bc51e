import { normalizeText, type SparseVector } from '../../text/features.js';
import { softmax } from '../../learn/softmax.js';
import type { Sentiment, SentimentModel } from './sentiment.js';

export interface SentimentCorrection {
  text: string;
  label: Sentiment;
  /** The message's sentence embedding, when the shipped model uses one. */
  vector?: ArrayLike<number>;
}

export interface SerializedSentimentResidual {
  kind: 'sentiment-residual';
  /** The shipped model the residual was learned on top of; another base makes it stale. */
  baseModel: string;
  examples: number;
  trainedAt: string;
  bias: number[];
  /** [bucket, Δnegative, Δneutral, Δpositive] for every n-gram the corrections touched. */
  weights: number[][];
  /** [hash of the normalised text, class index]: a message an agent labelled gets that label again. */
  known: number[][];
}

/** Same text up to case, spacing, digits and links: auto-replies and templates come back like this. */
export function textKey(text: string): number {
  let h = 0x811c9dc5;
  for (const ch of normalizeText(text).replace(/\s+/g, ' ').trim()) h = Math.imul(h ^ ch.codePointAt(0)!, 0x01000193);
  return h >>> 0;
}

/**
 * An account's corrections as a residual on the shipped model: its scores are added to the model's,
 * only for n-grams the corrections contained, so the rest of the model is untouched.
 */
export class SentimentResidual {
  constructor(
    readonly baseModel: string,
    private readonly bias: Float64Array,
    private readonly weights: Map<number, Float64Array>,
    private readonly known: Map<number, number>,
    readonly examples: number,
    readonly trainedAt = new Date().toISOString(),
  ) {}

  /** The class index an agent gave this very text, if one did (the latest correction wins). */
  recall(text: string): number | undefined {
    return this.known.get(textKey(text));
  }

  add(z: Float64Array, x: SparseVector): void {
    for (let c = 0; c < z.length; c++) z[c]! += this.bias[c]!;
    for (let i = 0; i < x.idx.length; i++) {
      const w = this.weights.get(x.idx[i]!);
      if (w) for (let c = 0; c < z.length; c++) z[c]! += w[c]! * x.val[i]!;
    }
  }

  toJSON(): SerializedSentimentResidual {
    const r = (n: number) => Math.round(n * 1e4) / 1e4;
    return { kind: 'sentiment-residual', baseModel: this.baseModel, examples: this.examples, trainedAt: this.trainedAt, bias: [...this.bias].map(r), weights: [...this.weights].map(([b, w]) => [b, ...[...w].map(r)]), known: [...this.known] };
  }

  static fromJSON(s: SerializedSentimentResidual): SentimentResidual {
    return new SentimentResidual(s.baseModel, Float64Array.from(s.bias), new Map(s.weights.map(([b, ...w]) => [b!, Float64Array.from(w)])), new Map(s.known.map(([k, c]) => [k!, c!])), s.examples, s.trainedAt);
  }
}

export interface ResidualOptions {
  epochs?: number;
  learningRate?: number;
  /** Pulls the residual towards zero, so a handful of corrections nudges rather than overrides. */
  l2?: number;
  /** Off by default: only-wrong corrections would shift every message's class prior (measured: it hurt). */
  biasRate?: number;
}

/**
 * Learns the residual by SGD on the corrections, the shipped model's scores held fixed. Its defaults
 * are small on purpose: larger steps cost 5–10 points on held-out sets (`npx tsx ai/train/sentiment-corrections.ts`).
 */
export function learnResidual(base: SentimentModel, corrections: SentimentCorrection[], o: ResidualOptions = {}): SentimentResidual {
  const k = base.classes.length;
  const bias = new Float64Array(k);
  const weights = new Map<number, Float64Array>();
  const known = new Map(corrections.map((c) => [textKey(c.text), base.classes.indexOf(c.label)] as const).filter(([, y]) => y >= 0));
  const residual = new SentimentResidual(base.id, bias, weights, known, corrections.length);
  const plain = base.withResidual(undefined);
  const data = corrections.map((c) => {
    const x = base.featuresOf(c.text);
    return { x, y: base.classes.indexOf(c.label), z0: plain.logits(x, c.vector) };
  }).filter((d) => d.y >= 0);
  const epochs = o.epochs ?? 3;
  const l2 = o.l2 ?? 1e-2;
  for (let e = 0; e < epochs; e++) {
    const lr = (o.learningRate ?? 0.02) * (1 - e / epochs);
    for (const d of data) {
      const z = Float64Array.from(d.z0);
      residual.add(z, d.x);
      const p = softmax(z);
      for (let c = 0; c < k; c++) {
        const g = (p[c]! - (c === d.y ? 1 : 0)) * lr;
        bias[c]! -= (g + lr * l2 * bias[c]!) * (o.biasRate ?? 0);
        for (let i = 0; i < d.x.idx.length; i++) {
          let w = weights.get(d.x.idx[i]!);
          if (!w) weights.set(d.x.idx[i]!, (w = new Float64Array(k)));
          w[c]! -= g * d.x.val[i]! + lr * l2 * w[c]!;
        }
      }
    }
  }
  return residual;
}
