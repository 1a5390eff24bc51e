/**
 * How well a knowledge-base passage matches a customer's message, in [0, 1] (one of the citation gate's
 * signals, ai/draft/gate.ts): the share of the
 * message's content words that the passage (title, heading, text) has, with words matched by shared
 * character trigrams so inflected and compound forms count ("salasanani" ~ "salasanan",
 * "Passwort" ~ "Passwortes"), blended with the embedding model's cosine similarity when there is one.
 * The local sentence encoder is English-only; the word half is what carries Finnish, Swedish and German.
 */

// Function words and support boilerplate in the languages the templates cover; they say nothing about the topic.
const STOP = new Set(`
a an the and or but if then so to of in on at by for with from about as is are was were be been am do does did have has had i me my mine
you your we our us it its this that these those there here what which who whom how why when where can could would should will shall may
might must not no yes please hi hello hey thanks thank dear regards still just also any some get got need want help again now very much
ja tai mutta jos niin että on ei en et se ne minä sinä me te he mun minun sinun meidän teidän tämä tuo mikä mitä miksi miten milloin missä
voi voiko voinko voisitteko kiitos hei moi terve olen oli ole olla onko vielä nyt myös kun kuin jo enää yhtään mitään
och eller men om så att är var vara har hade jag mig min mitt mina du dig din ditt ni er vi oss den det denna detta vad vilken hur varför
när där kan kunde skulle ska vill inte ingen tack hej också bara nu fortfarande redan igen
und oder aber wenn dann dass ist sind war waren sein habe hat haben hatte ich mich mir mein meine meinen du sie ihr ihre ihnen wir uns es
der die das den dem des ein eine einen einem was welche wie warum wann wo kann können könnte würde soll will nicht kein keine danke
hallo bitte auch nur jetzt noch schon wieder mehr
og eller men hvis at er var være har havde jeg mig min mit du din dit vi os den det hvad hvordan hvorfor hvornår hvor kan kunne vil ikke tak hej
også bare nu stadig igen jeg meg mitt hva hvordan hvorfor når ikke takk
`.split(/\s+/).filter(Boolean));

export function contentWords(text: string): string[] {
  return (text.normalize('NFKC').toLowerCase().match(/\p{L}[\p{L}\p{N}'-]*|\p{N}+/gu) ?? [])
    .map((w) => w.replace(/'s$/, ''))
    .filter((w) => w.length >= 3 && !STOP.has(w) && !/^\p{N}+$/u.test(w));
}

function trigrams(word: string): Set<string> {
  const w = ` ${word} `;
  const out = new Set<string>();
  for (let i = 0; i + 3 <= w.length; i++) out.add(w.slice(i, i + 3));
  return out;
}

/** Dice overlap of two words' trigrams; a shared leading stem of 5+ letters (most of the shorter word) counts as a match (inflection). */
function wordMatch(a: string, b: string, ga: Set<string>, gb: Set<string>): number {
  if (a === b) return 1;
  let shared = 0;
  for (const g of ga) if (gb.has(g)) shared++;
  const dice = (2 * shared) / (ga.size + gb.size);
  // A shared start is an inflection when it is most of the shorter word ("bezahlen"/"bezahlten"), not a compound's
  // first part ("Geschenkgutscheine"/"Geschäftskunden" share only "gesch").
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  const stem = common >= 5 && common >= 0.6 * Math.min(a.length, b.length) ? 0.7 : 0;
  const inside = a.length >= 6 && b.length >= 6 && (a.includes(b) || b.includes(a)) ? 0.8 : 0;
  return Math.max(dice, stem, inside);
}

// A word of the message counts as present when its best match in the passage reaches this overlap.
const WORD_MATCH = 0.5;

const TITLE = 0.9;

/** The message's content words (distinct) that the passage has, matched at least this well. */
export function wordsFoundIn(messageWords: string[], passage: string, atLeast = WORD_MATCH): string[] {
  const p = [...new Set(contentWords(passage))].map((w) => ({ w, g: trigrams(w) }));
  return messageWords.filter((w) => {
    const g = trigrams(w);
    return p.some((x) => wordMatch(w, x.w, g, x.g) >= atLeast);
  });
}

/** The share (by length) of the message's content words that the passage has (of at most ENOUGH_WEIGHT). */
export function wordCoverage(message: string, passage: string, enough = Infinity): number {
  const q = [...new Set(contentWords(message))];
  if (!q.length) return 0;
  const p = [...new Set(contentWords(passage))].map((w) => ({ w, g: trigrams(w) }));
  let hit = 0;
  let total = 0;
  for (const w of q) {
    const g = trigrams(w);
    let best = 0;
    for (const x of p) best = Math.max(best, wordMatch(w, x.w, g, x.g));
    const weight = Math.min(w.length, 10);
    total += weight;
    if (best >= WORD_MATCH) hit += weight * best;
  }
  return Math.min(1, hit / Math.min(total, enough));
}

export interface RelevanceInput {
  title: string;
  heading?: string | null;
  text: string;
  /** Cosine similarity from the sentence encoder, when the passage came up in the vector search. */
  similarity?: number | null;
}

/** Weight of the word coverage; the rest is the (shifted) cosine similarity. */
const WORDS = 0.6;
// USE lite cosines of unrelated support texts sit around 0.2; shifting puts them near zero.
const COSINE_FLOOR = 0.2;

/** The languages the sentence encoder (Universal Sentence Encoder lite) was trained on; elsewhere its cosine says little. */
const ENCODER_LANGUAGES = new Set(['en']);

export function encoderKnows(language: string | undefined): boolean {
  return !!language && ENCODER_LANGUAGES.has(language);
}

// A long message is not held against a passage: a few strong matching words are enough.
const ENOUGH_WEIGHT = 40;

export function relevance(message: string, p: RelevanceInput & { language?: string }): number {
  // Two ways to fit: the message's words are in the passage, or the title's topic words (two or more) are in the message.
  const titleWords = new Set(contentWords(p.title));
  const words = Math.max(
    wordCoverage(message, `${p.title}\n${p.heading ?? ''}\n${p.text}`, ENOUGH_WEIGHT),
    titleWords.size >= 2 ? TITLE * wordCoverage(p.title, message) : 0,
  );
  // Finnish, Swedish or German texts all sit at cosine 0.7-0.9 to each other in the English encoder: only the words count there.
  const usable = p.similarity != null && (!p.language || ENCODER_LANGUAGES.has(p.language));
  const cos = usable ? shiftedCosine(p.similarity!) : words;
  return round(WORDS * words + (1 - WORDS) * cos);
}

/** The encoder's cosine with unrelated texts' level (~0.2) moved to zero. */
export function shiftedCosine(similarity: number): number {
  return Math.max(0, (similarity - COSINE_FLOOR) / (1 - COSINE_FLOOR));
}

/**
 * How well a passage in another language than the message fits it: their words cannot be compared, so
 * this is the encoder's (shifted) cosine for a passage in a language it knows, and the word coverage
 * otherwise (names, numbers and loanwords). Only ever used to tell the agent which article fits.
 */
export function relevanceAcross(message: string, p: RelevanceInput & { language?: string }): number {
  const usable = p.similarity != null && (!p.language || ENCODER_LANGUAGES.has(p.language));
  return usable ? round(shiftedCosine(p.similarity!)) : relevance(message, p);
}

/**
 * How well an article in another language must fit (`relevanceAcross`) to be suggested to the agent with
 * confidence, or (by the encoder, for a message it reads) to have its customer-language variant cited.
 * Calibrated on the drafts dev set when this was the one citation threshold; citing in the customer's
 * language is the gate's (gate.ts).
 */
export const ACROSS_THRESHOLD = 0.36;

const round = (n: number) => Math.round(n * 1000) / 1000;
