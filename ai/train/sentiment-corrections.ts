/**
 * Measures what an account's corrections do: `npx tsx ai/train/sentiment-corrections.ts`. Trains on the
 * train split, takes the dev rows the model gets wrong as an agent's corrections, and scores the
 * class-balanced test split before and after, with the shipped residual settings and larger steps.
 */
import { learnResidual, type ResidualOptions } from '../providers/local/sentiment-corrections.js';
import { SentimentModel } from '../providers/local/sentiment.js';
import { deserialize, serialize } from '../learn/softmax.js';
import { round } from '../eval/report.js';
import { balanced, corpusDir, loadSentimentSets, type LabelledText } from './sentiment-data.js';
import { trainSentiment } from './sentiment.js';

const SETTINGS: Record<string, ResidualOptions> = { shipped: {}, larger_steps: { learningRate: 0.5, epochs: 8, l2: 1e-3 } };

async function main() {
  const dir = corpusDir();
  if (!dir) throw new Error('sentiment data not found: set HUMMDESK_CORPUS_DIR or place it at ../shared/data');
  const sets = loadSentimentSets(dir);
  const base = SentimentModel.fromModel(deserialize(serialize(trainSentiment(sets.train))));
  const acc = (m: SentimentModel, rows: LabelledText[]) => round(rows.filter((r) => m.classify(r.text).sentiment === r.label).length / rows.length);
  for (const source of ['finnsentiment', 'xed-fi', 'goemotions']) {
    const test = balanced(sets.test.filter((r) => r.source === source));
    const wrong = sets.dev.filter((r) => r.source === source && base.classify(r.text).sentiment !== r.label);
    const row: Record<string, unknown> = { source, test_n: test.length, base: acc(base, test) };
    for (const n of [50, 200]) {
      const corrections = wrong.slice(0, n);
      for (const [name, o] of Object.entries(SETTINGS)) {
        const refined = base.withResidual(learnResidual(base, corrections, o));
        row[`${name}_${n}`] = acc(refined, test);
        // The corrected messages themselves must come back with the agent's label.
        row[`${name}_${n}_recalled`] = acc(refined, corrections);
      }
    }
    process.stdout.write(`${JSON.stringify(row)}\n`);
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) await main();
