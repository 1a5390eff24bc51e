/**
 * Trains the committed sentiment model: `npx tsx ai/train/sentiment.ts [--out ai/models/sentiment.json] [--embed-every 0]`.
 * Reads ../shared/data/sentiment (or $HUMMDESK_CORPUS_DIR/sentiment); see ai/models/NOTICE.md for the sets' licences.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { serialize, train, type Example } from '../learn/softmax.js';
import { localEmbedder } from '../embed/local.js';
import { SENTIMENT_FEATURES, SENTIMENT_MODEL_PATH, SentimentModel, type SentimentModelFile } from '../providers/local/sentiment.js';
import { hashFeatures } from '../text/features.js';
import { wordLexicon } from '../text/lexicon.js';
import { corpusDir, loadSentimentSets, type LabelledText } from './sentiment-data.js';
import { scoreSentiment } from './sentiment-score.js';

const CLASSES = ['negative', 'neutral', 'positive'] as const;
// A unit-length sentence embedding weighs about as much as the n-gram block at this scale.
export const DENSE_SCALE = 1.5;
// Amazon and Yelp reviews are the only real customer text in the sets: tripled, they lift the customer-message proxy (dev half) 0.75 → 0.80.
// The team's support messages are few and define the classes for support: weighted ×10.
export const SOURCE_WEIGHTS: Record<string, number> = { 'uci-amazon': 3, 'uci-yelp': 3, 'support-en': 10, 'support-fi': 10, 'support-sv': 10, 'support-de': 10 };

export interface SentimentTraining {
  epochs?: number;
  /** Sentence embeddings, by row; rows without one train the n-gram weights alone. */
  vectors?: (Float32Array | undefined)[];
  denseScale?: number;
}

/**
 * Multinomial LR over hashed n-grams (plus sentence embeddings where given). Classes are balanced
 * within each source: FinnSentiment is ~73% neutral, XED Swedish and UCI have no neutral at all.
 */
export function trainSentiment(rows: LabelledText[], o: SentimentTraining = {}) {
  const perClass = new Map<string, number>();
  const perSource = new Map<string, { n: number; classes: Set<string> }>();
  for (const r of rows) {
    perClass.set(`${r.source}\t${r.label}`, (perClass.get(`${r.source}\t${r.label}`) ?? 0) + 1);
    const s = perSource.get(r.source) ?? { n: 0, classes: new Set<string>() };
    perSource.set(r.source, { n: s.n + 1, classes: s.classes.add(r.label) });
  }
  const scale = o.denseScale ?? DENSE_SCALE;
  const dense = o.vectors?.some(Boolean) ? o.vectors[o.vectors.findIndex(Boolean)]!.length : 0;
  const data: Example[] = rows.map((r, i) => {
    const s = perSource.get(r.source)!;
    const v = o.vectors?.[i];
    return {
      sparse: hashFeatures(r.text, SENTIMENT_FEATURES),
      dense: v ? Float32Array.from(v, (x) => x * scale) : undefined,
      label: CLASSES.indexOf(r.label),
      weight: Math.min(3, s.n / s.classes.size / perClass.get(`${r.source}\t${r.label}`)!) * (SOURCE_WEIGHTS[r.source] ?? 1),
    };
  });
  return train([...CLASSES], SENTIMENT_FEATURES.buckets, dense, data, { epochs: o.epochs ?? 6, learningRate: 0.5, l2: 1e-6, seed: 1 });
}

const recall = (model: SentimentModel, rows: LabelledText[], label: string) => {
  const gold = rows.filter((r) => r.label === label);
  return gold.length ? gold.filter((r) => model.classify(r.text).sentiment === label).length / gold.length : 1;
};

/** The target: plain requests read neutral at least this often. */
export const PLAIN_REQUESTS_NEUTRAL = 0.85;

/**
 * The offset on a statement's negative score (requests and questions keep theirs) that gives the best
 * balanced accuracy on the team's support dev set while its plain requests, CLINC150's and Bitext's dev
 * requests stay ≥ 0.85 neutral (Bitext's: or lose nothing, where the weights alone read fewer neutral). The emotion
 * sets, most of the data, call a calm report of a failure neutral; the support definition calls it negative.
 */
export function calibrate(model: SentimentModel, dev: LabelledText[]): Partial<Record<'negative', number>> {
  const support = dev.filter((r) => r.source.startsWith('support-dev'));
  const clinc = dev.filter((r) => r.source === 'clinc' && r.label === 'neutral');
  const bitext = dev.filter((r) => r.source === 'bitext');
  if (!support.length) return {};
  // Bitext's requests keep the 0.85 where the weights alone reach it, else lose nothing.
  const bitextFloor = Math.min(PLAIN_REQUESTS_NEUTRAL, recall(model.withCalibration({}), bitext, 'neutral'));
  let best = { negative: 0, score: -1 };
  for (let step = 0; step <= 12; step++) {
    const negative = step / 4;
    const m = model.withCalibration({ negative });
    if (recall(m, support, 'neutral') < PLAIN_REQUESTS_NEUTRAL || recall(m, clinc, 'neutral') < PLAIN_REQUESTS_NEUTRAL || recall(m, bitext, 'neutral') < bitextFloor - 1e-9) continue;
    const score = (['negative', 'neutral', 'positive'] as const).reduce((a, c) => a + recall(m, support, c), 0) / 3;
    if (score > best.score + 1e-9) best = { negative, score };
  }
  return { negative: best.negative };
}

async function main() {
  const { values } = parseArgs({ options: { out: { type: 'string', default: SENTIMENT_MODEL_PATH }, epochs: { type: 'string', default: '6' }, 'embed-every': { type: 'string', default: '0' } } });
  const dir = corpusDir();
  if (!dir) throw new Error('sentiment data not found: set HUMMDESK_CORPUS_DIR or place it at ../shared/data');
  const sets = loadSentimentSets(dir);
  const every = Number(values['embed-every']);
  const started = Date.now();
  // Off by default: USE embeddings on every 8th row moved dev accuracy -1.2 (GoEmotions) to +3 (UCI) points, not worth ~10 min per run.
  const embedder = localEmbedder();
  const vectors: (Float32Array | undefined)[] = new Array(sets.train.length).fill(undefined);
  if (every > 0) {
    const picked = sets.train.map((_, i) => i).filter((i) => i % every === 0);
    const got = await embedder.embed(picked.map((i) => sets.train[i]!.text));
    picked.forEach((i, j) => (vectors[i] = got[j]));
  }
  const m = trainSentiment(sets.train, { epochs: Number(values.epochs), vectors: every > 0 ? vectors : undefined });
  const file: SentimentModelFile = {
    id: `sentiment-hashlr-v6${every > 0 ? '-use' : ''}-${new Date().toISOString().slice(0, 10)}`,
    trainedAt: new Date().toISOString(),
    features: SENTIMENT_FEATURES,
    model: serialize(m),
    embeddingModel: every > 0 ? embedder.modelId : null,
    denseScale: DENSE_SCALE,
    lexicon: SENTIMENT_FEATURES.lexicon ? wordLexicon().fingerprint : undefined,
    metrics: { train_n: sets.train.length, embedded_n: vectors.filter(Boolean).length, train_s: (Date.now() - started) / 1000 },
  };
  writeFileSync(values.out!, JSON.stringify(file));
  // The class offsets are chosen on the quantised model, on dev rows only.
  file.calibration = calibrate(SentimentModel.fromFile(values.out), sets.dev);
  writeFileSync(values.out!, JSON.stringify(file));
  // The quantised model is what ships: its held-out figures are the ones printed.
  const shipped = SentimentModel.fromFile(values.out);
  const test = every > 0 ? await embedder.embed(sets.test.map((r) => r.text)) : undefined;
  const held = scoreSentiment(shipped, sets.test, test);
  file.metrics = { ...file.metrics, ...held };
  writeFileSync(values.out!, JSON.stringify(file));
  process.stdout.write(`${JSON.stringify({ train: 'sentiment', out: values.out, ...file.metrics })}\n`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) await main();
