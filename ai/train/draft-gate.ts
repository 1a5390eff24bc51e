/**
 * Fits the drafts' citation gate (ai/draft/gate.ts) on the team's drafts dev set and writes its weights
 * and threshold to ai/draft/gate-weights.ts:
 *
 *   npx tsx ai/train/draft-gate.ts [--dev ai/eval/drafts/dev.csv] [--kb FILE.json] [--per-language] [--l2 1e-4] [--verbose] [--dry-run]
 *
 * Every (question, passage in the question's language) pair is an example, positive when the passage's
 * article is the one the question expects. A logistic regression over the gate's signals is fitted by
 * full-batch gradient descent (deterministic: same data, same weights); the threshold is then chosen on
 * the same dev set: the highest citation recall with precision ≥ 0.9 and "none" questions cited ≤ 0.05
 * in every language. Measure it afterwards on a set it never saw: `hummdesk eval draft ai/eval/drafts/check.csv`.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readRows } from '../eval/csv.js';
import { kbPathFor, prepareDraftSet, readKb, type PreparedQuestion } from '../eval/draft.js';
import { GATE_FEATURES, gateFeatures, gateProbability, type GateWeights } from '../draft/gate.js';
import { isThankYou } from '../draft/signals.js';
import { phrasesFor } from '../draft/templates.js';

const OUT = fileURLToPath(new URL('../draft/gate-weights.ts', import.meta.url));

interface Pair {
  features: number[];
  language: string;
  label: 0 | 1;
}

interface Question {
  q: PreparedQuestion;
  /** Each article's best passage: its features and whether it is the expected one. */
  articles: { key: string; features: number[] }[];
}

const MIN_PRECISION = 0.9;
const MAX_NONE_CITED = 0.05;

export function questionsOf(prepared: PreparedQuestion[]): Question[] {
  return prepared
    // What the draft step never sends to the gate: thank-yous, and languages without templates.
    .filter((q) => q.detected && phrasesFor(q.detected) && !isThankYou(q.row.question))
    .map((q) => {
      const byArticle = new Map<string, { key: string; features: number[]; match: number }>();
      for (const c of q.inLanguage) {
        const r = gateFeatures(q.row.question, c);
        const seen = byArticle.get(c.articleId);
        if (!seen || r.match > seen.match) byArticle.set(c.articleId, { key: c.key, features: r.features, match: r.match });
      }
      return { q, articles: [...byArticle.values()] };
    });
}

/** Logistic regression with L2 on the weights (not the biases), full-batch gradient descent. */
export function fit(pairs: Pair[], languages: string[], o: { l2?: number; iterations?: number; rate?: number } = {}): GateWeights {
  const d = GATE_FEATURES.length;
  const w = new Float64Array(d + 1);
  const lb = new Float64Array(languages.length);
  const l2 = o.l2 ?? 1e-4;
  const rate = o.rate ?? 0.5;
  for (let it = 0; it < (o.iterations ?? 4000); it++) {
    const g = new Float64Array(d + 1);
    const gl = new Float64Array(languages.length);
    for (const p of pairs) {
      const li = languages.indexOf(p.language);
      let z = w[d]! + (li >= 0 ? lb[li]! : 0);
      for (let i = 0; i < d; i++) z += w[i]! * p.features[i]!;
      const err = 1 / (1 + Math.exp(-z)) - p.label;
      for (let i = 0; i < d; i++) g[i]! += err * p.features[i]!;
      g[d]! += err;
      if (li >= 0) gl[li]! += err;
    }
    for (let i = 0; i < d; i++) w[i]! -= rate * (g[i]! / pairs.length + l2 * w[i]!);
    w[d]! -= rate * (g[d]! / pairs.length);
    for (let j = 0; j < languages.length; j++) lb[j]! -= rate * (gl[j]! / pairs.length + l2 * lb[j]!);
  }
  return {
    weights: [...w].map(r4),
    languageBias: Object.fromEntries(languages.map((l, j) => [l, r4(lb[j]!)])),
    threshold: 0.5,
    fittedOn: '',
  };
}

/** What the draft step would cite at this threshold, and the eval's figures per language and overall. */
export function figuresAt(questions: Question[], all: PreparedQuestion[], g: GateWeights, threshold: number) {
  const cited = new Map<PreparedQuestion, string | undefined>();
  for (const { q, articles } of questions) {
    let best: { key: string; p: number } | undefined;
    for (const a of articles) {
      const p = gateProbability(a.features, q.detected, g);
      if (!best || p > best.p) best = { key: a.key, p };
    }
    cited.set(q, best && best.p >= threshold ? best.key : undefined);
  }
  const figures = (qs: PreparedQuestion[]) => {
    const withKey = qs.filter((q) => cited.get(q));
    const correct = withKey.filter((q) => cited.get(q) === q.row.expected && q.detected === q.row.language).length;
    const expecting = qs.filter((q) => q.row.expected !== 'none').length;
    const none = qs.filter((q) => q.row.expected === 'none');
    return {
      n: qs.length,
      precision: withKey.length ? correct / withKey.length : 1,
      recall: expecting ? correct / expecting : 0,
      noneCited: none.length ? none.filter((q) => cited.get(q)).length / none.length : 0,
    };
  };
  const languages = [...new Set(all.map((q) => q.row.language))].sort();
  return { all: figures(all), byLanguage: Object.fromEntries(languages.map((l) => [l, figures(all.filter((q) => q.row.language === l))])) };
}

/** The threshold with the best recall that keeps precision and every language's "none" cited in bounds. */
export function chooseThreshold(questions: Question[], all: PreparedQuestion[], g: GateWeights): { threshold: number; feasible: boolean } {
  const grid = Array.from({ length: 95 }, (_, i) => (i + 3) / 100);
  const rated = grid.map((t) => {
    const f = figuresAt(questions, all, g, t);
    const worstNone = Math.max(...Object.values(f.byLanguage).map((x) => x.noneCited));
    return { t, f, worstNone, ok: f.all.precision >= MIN_PRECISION && worstNone <= MAX_NONE_CITED };
  });
  const ok = rated.filter((r) => r.ok);
  if (!ok.length) {
    const least = Math.min(...rated.map((r) => r.worstNone));
    const best = rated.filter((r) => r.worstNone === least).sort((a, b) => b.f.all.recall - a.f.all.recall)[0]!;
    return { threshold: best.t, feasible: false };
  }
  const top = Math.max(...ok.map((r) => r.f.all.recall));
  // Of the thresholds with that recall, the middle one: furthest from both edges.
  const span = ok.filter((r) => r.f.all.recall === top);
  return { threshold: span[Math.floor((span.length - 1) / 2)]!.t, feasible: true };
}

async function main() {
  const { values } = parseArgs({ options: { dev: { type: 'string', default: 'ai/eval/drafts/dev.csv' }, kb: { type: 'string' }, 'per-language': { type: 'boolean', default: false }, l2: { type: 'string' }, verbose: { type: 'boolean', default: false }, 'dry-run': { type: 'boolean', default: false } } });
  const file = values.dev!;
  const rows = readRows(file).map((r) => ({ question: r.question ?? '', language: r.language ?? '', expected: r.expected ?? '' })).filter((r) => r.question);
  const articles = readKb(kbPathFor(file, values.kb));
  const { prepared } = await prepareDraftSet(rows, articles);
  const questions = questionsOf(prepared);
  const pairs: Pair[] = questions.flatMap(({ q, articles: as }) => as.map((a) => ({ features: a.features, language: q.detected!, label: a.key === q.row.expected ? 1 as const : 0 as const })));
  const languages = values['per-language'] ? [...new Set(pairs.map((p) => p.language))].sort() : [];
  const g = fit(pairs, languages, { l2: values.l2 ? Number(values.l2) : undefined });
  const { threshold, feasible } = chooseThreshold(questions, prepared, g);
  const today = new Date().toISOString().slice(0, 10);
  const fitted: GateWeights = { ...g, threshold, fittedOn: `${file} (${rows.length} questions, ${articles.length} articles; ${pairs.length} pairs), ${today}` };
  const f = figuresAt(questions, prepared, fitted, threshold);
  process.stdout.write(`weights ${GATE_FEATURES.map((k, i) => `${k} ${fitted.weights[i]}`).join(', ')}, bias ${fitted.weights[GATE_FEATURES.length]}\n`);
  if (languages.length) process.stdout.write(`language bias ${JSON.stringify(fitted.languageBias)}\n`);
  process.stdout.write(`threshold ${threshold}${feasible ? '' : ' (no threshold meets the bounds: the least "none" cited)'}\n`);
  for (const [l, x] of Object.entries(f.byLanguage)) process.stdout.write(`${l}  precision ${x.precision.toFixed(3)}  recall ${x.recall.toFixed(3)}  none cited ${x.noneCited.toFixed(3)}  n ${x.n}\n`);
  process.stdout.write(`all precision ${f.all.precision.toFixed(3)}  recall ${f.all.recall.toFixed(3)}  none cited ${f.all.noneCited.toFixed(3)}  n ${f.all.n}\n`);
  // Each question's best article and probability, and the expected one's: what the threshold has to separate.
  if (values.verbose) for (const { q, articles: as } of questions) {
    const ps = as.map((a) => ({ key: a.key, p: gateProbability(a.features, q.detected, fitted), f: a.features })).sort((a, b) => b.p - a.p);
    const want = ps.find((x) => x.key === q.row.expected);
    process.stdout.write(`${q.row.language} ${q.row.expected.padEnd(13)} best ${ps[0]!.key.padEnd(13)} ${ps[0]!.p.toFixed(3)} [${ps[0]!.f.join(' ')}]  want ${want ? want.p.toFixed(3) : '-'}  ${q.row.question.slice(0, 60)}\n`);
  }
  if (!values['dry-run']) {
    writeFileSync(OUT, weightsFile(fitted));
    process.stdout.write(`wrote ${OUT}\n`);
  }
  process.stdout.write(`${JSON.stringify({ fit: 'draft-gate', threshold, feasible, precision: r4(f.all.precision), recall: r4(f.all.recall), none_cited: r4(f.all.noneCited) })}\n`);
}

function weightsFile(g: GateWeights): string {
  return `// Written by \`npx tsx ai/train/draft-gate.ts\`: the citation gate's weights (ai/draft/gate.ts GATE_FEATURES order, then the bias).
import type { GateWeights } from './gate.js';

export const GATE: GateWeights = {
  weights: [${g.weights.join(', ')}],
  languageBias: ${JSON.stringify(g.languageBias)},
  threshold: ${g.threshold},
  fittedOn: ${JSON.stringify(g.fittedOn)},
};
`;
}

const r4 = (n: number) => Math.round(n * 10000) / 10000;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
