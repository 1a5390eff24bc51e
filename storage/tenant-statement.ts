import pg from 'pg';
import { APP_ROLE } from './session.js';

/**
 * One statement as a tenant in one round trip on node-postgres: the tenant switch (role and account, the
 * account a bound parameter) and the statement go out in one write as two executes before one Sync, so
 * they share the implicit transaction Sync ends: no BEGIN, no COMMIT, and the switch ends with it, also on
 * an error. A page of the inbox was three round trips (BEGIN with the switch, the statement, COMMIT).
 */
export const TENANT_SWITCH = `SELECT set_config('role', '${APP_ROLE}', true), set_config('hummdesk.account_id', $1, true)`;
/** The same, and the statement runs its generic plan (planned once per connection, not on every call). */
const TENANT_SWITCH_GENERIC = `${TENANT_SWITCH}, set_config('plan_cache_mode', 'force_generic_plan', true)`;

interface Wire {
  parse(m: { text: string; name?: string; types?: unknown[] }): void;
  bind(m: { portal?: string; statement?: string; values: unknown[]; valueMapper?: unknown }): void;
  execute(m: { portal?: string; rows?: number }): void;
  parsedStatements: Record<string, string | undefined>;
}

/** pg's own Query (result parsing, named statements) with the switch sent ahead of it. */
interface QueryInternals {
  name?: string;
  prepare(connection: Wire): void;
  handleDataRow(msg: unknown): void;
  handleCommandComplete(msg: unknown, connection: Wire): void;
  handleError(err: Error, connection: Wire): void;
}
type Callback = (err: Error | null, result?: pg.QueryResult) => void;
const Query = pg.Query as unknown as new (config: { text: string; name?: string; values: unknown[]; queryMode: 'extended'; callback: Callback }) => QueryInternals & pg.Submittable;
const { prepareValue } = (pg as unknown as { utils?: { prepareValue: unknown } }).utils ?? {};

/**
 * pg's own Query with parameterless statements sent ahead of it in the same write, before its one Sync:
 * their results are not the statement's (the tenant switch; a transaction's BEGIN and setup).
 */
export class PrefixedStatement extends Query {
  /** Prefix statements whose completion has not come back yet. */
  private ahead: number;
  constructor(private readonly prefix: { text: string; values: unknown[] }[], config: { text: string; name?: string; values: unknown[]; callback: Callback }) {
    // Always the extended protocol: the simple one would send the statement alone, without its prefix.
    super({ ...config, name: config.name || undefined, queryMode: 'extended' });
    this.ahead = prefix.length;
  }

  override prepare(connection: Wire): void {
    // The unnamed statement and portal: the statement's own Bind replaces them once these have run.
    for (const p of this.prefix) {
      connection.parse({ text: p.text, name: '', types: [] });
      connection.bind({ portal: '', statement: '', values: p.values, ...(prepareValue ? { valueMapper: prepareValue } : {}) });
      connection.execute({ portal: '', rows: 0 });
    }
    super.prepare(connection);
  }

  // The prefix's rows and completions are not the statement's result.
  override handleDataRow(msg: unknown): void {
    if (this.ahead === 0) super.handleDataRow(msg);
  }

  override handleCommandComplete(msg: unknown, connection: Wire): void {
    if (this.ahead > 0) this.ahead--;
    else super.handleCommandComplete(msg, connection);
  }

  override handleError(err: Error, connection: Wire): void {
    // A statement whose Parse failed is not prepared on this connection, whatever pg noted when a prefix's Parse completed.
    if (this.name && connection?.parsedStatements) delete connection.parsedStatements[this.name];
    super.handleError(err, connection);
  }
}

/** One statement as a tenant in one round trip (see above). */
export class TenantStatement extends PrefixedStatement {
  constructor(accountId: string, config: { text: string; name?: string; values: unknown[]; callback: Callback }, genericPlan = false) {
    super([{ text: genericPlan ? TENANT_SWITCH_GENERIC : TENANT_SWITCH, values: [accountId] }], config);
  }
}
