import type { Queryable } from '../../storage/database.js';

/** Levenshtein distance over characters, divided by the longer length: 0 unchanged, 1 rewritten. */
export function normalizedEditDistance(a: string, b: string): number {
  if (a === b) return 0;
  const n = a.length;
  const m = b.length;
  if (!n || !m) return 1;
  let prev = new Uint32Array(m + 1).map((_, j) => j);
  let cur = new Uint32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    for (let j = 1; j <= m; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1));
    [prev, cur] = [cur, prev];
  }
  return prev[m]! / Math.max(n, m);
}

/** How agents treated drafts in the last `days` days (the decisions the conversation service stored). */
export async function draftStats(tx: Queryable, days: number) {
  const { rows } = await tx.query<{ status: string; text: string; finalText: string | null; category: string | null }>(
    `SELECT d.status, d.text, d.final_text AS "finalText", r.category FROM drafts d LEFT JOIN ai_results r ON r.id = d.ai_result_id
     WHERE d.created_at > now() - make_interval(days => $1) ORDER BY d.created_at DESC LIMIT 20000`,
    [days],
  );
  const count = (s: string) => rows.filter((r) => r.status === s).length;
  const accepted = count('accepted');
  const edited = count('edited');
  const rejected = count('rejected');
  const decided = accepted + edited + rejected;
  const distances = rows.filter((r) => r.status === 'edited' && r.finalText !== null).map((r) => normalizedEditDistance(r.text.slice(0, 4000), r.finalText!.slice(0, 4000)));
  const byCategory: Record<string, { decided: number; acceptanceRate: number | null }> = {};
  for (const r of rows) {
    if (!['accepted', 'edited', 'rejected'].includes(r.status)) continue;
    const c = (byCategory[r.category ?? 'none'] ??= { decided: 0, acceptanceRate: 0 });
    c.acceptanceRate = ((c.acceptanceRate ?? 0) * c.decided + (r.status === 'rejected' ? 0 : 1)) / (c.decided + 1);
    c.decided++;
  }
  const rate = (x: number) => (decided ? x / decided : null);
  return {
    drafts: rows.length, decided, accepted, edited, rejected,
    acceptanceRate: rate(accepted + edited), unchangedRate: rate(accepted),
    meanEditDistance: distances.length ? distances.reduce((a, b) => a + b, 0) / distances.length : null,
    byCategory,
  };
}

export interface KeptFigure { classified: number; kept: number; keptRate: number | null }

/**
 * How often agents kept the category the AI gave, over conversations it classified in the last `days` days:
 * a conversation counts by the category of its latest classification before any agent correction, and is
 * kept unless an agent corrected it to another category. Per category (the AI's) and overall.
 */
export async function categoryAccuracy(tx: Queryable, days: number): Promise<KeptFigure & { byCategory: Record<string, KeptFigure> }> {
  const { rows } = await tx.query<{ category: string; classified: number; kept: number }>(
    `WITH corrected AS (
       SELECT conversation_id, min(created_at) AS first_at, array_agg(category) AS categories
         FROM ai_category_examples WHERE source = 'correction' AND conversation_id IS NOT NULL GROUP BY conversation_id),
     classified AS (
       SELECT DISTINCT ON (r.conversation_id) r.conversation_id, r.category, k.categories
         FROM ai_results r LEFT JOIN corrected k ON k.conversation_id = r.conversation_id
        WHERE r.category IS NOT NULL AND r.created_at > now() - make_interval(days => $1)
          AND (k.first_at IS NULL OR r.created_at <= k.first_at)
        ORDER BY r.conversation_id, r.created_at DESC, r.id DESC)
     SELECT category, count(*)::int AS classified,
            count(*) FILTER (WHERE categories IS NULL OR category = ALL (categories))::int AS kept
       FROM classified GROUP BY category ORDER BY category`,
    [days],
  );
  const figure = (classified: number, kept: number): KeptFigure => ({ classified, kept, keptRate: classified ? kept / classified : null });
  const byCategory: Record<string, KeptFigure> = {};
  for (const r of rows) byCategory[r.category] = figure(r.classified, r.kept);
  return { ...figure(rows.reduce((a, r) => a + r.classified, 0), rows.reduce((a, r) => a + r.kept, 0)), byCategory };
}
