/**
 * Whether a knowledge-base passage may be cited for a customer's message: a small logistic combiner of
 * several signals, fitted on the team's drafts dev set (`npx tsx ai/train/draft-gate.ts`, weights in
 * gate-weights.ts). One word-overlap score with one threshold cited an article for 16 % of the dev
 * set's questions that have none ("Kann ich mit PayPal bezahlen?" shares "bezahlen" with the cancel
 * article): the combiner also asks whether the message names a topic of the article's title, how many
 * of its words the passage has as they are (not look-alikes), and the encoder's cosine where it reads
 * the language.
 */
import { conceptsOf } from '../text/concepts.js';
import { words } from '../text/features.js';
import { contentWords, encoderKnows, relevance, shiftedCosine, wordCoverage, wordsFoundIn } from './relevance.js';
import { GATE } from './gate-weights.js';
import { SUPPORTING_SENSES } from './sense-context.js';
import { sensesOf } from './senses.js';

/** A passage the gate can judge (ai/draft/compose.ts `Candidate` is one). */
export interface GateCandidate {
  articleId: string;
  title: string;
  heading?: string | null;
  text: string;
  language: string;
  similarity?: number | null;
}

/** The signals, each in [0, 1]; the order is the weights' order. */
export const GATE_FEATURES = ['match', 'words', 'title', 'topic', 'cosine', 'strong', 'senses', 'unmet', 'titleSenses'] as const;
export type GateFeature = (typeof GATE_FEATURES)[number];

export interface GateWeights {
  /** One weight per GATE_FEATURES entry, then the bias. */
  weights: number[];
  /** Added to the bias for a message in that language (calibrated per language; absent = 0). */
  languageBias: Record<string, number>;
  /** A passage is cited when its probability reaches this. */
  threshold: number;
  /** Where the weights came from (set, size, date), for the record. */
  fittedOn: string;
}

// Concepts that say nothing about which article fits.
const NOT_TOPICS = new Set(['thanks']);
// A word match this good is the same word inflected (a shared stem scores 0.7), not a look-alike ("sundays"/"days").
const STRONG_MATCH = 0.7;

function topicsOf(text: string): Set<string> {
  return new Set(conceptsOf(words(text)).filter((c) => !NOT_TOPICS.has(c)));
}

/**
 * The gate's signals for one passage. Each is about the message and this passage alone: an account with
 * two articles on one topic gets both as drafts, where a signal relative to the other candidates (the
 * best one's lead, words particular to one article) would let near-duplicates push each other out.
 */
export function gateFeatures(message: string, c: GateCandidate): { match: number; features: number[] } {
  const text = `${c.title}\n${c.heading ?? ''}\n${c.text}`;
  const msgWords = [...new Set(contentWords(message))];
  const titleTopics = topicsOf(`${c.title}\n${c.heading ?? ''}`);
  const match = relevance(message, c);
  const asked = sensesOf(message);
  const answered = sensesOf(text);
  const shared = [...asked].filter((s) => answered.has(s)).length;
  const f: Record<GateFeature, number> = {
    match,
    // The message's content words in the passage (of at most ~40 letters' worth), and the title's words in the message.
    words: wordCoverage(message, text, 40),
    title: wordCoverage(c.title, message),
    // The message names a support concept (ai/text/concepts.ts) that the title or heading names too.
    topic: [...topicsOf(message)].some((t) => titleTopics.has(t)) ? 1 : 0,
    cosine: encoderKnows(c.language) && c.similarity != null ? shiftedCosine(c.similarity) : 0,
    // Distinct message words the passage has nearly as they are: one, two, three or more.
    strong: Math.min(3, wordsFoundIn(msgWords, text, STRONG_MATCH).length) / 3,
    // Meanings the message and the passage share however each words them ("end my membership" / "cancel your subscription"): one or two or more.
    senses: Math.min(2, shared) / 2,
    // The share of the message's senses the passage does not name ("Can I pay by invoice?" against the invoice-copy article).
    unmet: asked.size ? (asked.size - shared) / asked.size : 0,
    // The message names a sense the title or heading names: what the article is about, not what it mentions on the way.
    // One supporting sense alone ("a code", "a phone") is one loose word, not the article's topic.
    titleSenses: [...sensesOf(`${c.title}\n${c.heading ?? ''}`)].some((s) => asked.has(s) && (!SUPPORTING_SENSES.has(s) || shared >= 2)) ? 1 : 0,
  };
  return { match, features: GATE_FEATURES.map((k) => round(f[k])) };
}

export function gateProbability(features: number[], language: string | undefined, g: GateWeights = GATE): number {
  let z = g.weights[GATE_FEATURES.length]! + (language ? g.languageBias[language] ?? 0 : 0);
  for (let i = 0; i < GATE_FEATURES.length; i++) z += g.weights[i]! * features[i]!;
  return 1 / (1 + Math.exp(-z));
}

/** Every candidate with its citation probability (`relevance`) and its plain word/cosine match, best first. */
export function gateScores<T extends GateCandidate>(message: string, candidates: T[], language?: string, g: GateWeights = GATE): (T & { relevance: number; match: number })[] {
  return candidates
    .map((c) => {
      const { match, features } = gateFeatures(message, c);
      return { ...c, match, relevance: round(gateProbability(features, language ?? c.language, g)) };
    })
    .sort((a, b) => b.relevance - a.relevance || b.match - a.match);
}

/** The calibrated citation threshold of the shipped gate. */
export const CITE_THRESHOLD = GATE.threshold;

const round = (n: number) => Math.round(n * 1000) / 1000;
