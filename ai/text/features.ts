/** Hashed bag-of-n-grams: language-agnostic sparse features with no vocabulary to ship (the optional word valences come from an npm package). */
import { valenceOf } from './lexicon.js';
import { conceptsOf, isCourteousRequest, problemCuesOf } from './concepts.js';

export interface SparseVector {
  idx: Int32Array;
  val: Float32Array;
}

export interface HashingOptions {
  /** Number of hash buckets (a power of two). */
  buckets: number;
  /** Character n-gram sizes, taken inside word boundaries (" word "). */
  charNgrams: number[];
  /** Word unigrams and bigrams. */
  words: boolean;
  /** Emoji as word tokens (the word pattern skips them). */
  emoji?: boolean;
  /** The words after a negator ("not", "ei", "inte", "nicht", …) as negated features instead of plain ones. */
  negation?: boolean;
  /** Word valences from a multilingual lexicon as shared features, so what one language teaches carries to another. */
  lexicon?: boolean;
  /** Support concepts of the multilingual lexicon (ai/text/concepts.ts) as shared features, each counted this many times. */
  concepts?: number;
  /** Problem cues (failure, delay, loss, dissatisfaction) of the same lexicon as shared features, each counted this many times. */
  problemCues?: number;
}

// Negators of the languages we serve; Finnish "en"/"et" are left out, they are Swedish/Estonian words too.
const NEGATORS = new Set(['not', 'no', 'never', 'nothing', 'cannot', 'without', 'ei', 'eikä', 'älä', 'eivät', 'emme', 'ette', 'inte', 'ej', 'aldrig', 'ingen', 'inget', 'utan', 'nicht', 'kein', 'keine', 'nie', 'ikke', 'aldri']);
// How many words a negation reaches: "not very good" flips "good" too.
const NEGATION_SCOPE = 3;

function isNegator(w: string): boolean {
  return NEGATORS.has(w) || w.endsWith("n't");
}

/** Which words fall within a negation's reach; "!" or "?" ends it. */
function negatedWords(ws: string[]): boolean[] {
  let left = 0;
  return ws.map((w) => {
    if (/^[!?]/.test(w)) return (left = 0), false;
    if (isNegator(w)) return (left = NEGATION_SCOPE), false;
    return left > 0 ? (left--, true) : false;
  });
}

// FNV-1a: fast, stable across runs and platforms, so trained weights stay valid.
function fnv1a(s: string, seed: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function normalizeText(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/https?:\/\/\S+/g, ' url ')
    .replace(/\S+@\S+\.\S+/g, ' email ')
    .replace(/\d+/g, '0');
}

export function words(text: string): string[] {
  return normalizeText(text).match(/[\p{L}\p{N}']+|[!?]+|[:;]-?[()dp]/gu) ?? [];
}

/** Features of one text, L2-normalised; colliding n-grams add up. */
export function hashFeatures(text: string, o: HashingOptions): SparseVector {
  const counts = new Map<number, number>();
  const mask = o.buckets - 1;
  const add = (key: string, seed: number, w = 1) => {
    const b = fnv1a(key, seed) & mask;
    counts.set(b, (counts.get(b) ?? 0) + w);
  };
  // Typographic apostrophes ("don’t") would split a negator in two.
  const ws = o.negation && text.includes('’') ? words(text.replace(/’/g, "'")) : words(text);
  const negated = o.negation ? negatedWords(ws) : undefined;
  if (o.words) {
    for (let i = 0; i < ws.length; i++) {
      // A negated word is a different feature: "not good" must not count as "good".
      if (negated?.[i]) add(`not ${ws[i]}`, 3);
      else add(ws[i]!, 1);
      if (i > 0) add(`${negated?.[i] ? 'not ' : ''}${ws[i - 1]} ${ws[i]}`, 2);
    }
  }
  if (o.lexicon) {
    for (let i = 0; i < ws.length; i++) {
      // Negated valence is left to the word's own "not …" feature: "can't thank you enough" is praise, "not good" is not.
      if (negated?.[i] || (o.negation && isNegator(ws[i]!))) continue;
      const v = valenceOf(ws[i]!);
      if (v) add(`${v.stem ? 'stem' : 'word'} valence ${v.value}`, 5);
    }
  }
  if (o.concepts) for (const c of conceptsOf(ws)) add(`concept ${c}`, 6, o.concepts);
  if (o.problemCues) {
    const cues = problemCuesOf(ws);
    for (const c of cues) add(`problem ${c}`, 7, o.problemCues);
    if (cues.length) add('problem any', 7, o.problemCues);
    if (isCourteousRequest(ws)) add('courteous request', 7, o.problemCues);
  }
  if (o.emoji) for (const e of text.match(/\p{Extended_Pictographic}/gu) ?? []) add(e, 4);
  for (let j = 0; j < ws.length; j++) {
    if (negated?.[j]) continue;
    const padded = ` ${ws[j]} `;
    for (const n of o.charNgrams) for (let i = 0; i + n <= padded.length; i++) add(padded.slice(i, i + n), 10 + n, 0.5);
  }
  const idx = new Int32Array(counts.size);
  const val = new Float32Array(counts.size);
  let k = 0;
  let norm = 0;
  for (const [i, c] of counts) {
    // Sublinear term frequency keeps a repeated word from dominating.
    const v = 1 + Math.log(c);
    idx[k] = i;
    val[k++] = v;
    norm += v * v;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < val.length; i++) val[i]! /= norm;
  return { idx, val };
}
