import type { DraftProposal } from '../../hub/ai-stage.js';
import { ACROSS_THRESHOLD, encoderKnows, relevanceAcross } from './relevance.js';
import { CITE_THRESHOLD, gateScores } from './gate.js';
import { detailsGiven, isThankYou, soundsUpset, withoutAsksFor, type Detail } from './signals.js';
import { greet, phrasesFor, sentence, type Phrases } from './templates.js';

/** A knowledge-base passage that may answer the message (from the hybrid search, or the eval's own ranking). */
export interface Candidate {
  chunkId: string;
  articleId: string;
  title: string;
  heading?: string | null;
  text: string;
  language: string;
  url?: string | null;
  /** Cosine similarity from the sentence encoder, when known. */
  similarity?: number | null;
}

export interface DraftContext {
  /** The customer's newest message. */
  text: string;
  /** The customer's language (detected). */
  language: string | undefined;
  sentiment?: 'negative' | 'neutral' | 'positive';
  priority?: 'low' | 'normal' | 'high' | 'urgent';
  /** The customer's first name, when known. */
  name?: string;
}

/**
 * Why a draft says what it says (or why there is none), for the agent: stored in the analysis's
 * evidence as `draft`. Stable reasons: `answered`, `thanks`, `no_relevant_article`,
 * `article_in_other_language`, `language_not_supported`, `language_unknown`, `empty_message`.
 */
export interface DraftNote {
  reason: 'answered' | 'thanks' | 'no_relevant_article' | 'article_in_other_language' | 'language_not_supported' | 'language_unknown' | 'empty_message';
  language: string | null;
  tone: 'apology' | 'urgent' | 'plain';
  /** Details the customer gave that the draft reflects. */
  details: Detail[];
  /** The best passage's relevance and the threshold it had to reach. */
  relevance: number | null;
  threshold: number;
  /** For the agent only, never cited: an article in another language that fits. */
  suggestion?: { articleId: string; title: string; language: string; relevance: number; confidence: 'high' | 'low' };
}

export interface ComposedDrafts {
  draft?: DraftProposal;
  alternatives: DraftProposal[];
  note: DraftNote;
}

/** A candidate scored by how well it answers the message. */
export interface Scored extends Candidate {
  /** The citation gate's probability that it answers the message (gate.ts); cited at CITE_THRESHOLD. */
  relevance: number;
}

/** Candidates in the message's language, each with the gate's citation probability, best first. */
export function score<T extends Candidate>(text: string, candidates: T[], language?: string): (T & { relevance: number; match: number })[] {
  return gateScores(text, candidates, language);
}

// Alternatives besides the first choice, each around its own further article.
const MAX_ALTERNATIVES = 2;

/**
 * The offline draft: always in the customer's language or not at all; a passage is cited only at or
 * above the calibrated relevance and only in the customer's language (an article in another language
 * is a suggestion for the agent); a thank-you gets a short thanks; an unanswered question an honest
 * holding reply; a negative or urgent message opens with an apology or acknowledgement; details the
 * customer gave are repeated back and the cited passage does not ask for them again.
 * `inLanguage` are candidates in the customer's language, `elsewhere` candidates in other languages
 * (each with `variant`: the customer-language variant of the same article, when the account has one).
 */
export function composeDrafts(ctx: DraftContext, inLanguage: Candidate[], elsewhere: (Candidate & { variant?: Candidate })[] = [], o: { threshold?: number; scored?: Scored[] } = {}): ComposedDrafts {
  const threshold = o.threshold ?? CITE_THRESHOLD;
  const details = detailsGiven(ctx.text);
  const upset = ctx.sentiment === 'negative' || soundsUpset(ctx.text);
  const tone: DraftNote['tone'] = upset ? 'apology' : ctx.priority === 'urgent' || ctx.priority === 'high' ? 'urgent' : 'plain';
  const base = { language: ctx.language ?? null, tone, details, threshold };
  if (!ctx.text.trim()) return { alternatives: [], note: { ...base, reason: 'empty_message', relevance: null } };
  if (!ctx.language) return { alternatives: [], note: { ...base, reason: 'language_unknown', relevance: null } };
  const p = phrasesFor(ctx.language);
  if (!p) return { alternatives: [], note: { ...base, reason: 'language_not_supported', relevance: null } };
  const write = (answer?: Scored) => draftText(p, ctx, tone, details, answer);

  if (isThankYou(ctx.text) && !upset)
    return { draft: { text: write(), citations: [], extractive: true }, alternatives: [], note: { ...base, tone: 'plain', reason: 'thanks', relevance: null } };

  // The customer-language variants of articles found in other languages are judged by the same gate as the rest.
  const pool = inLanguage.filter((c) => c.language === ctx.language);
  for (const c of elsewhere) if (c.variant?.language === ctx.language && !pool.some((x) => x.chunkId === c.variant!.chunkId)) pool.push(c.variant);
  // `scored`: the same candidates already scored (the eval's threshold sweep scores each question once).
  const own = distinctArticles(o.scored ?? score(ctx.text, pool, ctx.language));
  const cited = own.filter((c) => c.relevance >= threshold);
  if (cited.length) {
    const [best, ...rest] = cited;
    return {
      draft: proposal(write(best), best!),
      alternatives: rest.slice(0, MAX_ALTERNATIVES).map((c) => proposal(write(c), c)),
      note: { ...base, reason: 'answered', relevance: best!.relevance },
    };
  }
  // Nothing in the customer's language answers it: a fitting article in another language is for the agent, or its variant is cited.
  const foreign = elsewhere.filter((c) => c.language !== ctx.language)
    .map((c) => ({ ...c, relevance: relevanceAcross(ctx.text, c) })).sort((a, b) => b.relevance - a.relevance);
  const fits = foreign.find((c) => c.relevance >= ACROSS_THRESHOLD) ?? clearLead(distinctArticles(foreign));
  const variant = fits && (elsewhere.find((c) => c.chunkId === fits.chunkId)?.variant);
  // Only the encoder relates a message to an article in another language by meaning; shared words across languages (names, loanwords) may point the agent at an article, never cite it.
  if (fits && fits.relevance >= ACROSS_THRESHOLD && encoderKnows(fits.language) && variant && variant.language === ctx.language) {
    const v = { ...variant, relevance: fits.relevance };
    return { draft: proposal(write(v), v), alternatives: [], note: { ...base, reason: 'answered', relevance: fits.relevance } };
  }
  const holding = { text: write(), citations: [], extractive: true };
  if (fits)
    return {
      draft: holding, alternatives: [],
      note: { ...base, reason: 'article_in_other_language', relevance: own[0]?.relevance ?? null, suggestion: { articleId: fits.articleId, title: fits.title, language: fits.language, relevance: fits.relevance, confidence: fits.relevance >= ACROSS_THRESHOLD ? 'high' : 'low' } },
    };
  return { draft: holding, alternatives: [], note: { ...base, reason: 'no_relevant_article', relevance: own[0]?.relevance ?? null } };
}

// The English sentence encoder barely relates other languages to English (cosines ~0.1), but the right
// article still tends to lead by a margin: enough to point the agent at it, never to cite it.
const SUGGEST_MIN_SIMILARITY = 0.08;
const SUGGEST_LEAD = 0.03;

function clearLead<T extends Candidate & { relevance: number }>(byArticle: T[]): T | undefined {
  // Two texts the encoder does not know (Swedish and Finnish, say) sit close to each other whatever they say.
  const ranked = byArticle.filter((c) => encoderKnows(c.language)).sort((a, b) => (b.similarity ?? 0) - (a.similarity ?? 0));
  const [first, second] = ranked;
  if (!first || (first.similarity ?? 0) < SUGGEST_MIN_SIMILARITY) return undefined;
  return (first.similarity ?? 0) - (second?.similarity ?? 0) >= SUGGEST_LEAD ? first : undefined;
}

function proposal(text: string, c: Candidate): DraftProposal {
  return { text, citations: [{ id: c.articleId, title: c.title, excerpt: c.text.slice(0, 300), url: c.url ?? undefined }], extractive: true };
}

function draftText(p: Phrases, ctx: DraftContext, tone: DraftNote['tone'], details: Detail[], answer?: Candidate): string {
  const lines = [greet(p, ctx.name)];
  if (!answer && tone === 'plain' && isThankYou(ctx.text)) return [...lines, '', p.thanksReply].join('\n');
  const opening = [tone === 'apology' ? p.apology : tone === 'urgent' ? p.urgent : p.thanksForWriting];
  if (details.length) opening.push(sentence(p.noted.replace('{details}', list(p, details))));
  lines.push('', opening.join(' '));
  if (answer) lines.push('', p.answerIntro, '', withoutAsksFor(answer.text, details), '', p.answerClose);
  else lines.push('', p.holding);
  return lines.join('\n');
}

function list(p: Phrases, details: Detail[]): string {
  const named = details.map((d) => p.detail[d.kind].replace('{v}', d.value));
  return named.length > 1 ? `${named.slice(0, -1).join(', ')} ${p.and} ${named[named.length - 1]}` : named[0]!;
}

/** The best passage of each article, best first. */
function distinctArticles<T extends Candidate>(passages: T[]): T[] {
  const seen = new Set<string>();
  return passages.filter((c) => !seen.has(c.articleId) && (seen.add(c.articleId), true));
}
