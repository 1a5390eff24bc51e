import { performance } from 'node:perf_hooks';
import { detectLanguage, languageDetector } from '../providers/local/language.js';
import { printReport, round, type Scored } from './report.js';

type Out = NodeJS.WritableStream;

/** Word-count buckets: identification gets harder as text gets shorter, so one figure hides the story. */
export function wordBucket(text: string): string {
  const n = text.trim().split(/\s+/).filter(Boolean).length;
  return n <= 2 ? '1-2' : n <= 4 ? '3-4' : n <= 7 ? '5-7' : n <= 14 ? '8-14' : '15+';
}

/**
 * Language ID accuracy overall, per word-count bucket, and on each message cut to its first two words
 * ("Kiitos paljon", "Tack så": the hard case the targets name).
 */
export async function evalLanguage(rows: { text: string; label: string }[], o: { prior?: string[]; labels?: string[] }, out: Out): Promise<Record<string, unknown>> {
  await languageDetector();
  const scored: Scored[] = [];
  const lat: number[] = [];
  const buckets = new Map<string, { ok: number; n: number }>();
  let two = 0;
  for (const r of rows) {
    const t0 = performance.now();
    const g = await detectLanguage(r.text, o.prior ?? []);
    lat.push(performance.now() - t0);
    const predicted = g?.language ?? 'und';
    scored.push({ gold: r.label, predicted });
    const b = buckets.get(wordBucket(r.text)) ?? { ok: 0, n: 0 };
    buckets.set(wordBucket(r.text), { ok: b.ok + +(predicted === r.label), n: b.n + 1 });
    if ((await detectLanguage(r.text.split(/\s+/).slice(0, 2).join(' '), o.prior ?? []))?.language === r.label) two++;
  }
  const order = ['1-2', '3-4', '5-7', '8-14', '15+'].filter((k) => buckets.has(k));
  const byWords = Object.fromEntries(order.map((k) => [k, { accuracy: round(buckets.get(k)!.ok / buckets.get(k)!.n), n: buckets.get(k)!.n }]));
  for (const k of order) out.write(`words ${k.padEnd(5)} accuracy ${byWords[k]!.accuracy.toFixed(3)}  n ${byWords[k]!.n}\n`);
  return printReport(out, 'language', scored, lat, { two_word_accuracy: round(rows.length ? two / rows.length : 0), prior: Boolean(o.prior?.length), by_words: byWords }, o.labels);
}
