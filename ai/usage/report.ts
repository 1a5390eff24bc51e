import type { Queryable } from '../../storage/database.js';

export interface UsageRow {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  provider: string;
  model: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export type UsageTotals = Omit<UsageRow, 'day' | 'provider' | 'model'>;

/** The current account's model token usage per UTC day, provider and model over the last `days` days. */
export async function usageByDay(tx: Queryable, days: number): Promise<{ items: UsageRow[]; totals: UsageTotals }> {
  const { rows } = await tx.query<UsageRow>(
    `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, provider, model,
            sum(requests)::int8::float8 AS requests, sum(input_tokens)::int8::float8 AS "inputTokens", sum(output_tokens)::int8::float8 AS "outputTokens",
            sum(cache_read_tokens)::int8::float8 AS "cacheReadTokens", sum(cache_write_tokens)::int8::float8 AS "cacheWriteTokens"
     FROM ai_usage
     WHERE created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - make_interval(days => $1 - 1)
     GROUP BY 1, 2, 3 ORDER BY 1 DESC, 2, 3`,
    [days],
  );
  const totals: UsageTotals = { requests: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
  for (const r of rows) for (const k of Object.keys(totals) as (keyof UsageTotals)[]) totals[k] += r[k];
  return { items: rows, totals };
}
