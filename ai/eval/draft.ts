import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { localEmbedder } from '../embed/local.js';
import { chunkMarkdown } from '../kb/chunk.js';
import { passageText } from '../kb/passages.js';
import { composeDrafts, score, type Candidate } from '../draft/compose.js';
import { CITE_THRESHOLD } from '../draft/gate.js';
import { detectLanguage, languageDetector } from '../providers/local/language.js';
import { percentile, round } from './report.js';

type Out = NodeJS.WritableStream;

/** One article of the eval's knowledge base; articles sharing a `key` are language variants of one article. */
export interface EvalArticle {
  key: string;
  language: string;
  title: string;
  body: string;
}

export interface DraftRow {
  question: string;
  language: string;
  /** The article key a draft should cite, or "none". */
  expected: string;
}

interface Outcome {
  row: DraftRow;
  detected: string | undefined;
  draftLanguage: string | undefined;
  citedKey?: string;
  citedLanguage?: string;
  reason: string;
  /** The best passage's citation probability. */
  relevance: number | null;
}

/** The eval's knowledge base: `--kb FILE`, else kb.json beside the questions. */
export function kbPathFor(file: string, kb?: string): string {
  const path = kb ?? join(dirname(file), 'kb.json');
  if (!existsSync(path)) throw new Error(`no knowledge base: pass --kb FILE.json (an array of {key, language, title, body}); ${path} does not exist`);
  return path;
}

/**
 * `hummdesk eval draft FILE.csv`: runs the offline draft step (language, relevance gate, templates) on
 * each question against a knowledge base held in memory, and reports draft language accuracy,
 * citation precision and recall, and how often a question whose expected article is "none" got a
 * citation. Candidates are every passage of the knowledge base, scored as the hub scores the passages
 * its search returns. The last line is one JSON object.
 */
/** A question with its detected language and the knowledge base's passages as draft candidates (cosines included). */
export interface PreparedQuestion {
  row: DraftRow;
  detected?: string;
  inLanguage: (Candidate & { key: string })[];
  elsewhere: (Candidate & { key: string; variant?: Candidate })[];
}

/**
 * Detects each question's language and scores every passage of the knowledge base against it with the
 * local sentence encoder, as the hub's search would hand them to the draft step. Shared by the eval and
 * the citation gate's fit (ai/train/draft-gate.ts).
 */
export async function prepareDraftSet(rows: DraftRow[], articles: EvalArticle[]): Promise<{ prepared: PreparedQuestion[]; latencies: number[] }> {
  await languageDetector();
  const embedder = localEmbedder();
  const passages = articles.flatMap((a, i) => chunkMarkdown(a.title, a.body).map((p) => ({
    chunkId: `${i}:${p.ordinal}`, articleId: String(i), title: a.title, heading: p.heading, text: p.text, language: a.language, key: a.key,
  })));
  const vectors = await embedder.embed(passages.map(passageText));
  const prepared: PreparedQuestion[] = [];
  const latencies: number[] = [];
  for (const row of rows) {
    const t0 = performance.now();
    const detected = (await detectLanguage(row.question))?.language;
    const [q] = await embedder.embed([row.question]);
    const scored = passages.map((p, i) => ({ ...p, similarity: cosine(q!, vectors[i]!) }));
    const inLanguage = scored.filter((p) => p.language === detected);
    const elsewhere = scored.filter((p) => p.language !== detected).map((p) => ({ ...p, variant: inLanguage.find((v) => v.key === p.key) }));
    prepared.push({ row, detected, inLanguage, elsewhere });
    latencies.push(performance.now() - t0);
  }
  return { prepared, latencies };
}

export async function evalDraft(rows: DraftRow[], articles: EvalArticle[], o: { sweep?: boolean; threshold?: number }, out: Out): Promise<Record<string, unknown>> {
  const { prepared, latencies: lat } = await prepareDraftSet(rows, articles);
  const keyOf = (articleId: string) => articles[Number(articleId)]?.key;
  // Scored once per question; every threshold of a sweep reuses them (the eval's variants are already among inLanguage).
  const scored = new Map(prepared.map((p) => [p, score(p.row.question, p.inLanguage, p.detected)]));
  const run = (threshold: number): Outcome[] => prepared.map((p) => {
    const { row, detected, inLanguage, elsewhere } = p;
    const r = composeDrafts({ text: row.question, language: detected }, inLanguage, elsewhere, { threshold, scored: scored.get(p) });
    const cited = r.draft?.citations[0];
    return {
      row, detected, draftLanguage: r.draft ? r.note.language ?? undefined : undefined,
      citedKey: cited ? keyOf(cited.id) : undefined, citedLanguage: cited ? articles[Number(cited.id)]?.language : undefined, reason: r.note.reason, relevance: r.note.relevance,
    };
  });
  if (o.sweep) {
    out.write('threshold  precision  recall  none_cited  f1\n');
    for (let step = 1; step <= 19; step++) {
      const th = step / 20;
      const m = figures(run(th));
      out.write(`${th.toFixed(2)}       ${m.citation_precision.toFixed(3)}      ${m.citation_recall.toFixed(3)}   ${m.none_cited_rate.toFixed(3)}       ${m.f1.toFixed(3)}\n`);
    }
  }
  const threshold = o.threshold ?? CITE_THRESHOLD;
  const outcomes = run(threshold);
  // The draft's own language, read back from its text: what the customer would actually get.
  for (const x of outcomes) if (x.draftLanguage) x.draftLanguage = await draftLanguageOf(x, prepared, threshold);
  const languages = [...new Set(rows.map((r) => r.language))].sort();
  const byLanguage = Object.fromEntries(languages.map((l) => [l, figures(outcomes.filter((x) => x.row.language === l))]));
  out.write(`${'language'.padEnd(10)} n    draft_lang  precision  recall  none_cited\n`);
  for (const l of languages) {
    const m = byLanguage[l]!;
    out.write(`${l.padEnd(10)} ${String(m.n).padEnd(4)} ${m.language_accuracy.toFixed(3)}       ${m.citation_precision.toFixed(3)}      ${m.citation_recall.toFixed(3)}   ${m.none_cited_rate.toFixed(3)}\n`);
  }
  const all = figures(outcomes);
  const wrong = outcomes.filter((x) => (x.row.expected === 'none' ? !!x.citedKey : x.citedKey !== x.row.expected)).slice(0, 40);
  for (const x of wrong) out.write(`miss  ${x.row.language}  expected ${x.row.expected}  cited ${x.citedKey ?? '-'} (${x.reason}, ${x.relevance ?? '-'})  ${x.row.question.slice(0, 70)}\n`);
  const summary = {
    eval: 'draft', ...all, threshold: round(threshold), p50_ms: round(percentile(lat, 50)), p95_ms: round(percentile(lat, 95)),
    by_language: Object.fromEntries(Object.entries(byLanguage).map(([l, m]) => [l, { n: m.n, language_accuracy: m.language_accuracy, citation_precision: m.citation_precision, citation_recall: m.citation_recall, none_cited_rate: m.none_cited_rate }])),
  };
  out.write(`draft language ${all.language_accuracy.toFixed(3)}  citation precision ${all.citation_precision.toFixed(3)}  recall ${all.citation_recall.toFixed(3)}  none cited ${all.none_cited_rate.toFixed(3)}  n ${all.n}\n`);
  out.write(`${JSON.stringify(summary)}\n`);
  return summary;
}

async function draftLanguageOf(x: Outcome, prepared: PreparedQuestion[], threshold: number): Promise<string | undefined> {
  const p = prepared.find((y) => y.row === x.row)!;
  const text = composeDrafts({ text: p.row.question, language: p.detected }, p.inLanguage, p.elsewhere, { threshold }).draft?.text ?? '';
  return (await detectLanguage(text))?.language;
}

function figures(xs: Outcome[]) {
  const expecting = xs.filter((x) => x.row.expected !== 'none');
  const none = xs.filter((x) => x.row.expected === 'none');
  const cited = xs.filter((x) => x.citedKey);
  const correct = cited.filter((x) => x.citedKey === x.row.expected && x.citedLanguage === x.row.language);
  const precision = cited.length ? correct.length / cited.length : 0;
  const recall = expecting.length ? correct.length / expecting.length : 0;
  return {
    n: xs.length,
    language_accuracy: round(xs.length ? xs.filter((x) => x.draftLanguage === x.row.language).length / xs.length : 0),
    citation_precision: round(precision),
    citation_recall: round(recall),
    none_cited_rate: round(none.length ? none.filter((x) => x.citedKey).length / none.length : 0),
    f1: round(precision + recall ? (2 * precision * recall) / (precision + recall) : 0),
    cited: cited.length,
    none_n: none.length,
  };
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) (dot += a[i]! * b[i]!), (na += a[i]! * a[i]!), (nb += b[i]! * b[i]!);
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

export function readKb(path: string): EvalArticle[] {
  const data = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  if (!Array.isArray(data) || data.some((a) => !a || typeof a.key !== 'string' || typeof a.title !== 'string' || typeof a.body !== 'string' || typeof a.language !== 'string'))
    throw new Error(`${path}: expected a JSON array of {key, language, title, body}`);
  return data as EvalArticle[];
}
