/** Per-class precision/recall, macro-F1 and latency percentiles, printed the same way by every eval. */
export interface Scored {
  gold: string;
  predicted: string;
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function metrics(rows: Scored[], labels?: string[]) {
  const classes = labels ?? [...new Set(rows.map((r) => r.gold))].sort();
  const per = classes.map((c) => {
    const tp = rows.filter((r) => r.gold === c && r.predicted === c).length;
    const fp = rows.filter((r) => r.gold !== c && r.predicted === c).length;
    const fn = rows.filter((r) => r.gold === c && r.predicted !== c).length;
    const precision = tp + fp ? tp / (tp + fp) : 0;
    const recall = tp + fn ? tp / (tp + fn) : 0;
    return { label: c, precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0, support: tp + fn };
  });
  const accuracy = rows.length ? rows.filter((r) => r.gold === r.predicted).length / rows.length : 0;
  const macroF1 = per.length ? per.reduce((a, b) => a + b.f1, 0) / per.length : 0;
  return { per, accuracy, macroF1 };
}

export function printReport(out: NodeJS.WritableStream, kind: string, rows: Scored[], latencies: number[], extra: Record<string, unknown> = {}, labels?: string[]): Record<string, unknown> {
  const m = metrics(rows, labels);
  const f = (x: number) => x.toFixed(3);
  out.write(`${'class'.padEnd(28)} precision  recall  f1     support\n`);
  for (const p of m.per) out.write(`${p.label.slice(0, 27).padEnd(28)} ${f(p.precision)}      ${f(p.recall)}   ${f(p.f1)}  ${p.support}\n`);
  const summary = {
    eval: kind,
    accuracy: round(m.accuracy),
    macro_f1: round(m.macroF1),
    p50_ms: round(percentile(latencies, 50)),
    p95_ms: round(percentile(latencies, 95)),
    n: rows.length,
    ...extra,
  };
  out.write(`accuracy ${f(m.accuracy)}  macro-F1 ${f(m.macroF1)}  p50 ${summary.p50_ms} ms  p95 ${summary.p95_ms} ms  n ${rows.length}\n`);
  out.write(`${JSON.stringify(summary)}\n`);
  return summary;
}

export const round = (n: number) => Math.round(n * 10000) / 10000;

/** Accuracy per language (or any group), printed as a table; the summary carries it as `per_language`. */
export function printGroups(out: NodeJS.WritableStream, rows: (Scored & { group: string })[], title = 'language'): Record<string, { accuracy: number; macro_f1: number; n: number }> {
  const groups = [...new Set(rows.map((r) => r.group))].filter(Boolean).sort();
  const result: Record<string, { accuracy: number; macro_f1: number; n: number }> = {};
  if (!groups.length) return result;
  out.write(`${title.padEnd(28)} accuracy   macro-F1  n\n`);
  for (const g of groups) {
    const part = rows.filter((r) => r.group === g);
    const m = metrics(part);
    result[g] = { accuracy: round(m.accuracy), macro_f1: round(m.macroF1), n: part.length };
    out.write(`${g.slice(0, 27).padEnd(28)} ${m.accuracy.toFixed(3)}      ${m.macroF1.toFixed(3)}     ${part.length}\n`);
  }
  return result;
}
