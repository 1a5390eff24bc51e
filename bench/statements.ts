/**
 * What a database's statements cost, from pg_stat_statements (the benches' `--statements`): reset before
 * a phase, read after it. Only where the server preloads the module (`shared_preload_libraries`); else
 * `start` says so and the bench goes on without it.
 */
import type pg from 'pg';

export interface StatementCost {
  calls: number;
  execMs: number;
  planMs: number;
  query: string;
}

/** Resets the counters of `client`'s database (not the server's); false (and why) where pg_stat_statements is not loaded. */
export async function startStatements(client: pg.Client): Promise<{ ok: boolean; why?: string }> {
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    // This database's counters only: other benches may be counting theirs on the same server.
    await client.query(`SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)`);
    return { ok: true };
  } catch (err) {
    return { ok: false, why: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * The database's statements since the reset, costliest first (execution plus planning time), but for
 * the counters' own and the bench's polls (marked with a comment).
 */
export async function readStatements(client: pg.Client, top = 20): Promise<{ total: StatementCost; statements: StatementCost[] }> {
  const { rows } = await client.query<{ calls: string; exec: number; plan: number; query: string }>(
    `SELECT calls::text, total_exec_time AS exec, total_plan_time AS plan, query FROM pg_stat_statements s
     JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database() AND query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '/* bench */%'
     ORDER BY total_exec_time + total_plan_time DESC`);
  const all = rows.map((r) => ({ calls: Number(r.calls), execMs: r.exec, planMs: r.plan, query: r.query.replace(/\s+/g, ' ') }));
  const total = all.reduce((t, s) => ({ calls: t.calls + s.calls, execMs: t.execMs + s.execMs, planMs: t.planMs + s.planMs, query: '' }), { calls: 0, execMs: 0, planMs: 0, query: '' });
  return { total, statements: all.slice(0, top) };
}

/** A table of the costliest statements per unit of work (an analysed message). */
export function statementReport(r: { total: StatementCost; statements: StatementCost[] }, per: number, unit: string): string {
  const f = (n: number) => (n / per).toFixed(3);
  const line = (s: StatementCost) => `${f(s.calls).padStart(7)} ${f(s.execMs).padStart(8)} ${f(s.planMs).padStart(8)}  ${s.query.slice(0, 140)}`;
  return [`per ${unit}: calls    exec ms  plan ms  statement`, line({ ...r.total, query: '(all statements)' }), ...r.statements.map(line)].join('\n');
}
