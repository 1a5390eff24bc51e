import type { SparseVector } from '../text/features.js';

/**
 * Multinomial logistic regression over sparse hashed features plus an optional dense block
 * (sentence embeddings), trained with averaged-free plain SGD and L2 decay. Small, dependency-free,
 * and fast enough to retrain an account's categories in a second or two.
 */
export interface Example {
  sparse: SparseVector;
  dense?: Float32Array | number[];
  label: number;
  weight?: number;
}

export interface SoftmaxModel {
  classes: string[];
  sparseDim: number;
  denseDim: number;
  /** Row-major [class][feature]: sparseDim sparse weights, then denseDim dense weights, then bias. */
  weights: Float32Array;
}

export function rowSize(m: Pick<SoftmaxModel, 'sparseDim' | 'denseDim'>): number {
  return m.sparseDim + m.denseDim + 1;
}

export function scores(m: SoftmaxModel, sparse: SparseVector, dense?: ArrayLike<number>): Float64Array {
  const k = m.classes.length;
  const rs = rowSize(m);
  const out = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    const base = c * rs;
    let s = m.weights[base + rs - 1]!;
    for (let i = 0; i < sparse.idx.length; i++) s += m.weights[base + sparse.idx[i]!]! * sparse.val[i]!;
    if (dense && m.denseDim) for (let j = 0; j < m.denseDim; j++) s += m.weights[base + m.sparseDim + j]! * dense[j]!;
    out[c] = s;
  }
  return out;
}

export function softmax(z: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of z) max = Math.max(max, v);
  let sum = 0;
  const p = new Float64Array(z.length);
  for (let i = 0; i < z.length; i++) sum += p[i] = Math.exp(z[i]! - max);
  for (let i = 0; i < z.length; i++) p[i]! /= sum;
  return p;
}

export function predict(m: SoftmaxModel, sparse: SparseVector, dense?: ArrayLike<number>): { label: string; confidence: number; probs: Float64Array } {
  const p = softmax(scores(m, sparse, dense));
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i;
  return { label: m.classes[best]!, confidence: p[best]!, probs: p };
}

export interface TrainOptions {
  epochs: number;
  learningRate: number;
  l2: number;
  /** Deterministic shuffling, so the same data gives the same committed model. */
  seed?: number;
}

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

export function train(classes: string[], sparseDim: number, denseDim: number, data: Example[], o: TrainOptions): SoftmaxModel {
  const m: SoftmaxModel = { classes, sparseDim, denseDim, weights: new Float32Array(classes.length * (sparseDim + denseDim + 1)) };
  const rs = rowSize(m);
  const k = classes.length;
  const order = data.map((_, i) => i);
  const rand = rng(o.seed ?? 42);
  // Lazy L2 decay: one global scale instead of touching every weight at every step.
  let scale = 1;
  let step = 0;
  const total = o.epochs * data.length;
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const n of order) {
      const ex = data[n]!;
      const lr = o.learningRate * (1 - step++ / total) + 1e-4;
      scale *= 1 - lr * o.l2;
      if (scale < 1e-6) {
        for (let i = 0; i < m.weights.length; i++) m.weights[i]! *= scale;
        scale = 1;
      }
      const z = scores(m, ex.sparse, ex.dense);
      for (let c = 0; c < k; c++) z[c]! *= scale;
      const p = softmax(z);
      const w = ex.weight ?? 1;
      for (let c = 0; c < k; c++) {
        const g = (p[c]! - (c === ex.label ? 1 : 0)) * lr * w;
        if (g === 0) continue;
        const base = c * rs;
        const gs = g / scale;
        for (let i = 0; i < ex.sparse.idx.length; i++) m.weights[base + ex.sparse.idx[i]!]! -= gs * ex.sparse.val[i]!;
        if (ex.dense && denseDim) for (let j = 0; j < denseDim; j++) m.weights[base + sparseDim + j]! -= gs * ex.dense[j]!;
        m.weights[base + rs - 1]! -= gs;
      }
    }
  }
  for (let i = 0; i < m.weights.length; i++) m.weights[i]! *= scale;
  return m;
}

/** Compact serialisation: int8-quantised weights per class row, base64; a few hundred KB for 2^17 features. */
export interface SerializedSoftmax {
  classes: string[];
  sparseDim: number;
  denseDim: number;
  scales: number[];
  weights: string;
}

export function serialize(m: SoftmaxModel): SerializedSoftmax {
  const rs = rowSize(m);
  const q = new Int8Array(m.weights.length);
  const scales: number[] = [];
  for (let c = 0; c < m.classes.length; c++) {
    let max = 0;
    for (let i = 0; i < rs; i++) max = Math.max(max, Math.abs(m.weights[c * rs + i]!));
    const s = max / 127 || 1;
    scales.push(s);
    for (let i = 0; i < rs; i++) q[c * rs + i] = Math.round(m.weights[c * rs + i]! / s);
  }
  return { classes: m.classes, sparseDim: m.sparseDim, denseDim: m.denseDim, scales, weights: Buffer.from(q.buffer).toString('base64') };
}

export function deserialize(s: SerializedSoftmax): SoftmaxModel {
  const buf = Buffer.from(s.weights, 'base64');
  const q = new Int8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const rs = s.sparseDim + s.denseDim + 1;
  const weights = new Float32Array(q.length);
  for (let c = 0; c < s.classes.length; c++) for (let i = 0; i < rs; i++) weights[c * rs + i] = q[c * rs + i]! * s.scales[c]!;
  return { classes: s.classes, sparseDim: s.sparseDim, denseDim: s.denseDim, weights };
}
