import type { eld as Eld } from 'eld/large';

/** Languages we fold onto one code: Norwegian is reported as Bokmål. */
const FOLD: Record<string, string> = { no: 'nb', nn: 'nb' };

// How much an account's configured languages are preferred when the text alone is ambiguous.
const PRIOR_BOOST = 1.6;
const OUTSIDE_PRIOR = 0.25;

/**
 * Letters a language's alphabet does not have: a text containing one cannot be in it. Only for the
 * pairs eld confuses on short text (ru/uk/bg/sr/be, the Nordic languages, es/pt/ca).
 */
const NOT_IN_ALPHABET: Record<string, RegExp> = {
  ru: /[іїєґўђјљњћџ]/, uk: /[ыэъё]/, bg: /[ыэё]/, sr: /[ыэъёйщяюь]/, be: /[ищъ]/,
  da: /[äöüß]/, no: /[äöüß]/, sv: /[æøüß]/, fi: /[õæøñß]/, et: /[åæøñß]/, de: /[åæøñõ]/, nl: /[äöåæøñß]/, en: /[äöåæøñßõ]/,
  es: /[ãõçàèòâêô]/, pt: /[ñ¿¡]/, ca: /[ñ¿¡á]/, it: /[ñ¿¡]/,
};

export interface LanguageGuess {
  language: string;
  confidence: number;
  reliable: boolean;
}

let detector: Promise<typeof Eld> | undefined;

/**
 * eld's large n-gram database costs about a second and 370 MB: it loads when the AI stage first detects a
 * language, never in a process that only serves HTTP.
 */
export function languageDetector(): Promise<typeof Eld> {
  return (detector ??= import('eld/large').then((m) => m.eld));
}

/**
 * Language of a message with eld's large n-gram database (60 languages), dropping languages whose
 * alphabet lacks a letter of the text and preferring the account's configured languages: on short
 * text their scores are boosted, so "Hej, tack!" lands on sv for a Swedish desk.
 */
export async function detectLanguage(text: string, prior: string[] = []): Promise<LanguageGuess | undefined> {
  const sample = text.slice(0, 2000);
  if (!/\p{L}/u.test(sample)) return undefined;
  const r = (await languageDetector()).detect(sample);
  const lower = sample.toLowerCase();
  const scores = new Map<string, number>();
  for (const [lang, s] of Object.entries(r.getScores())) {
    if (NOT_IN_ALPHABET[lang]?.test(lower)) continue;
    const code = FOLD[lang] ?? lang;
    scores.set(code, Math.max(scores.get(code) ?? 0, s));
  }
  if (scores.size === 0) return r.language ? { language: FOLD[r.language] ?? r.language, confidence: 0.5, reliable: false } : undefined;
  const preferred = new Set(prior.map((l) => FOLD[l] ?? l));
  // A configured language with any evidence wins over unconfigured ones unless they are far ahead.
  const anyPreferred = [...scores.keys()].some((l) => preferred.has(l));
  let best = '';
  let bestScore = -Infinity;
  let total = 0;
  for (const [lang, s] of scores) {
    const boosted = preferred.has(lang) ? s * PRIOR_BOOST : anyPreferred ? s * OUTSIDE_PRIOR : s;
    total += boosted;
    if (boosted > bestScore) (best = lang), (bestScore = boosted);
  }
  return { language: best, confidence: total > 0 ? Math.min(1, bestScore / total) : 0, reliable: r.isReliable() };
}
