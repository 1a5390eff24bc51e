/**
 * Trains the committed sentiment model: `npx tsx ai/train/sentiment.ts [--out ai/models/sentiment.json]`.
 * Reads ../shared/data/sentiment (or $HUMMDESK_CORPUS_DIR/sentiment); see ai/models/NOTICE.md for the sets' licences.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { hashFeatures } from '../text/features.js';
import { serialize, train, type Example } from '../learn/softmax.js';
import { SENTIMENT_FEATURES, SENTIMENT_MODEL_PATH, SentimentModel, type SentimentModelFile } from '../providers/local/sentiment.js';
import { balanced, corpusDir, loadSentimentSets, type LabelledText } from './sentiment-data.js';

const CLASSES = ['negative', 'neutral', 'positive'] as const;

export function trainSentiment(rows: LabelledText[], opts: { epochs?: number } = {}) {
  // Balance classes by weight: FinnSentiment is ~73% neutral and would otherwise swamp the rest.
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.label, (counts.get(r.label) ?? 0) + 1);
  const mean = rows.length / counts.size;
  const data: Example[] = rows.map((r) => ({
    sparse: hashFeatures(r.text, SENTIMENT_FEATURES),
    label: CLASSES.indexOf(r.label),
    weight: Math.min(3, mean / counts.get(r.label)!),
  }));
  return train([...CLASSES], SENTIMENT_FEATURES.buckets, 0, data, { epochs: opts.epochs ?? 6, learningRate: 0.5, l2: 1e-6, seed: 1 });
}

export function accuracy(model: SentimentModel, rows: LabelledText[]): number {
  let ok = 0;
  for (const r of rows) if (model.classify(r.text).sentiment === r.label) ok++;
  return rows.length ? ok / rows.length : 0;
}

async function main() {
  const { values } = parseArgs({ options: { out: { type: 'string', default: SENTIMENT_MODEL_PATH }, epochs: { type: 'string', default: '6' } } });
  const dir = corpusDir();
  if (!dir) throw new Error('sentiment data not found: set HUMMDESK_CORPUS_DIR or place it at ../shared/data');
  const { train: rows, test } = loadSentimentSets(dir);
  const started = Date.now();
  const m = trainSentiment(rows, { epochs: Number(values.epochs) });
  const model = SentimentModel.fromModel(m);
  const metrics: Record<string, number> = { train_n: rows.length, train_s: (Date.now() - started) / 1000 };
  for (const src of ['goemotions', 'finnsentiment']) {
    const part = test.filter((r) => r.source === src);
    metrics[`${src}_test_acc`] = accuracy(model, part);
    metrics[`${src}_test_balanced_acc`] = accuracy(model, balanced(part));
  }
  const file: SentimentModelFile = { id: `sentiment-hashlr-${new Date().toISOString().slice(0, 10)}`, trainedAt: new Date().toISOString(), features: SENTIMENT_FEATURES, model: serialize(m), metrics };
  writeFileSync(values.out!, JSON.stringify(file));
  // The quantised model is what ships: report its figures, not the float one's.
  const shipped = SentimentModel.fromFile(values.out);
  for (const src of ['goemotions', 'finnsentiment']) metrics[`${src}_shipped_balanced_acc`] = accuracy(shipped, balanced(test.filter((r) => r.source === src)));
  process.stdout.write(`${JSON.stringify({ train: 'sentiment', out: values.out, ...metrics })}\n`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) await main();
