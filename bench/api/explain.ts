/**
 * The query plans behind every inbox view, search and the counts, as the tenant (row-level security on),
 * with EXPLAIN (ANALYZE, BUFFERS), on a database `npm run bench -- api --keep` left behind.
 * Usage: [VIEW=full] npx tsx bench/api/explain.ts DATABASE_URL [view …] (VIEW: the page's fields, `summary` by default, as the desk asks)
 */
import type { Queryable } from '../../storage/database.js';
import { openPostgres } from '../../storage/postgres.js';
import { withAccount } from '../../storage/session.js';
import { inboxCounts, listInbox, type ConversationFilter } from '../../storage/repositories/conversations.js';
import { WORDS } from './seed.js';

const [url, ...only] = process.argv.slice(2);
if (!url) throw new Error('usage: npx tsx bench/api/explain.ts DATABASE_URL [view …]');
const db = await openPostgres(url, { max: 2 });
const one = async <T>(sql: string) => (await db.query<T>(sql)).rows[0]!;
const { accountId } = await one<{ accountId: string }>(`SELECT id AS "accountId" FROM accounts WHERE slug = 'bench-large'`);
const { me } = await one<{ me: string }>(`SELECT id AS me FROM users WHERE email = 'agent0@bench-large.test'`);
const { other } = await one<{ other: string }>(`SELECT id AS other FROM users WHERE email = 'agent1@bench-large.test'`);
const { team } = await one<{ team: string }>(`SELECT t.id AS team FROM teams t JOIN accounts a ON a.id = t.account_id WHERE a.slug = 'bench-large' AND t.name = 'Billing'`);

const limit = 51;
const views: Record<string, Omit<ConversationFilter, 'limit'>> = {
  mine: { status: 'open', assigneeId: me },
  unassigned: { status: 'open', assigneeId: null },
  open: { status: 'open' },
  snoozed: { status: 'snoozed' },
  resolved: { status: 'resolved' },
  team: { status: 'resolved', teamId: team },
  assignee: { status: 'open', assigneeId: other },
  team_any_status: { teamId: team },
  search_common: { q: WORDS.common },
  search_medium: { q: WORDS.medium },
  search_rare: { q: WORDS.rare },
  search_common_open: { q: WORDS.common, status: 'open' },
};

/**
 * Runs each statement twice: EXPLAIN ANALYZE (printed), then for real (its rows go back to the caller).
 * A statement the hub runs by its generic plan (`prepared` with `genericPlan`) is explained by that plan.
 */
function explaining(tx: Queryable): Queryable {
  const explain = async (sql: string, params: unknown[] | undefined, generic: boolean) => {
    if (!generic) return (await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params)).rows;
    await tx.query(`SET LOCAL plan_cache_mode = force_generic_plan`);
    await tx.query(`PREPARE explained AS ${sql}`);
    // EXECUTE takes values, not parameters: each one a literal of the type the statement gave it.
    const literal = (v: unknown) => (v === null || v === undefined ? 'NULL' : `'${(Array.isArray(v) ? `{${v.map((x) => `"${String(x)}"`).join(',')}}` : String(v)).replace(/'/g, "''")}'`);
    const args = (params ?? []).map(literal).join(', ');
    const plan = (await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) EXECUTE explained${args ? `(${args})` : ''}`)).rows;
    await tx.query(`DEALLOCATE explained`);
    await tx.query(`SET LOCAL plan_cache_mode = auto`);
    return plan;
  };
  const run = async <R>(sql: string, params: unknown[] | undefined, generic: boolean) => {
    const plan = await explain(sql, params, generic);
    process.stdout.write(`${generic ? '(generic plan) ' : ''}${sql.replace(/\s+/g, ' ').slice(0, 160)}…\n${plan.map((r) => `  ${r['QUERY PLAN']}`).join('\n')}\n`);
    return tx.query<R>(sql, params);
  };
  return {
    query: <R>(sql: string, params?: unknown[]) => run<R>(sql, params, false),
    prepared: <R>(_name: string, sql: string, params: unknown[], opts?: { genericPlan?: boolean }) => run<R>(sql, params, Boolean(opts?.genericPlan)),
  };
}

const view = (process.env.VIEW ?? 'summary') as 'summary' | 'full';
for (const [name, filter] of Object.entries(views)) {
  if (only.length && !only.includes(name)) continue;
  process.stdout.write(`\n=== ${name}\n`);
  await withAccount(db, accountId, async (tx) => {
    await listInbox(explaining(tx), { ...filter, limit }, me, view);
  });
}
if (!only.length || only.includes('counts')) {
  process.stdout.write(`\n=== counts\n`);
  await withAccount(db, accountId, (tx) => inboxCounts(explaining(tx), me));
}
await db.close();
