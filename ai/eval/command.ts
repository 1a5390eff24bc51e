import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { localEmbedder } from '../embed/local.js';
import { CategoryModel, UNKNOWN, type LabelledExample } from '../classify/model.js';
import { SentimentModel } from '../providers/local/sentiment.js';
import { trainSentiment } from '../train/sentiment.js';
import { readRows } from './csv.js';
import { evalLanguage } from './language.js';
import { printGroups, printReport, round, type Scored } from './report.js';
import { DEFAULT_CATEGORY_EXAMPLES } from '../classify/defaults.js';
import { evalDraft, kbPathFor, readKb } from './draft.js';

type Out = NodeJS.WritableStream;

/** `hummdesk eval …`: measures the local provider on labelled data; the last line printed is one JSON object. */
export async function runEval(argv: string[], out: Out = process.stdout): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      train: { type: 'string' }, test: { type: 'string' }, folds: { type: 'string' },
      'text-col': { type: 'string', default: 'text' }, 'label-col': { type: 'string', default: 'label' },
      langs: { type: 'string' }, lang: { type: 'string' }, model: { type: 'string' }, prior: { type: 'boolean', default: false }, limit: { type: 'string' },
      kb: { type: 'string' }, sweep: { type: 'boolean', default: false }, threshold: { type: 'string' },
    },
  });
  const col = { text: values['text-col']!, label: values['label-col']! };
  const limit = values.limit ? Number(values.limit) : Infinity;
  if (sub === 'classify') {
    const file = values.train ?? positionals[0];
    const load = (f: string) => readRows(f).map((r) => ({ text: r[col.text] ?? '', label: r[col.label] ?? '', lang: r.lang ?? r.language ?? '' })).filter((r) => r.text && r.label);
    // --test alone: the default categories as every account starts with them, threshold included.
    if (!file && values.test) return evalDefaults(load(values.test).slice(0, limit), out);
    if (!file) return usage(out);
    if (/data_full\.json$/.test(file) || isClinc(file)) return evalClinc(file, out);
    if (values.test) return evalSplit(load(file), load(values.test).slice(0, limit), out);
    return evalFolds(load(file), Number(values.folds ?? 5), out);
  }
  if (sub === 'language') {
    const file = positionals[0];
    if (!file) return usage(out);
    const langs = values.langs?.split(',');
    // --lang names the language of a file that has no language column (a sentiment set, say).
    const rows = readRows(file)
      .map((r) => ({ text: r[col.text] ?? '', label: values.lang ?? r.lang ?? r[col.label] ?? '' }))
      .filter((r) => r.text && (!langs || langs.includes(r.label)))
      .slice(0, limit);
    await evalLanguage(rows, { prior: values.prior ? langs : [], labels: langs }, out);
    return 0;
  }
  if (sub === 'sentiment') {
    const file = positionals[0];
    if (!file) return usage(out);
    const test = readRows(file).map((r) => ({ text: r[col.text] ?? '', label: r[col.label] ?? '', lang: r.lang ?? r.language ?? '' })).filter((r) => r.text && r.label).slice(0, limit);
    const model = values.train
      ? SentimentModel.fromModel(trainSentiment(readRows(values.train).map((r) => ({ text: r[col.text] ?? '', label: r[col.label] as 'negative', source: 'cli', lang: '' })).filter((r) => r.text && ['negative', 'neutral', 'positive'].includes(r.label))))
      : SentimentModel.fromFile(values.model);
    const scored: Scored[] = [];
    const lat: number[] = [];
    const binary = !test.some((r) => r.label === 'neutral');
    for (const r of test) {
      const t0 = performance.now();
      const c = model.classify(r.text);
      lat.push(performance.now() - t0);
      // On two-class data (no neutral gold label) the stronger of negative/positive is the answer.
      scored.push({ gold: r.label, predicted: binary ? (c.probs.negative >= c.probs.positive ? 'negative' : 'positive') : c.sentiment });
    }
    const perLanguage = printGroups(out, scored.map((s, i) => ({ ...s, group: test[i]!.lang })));
    const recall = (c: string) => { const g = scored.filter((s) => s.gold === c); return g.length ? round(g.filter((s) => s.predicted === c).length / g.length) : null; };
    const classes = binary ? ['negative', 'positive'] : ['negative', 'neutral', 'positive'];
    const recalls = classes.map(recall).filter((r): r is number => r !== null);
    printReport(out, 'sentiment', scored, lat, {
      model: model.id, two_class: binary,
      balanced_accuracy: recalls.length ? round(recalls.reduce((a, b) => a + b, 0) / recalls.length) : null,
      ...Object.fromEntries(classes.map((c) => [`recall_${c}`, recall(c)])),
      ...(Object.keys(perLanguage).length ? { per_language: perLanguage } : {}),
    });
    return 0;
  }
  if (sub === 'draft') {
    const file = positionals[0];
    if (!file) return usage(out);
    const rows = readRows(file)
      .map((r) => ({ question: r.question ?? '', language: r.language ?? '', expected: (r.expected ?? r.article ?? 'none').trim() || 'none' }))
      .filter((r) => r.question && r.language)
      .slice(0, limit);
    await evalDraft(rows, readKb(kbPathFor(file, values.kb)), { sweep: values.sweep, threshold: values.threshold ? Number(values.threshold) : undefined }, out);
    return 0;
  }
  return usage(out);
}

function usage(_out: Out): number {
  // A bad command line is one line on stderr; `hummdesk eval --help` prints the usage.
  process.stderr.write('hummdesk eval: missing FILE or unknown subcommand (see hummdesk eval --help)\n');
  return 2;
}

function isClinc(file: string): boolean {
  if (!file.endsWith('.json')) return false;
  const head = readFileSync(file, 'utf8').slice(0, 200);
  return /"(oos_)?(train|val|test)"/.test(head);
}

async function scoreCategories(model: CategoryModel, test: LabelledExample[], out: Out) {
  const embedder = localEmbedder();
  const vectors = await embedder.embed(test.map((t) => t.text));
  const predictions = test.map((t, i) => model.classifyWith(t.text, vectors[i]));
  // Latency is measured per message, unbatched, embedding included: what one inbound message costs.
  const lat: number[] = [];
  for (const t of test.slice(0, 300)) {
    const t0 = performance.now();
    await model.classify(t.text);
    lat.push(performance.now() - t0);
  }
  void out;
  return { predictions, lat };
}

async function evalSplit(train: LabelledExample[], test: (LabelledExample & { lang?: string })[], out: Out): Promise<number> {
  const embedder = localEmbedder();
  const model = await CategoryModel.train(train, { embedder, threshold: 0 });
  const { predictions, lat } = await scoreCategories(model, test, out);
  const scored = test.map((t, i) => ({ gold: t.label, predicted: predictions[i]!.category, group: t.lang ?? '' }));
  const perLanguage = printGroups(out, scored);
  printReport(out, 'classify', scored, lat, { train_n: train.length, ...(Object.keys(perLanguage).length ? { per_language: perLanguage } : {}) });
  return 0;
}

/** The default categories out of the box, with their shipped threshold: an `unknown` answer counts as wrong. */
async function evalDefaults(test: (LabelledExample & { lang?: string })[], out: Out): Promise<number> {
  const embedder = localEmbedder();
  const train = Object.entries(DEFAULT_CATEGORY_EXAMPLES).flatMap(([label, texts]) => texts.map((text) => ({ text, label })));
  const model = await CategoryModel.train(train, { embedder });
  const { predictions, lat } = await scoreCategories(model, test, out);
  const scored = test.map((t, i) => ({ gold: t.label, predicted: predictions[i]!.category, group: t.lang ?? '' }));
  const perLanguage = printGroups(out, scored);
  const best = test.filter((t, i) => predictions[i]!.best === t.label).length / Math.max(1, test.length);
  const unknown = predictions.filter((p) => p.category === UNKNOWN).length / Math.max(1, test.length);
  printReport(out, 'classify', scored, lat, {
    train_n: train.length, defaults: true, threshold: round(model.threshold), best_accuracy: round(best), unknown_rate: round(unknown),
    ...(Object.keys(perLanguage).length ? { per_language: perLanguage } : {}),
  });
  return 0;
}

async function evalFolds(rows: LabelledExample[], k: number, out: Out): Promise<number> {
  const embedder = localEmbedder();
  const vectors = await embedder.embed(rows.map((r) => r.text));
  // Deterministic fold assignment by position after a fixed shuffle.
  const order = rows.map((_, i) => i).sort((a, b) => ((a * 2654435761) % 4294967296) - ((b * 2654435761) % 4294967296));
  const scored: Scored[] = [];
  for (let f = 0; f < k; f++) {
    const testIdx = order.filter((_, j) => j % k === f);
    const trainIdx = order.filter((_, j) => j % k !== f);
    const model = await CategoryModel.train(trainIdx.map((i) => rows[i]!), { embedder, threshold: 0, vectors: trainIdx.map((i) => vectors[i]!) });
    for (const i of testIdx) scored.push({ gold: rows[i]!.label, predicted: model.classifyWith(rows[i]!.text, vectors[i]).category });
  }
  const model = await CategoryModel.train(rows.slice(0, 2000), { embedder, threshold: 0 });
  const lat: number[] = [];
  for (const r of rows.slice(0, 300)) {
    const t0 = performance.now();
    await model.classify(r.text);
    lat.push(performance.now() - t0);
  }
  printReport(out, 'classify', scored, lat, { folds: k });
  return 0;
}

/** CLINC150: train on in-scope train, pick the out-of-scope threshold on val, report on test. */
async function evalClinc(file: string, out: Out): Promise<number> {
  const data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, [string, string][]>;
  const ex = (k: string) => (data[k] ?? []).map(([text, label]) => ({ text, label }));
  const embedder = localEmbedder();
  const train = ex('train');
  const model = await CategoryModel.train(train, { embedder, threshold: 0 });
  const val = [...ex('val'), ...ex('oos_val')];
  const valVectors = await embedder.embed(val.map((v) => v.text));
  const valPred = val.map((v, i) => model.classifyWith(v.text, valVectors[i]));
  // The threshold maximising mean of in-scope accuracy and out-of-scope recall on the validation split.
  let best = { threshold: 0, score: -1 };
  for (let th = 0; th <= 0.95; th += 0.01) {
    let inOk = 0, inN = 0, oosOk = 0, oosN = 0;
    val.forEach((v, i) => {
      const p = valPred[i]!;
      const label = p.confidence >= th ? p.best : UNKNOWN;
      if (v.label === 'oos') (oosN++, (oosOk += +(label === UNKNOWN)));
      else (inN++, (inOk += +(label === v.label)));
    });
    const score = (inOk / inN + oosOk / Math.max(1, oosN)) / 2;
    if (score > best.score) best = { threshold: th, score };
  }
  const tuned = model.withThreshold(best.threshold);
  const test = [...ex('test'), ...ex('oos_test')].map((t) => ({ text: t.text, label: t.label === 'oos' ? UNKNOWN : t.label }));
  const { predictions, lat } = await scoreCategories(tuned, test, out);
  const inScope = test.map((t, i) => ({ t, p: predictions[i]! })).filter(({ t }) => t.label !== UNKNOWN);
  const oos = test.map((t, i) => ({ t, p: predictions[i]! })).filter(({ t }) => t.label === UNKNOWN);
  const inScopeAcc = inScope.filter(({ t, p }) => p.category === t.label).length / inScope.length;
  const inScopeAccNoThreshold = inScope.filter(({ t, p }) => p.best === t.label).length / inScope.length;
  const oosRecall = oos.length ? oos.filter(({ p }) => p.category === UNKNOWN).length / oos.length : null;
  printReport(out, 'classify', test.map((t, i) => ({ gold: t.label, predicted: predictions[i]!.category })), lat, {
    dataset: 'clinc150', in_scope_accuracy: round(inScopeAcc), in_scope_accuracy_no_threshold: round(inScopeAccNoThreshold),
    oos_recall: oosRecall === null ? null : round(oosRecall), threshold: round(best.threshold), train_n: train.length,
  });
  return 0;
}
