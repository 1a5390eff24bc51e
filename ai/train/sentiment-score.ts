import { metrics, round } from '../eval/report.js';
import type { SentimentModel } from '../providers/local/sentiment.js';
import { balanced, type LabelledText } from './sentiment-data.js';

/** The held-out sets reported for the sentiment model; UCI's Amazon and Yelp reviews are real customer text. */
export const HELD_OUT: Record<string, (r: LabelledText) => boolean> = {
  goemotions: (r) => r.source === 'goemotions',
  finnsentiment: (r) => r.source === 'finnsentiment',
  xed_en: (r) => r.source === 'xed-en',
  xed_fi: (r) => r.source === 'xed-fi',
  xed_sv: (r) => r.source === 'xed-sv',
  uci_amazon_yelp: (r) => r.source === 'uci-amazon' || r.source === 'uci-yelp',
  uci_imdb: (r) => r.source === 'uci-imdb',
  clinc_requests: (r) => r.source === 'clinc',
  bitext_requests: (r) => r.source === 'bitext',
  // The nearest we have to customer messages: Amazon/Yelp complaints and praise, Bitext's plain requests.
  support_heldout: (r) => r.source.startsWith('support-heldout'),
  support_check: (r) => r.source.startsWith('support-check'),
  customer_proxy: (r) => r.source === 'uci-amazon' || r.source === 'uci-yelp' || r.source === 'bitext',
};

/** On two-class sets (no neutral gold label) the stronger of negative/positive is the answer. */
export function predictFor(model: SentimentModel, text: string, twoClass: boolean, vector?: ArrayLike<number>): string {
  const c = model.classify(text, vector);
  return twoClass ? (c.probs.negative >= c.probs.positive ? 'negative' : 'positive') : c.sentiment;
}

/** Accuracy and macro-F1 of each held-out set, as is and class-balanced. */
export function scoreSentiment(model: SentimentModel, rows: LabelledText[], vectors?: ArrayLike<number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  const indexed = rows.map((r, i) => ({ ...r, i }));
  for (const [name, pick] of Object.entries(HELD_OUT)) {
    const part = indexed.filter(pick);
    if (!part.length) continue;
    const two = !part.some((r) => r.label === 'neutral');
    for (const [suffix, set] of [['', part], ['_balanced', balanced(part)]] as const) {
      const m = metrics(set.map((r) => ({ gold: r.label, predicted: predictFor(model, r.text, two, vectors?.[r.i]) })));
      out[`${name}${suffix}_acc`] = round(m.accuracy);
      out[`${name}${suffix}_f1`] = round(m.macroF1);
      out[`${name}${suffix}_n`] = set.length;
    }
  }
  return out;
}
