import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readRows } from '../eval/csv.js';

export interface LabelledText {
  text: string;
  label: 'negative' | 'neutral' | 'positive';
  source: string;
  lang: string;
}

/** Where the shared third-party test data lives; undefined when this machine does not have it. */
export function corpusDir(): string | undefined {
  const dir = process.env.HUMMDESK_CORPUS_DIR ?? join(process.cwd(), '..', 'shared', 'data');
  return existsSync(dir) ? dir : undefined;
}

const LABELS = new Set(['negative', 'neutral', 'positive']);

/**
 * The sentiment sets split into train and test. FinnSentiment uses its own CV split column
 * (folds 1–2 held out), GoEmotions its published test file; XED and UCI train only.
 */
export function loadSentimentSets(dir: string): { train: LabelledText[]; test: LabelledText[] } {
  const train: LabelledText[] = [];
  const test: LabelledText[] = [];
  const take = (file: string, source: string, lang: string, into: (r: Record<string, string>) => LabelledText[]) => {
    const path = join(dir, 'sentiment', file);
    if (!existsSync(path)) return;
    for (const r of readRows(path)) {
      if (!r.text?.trim() || !LABELS.has(r.label ?? '')) continue;
      into(r).push({ text: r.text, label: r.label as LabelledText['label'], source, lang });
    }
  };
  take('goemotions/goemotions_3class_train.csv', 'goemotions', 'en', () => train);
  take('goemotions/goemotions_3class_test.csv', 'goemotions', 'en', () => test);
  take('finnsentiment/finnsentiment_3class.csv', 'finnsentiment', 'fi', (r) => (['1', '2'].includes(r.cv_split_1_20 ?? '') ? test : train));
  take('xed/xed_en_3class.csv', 'xed', 'en', () => train);
  take('xed/xed_fi_3class.csv', 'xed', 'fi', () => train);
  take('xed/xed_sv_2class.csv', 'xed', 'sv', () => train);
  take('uci-sentiment-labelled-sentences/uci_sentences_2class.csv', 'uci', 'en', () => train);
  return { train, test };
}

/** Equal numbers per class (the first n of each after a fixed shuffle), for a fair accuracy figure. */
export function balanced<T extends { label: string }>(rows: T[], seed = 7): T[] {
  const by = new Map<string, T[]>();
  let s = seed;
  const shuffled = rows.map((r) => ({ r, k: (s = (s * 1103515245 + 12345) % 2147483648) })).sort((a, b) => a.k - b.k).map((x) => x.r);
  for (const r of shuffled) by.set(r.label, [...(by.get(r.label) ?? []), r]);
  const n = Math.min(...[...by.values()].map((v) => v.length));
  return [...by.values()].flatMap((v) => v.slice(0, n));
}
