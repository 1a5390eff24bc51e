import type { Queryable } from '../../storage/database.js';

export type RoutingStrategy = 'round_robin' | 'least_loaded' | 'skill_based' | 'capacity';
export const STRATEGIES: readonly RoutingStrategy[] = ['round_robin', 'least_loaded', 'skill_based', 'capacity'];

/** `teams.settings.routing`: how a team hands its conversations to its agents. */
export interface TeamRouting {
  /** Default `round_robin`. */
  strategy?: RoutingStrategy;
  /** skill_based: skills an agent needs per category; a category without an entry needs a skill named after it. */
  skills?: Record<string, string[]>;
  /** skill_based: also require the skill `lang:<language>` (e.g. `lang:fi`). */
  languageSkills?: boolean;
  /** skill_based: with no skilled agent, `any` falls back to the least-loaded agent; `queue` (default) leaves it to the team. */
  fallback?: 'queue' | 'any';
  /** capacity: limit for agents whose own max_open_conversations is unset (unset here too: no limit). */
  maxOpen?: number;
}

export interface RoutingRule {
  id: string;
  position: number;
  category: string | null;
  language: string | null;
  teamId: string;
}

export interface RouteDecision {
  teamId: string;
  assigneeId: string | null;
  strategy: RoutingStrategy;
  /** The rule that chose the team, or null when the conversation's own team (from its channel) was kept. */
  ruleId: string | null;
  reason: string;
}

interface Candidate {
  id: string;
  skills: string[];
  maxOpen: number | null;
  load: number;
}

export async function listRoutingRules(tx: Queryable): Promise<RoutingRule[]> {
  return (await tx.query<RoutingRule>(
    `SELECT id, position, category, language, team_id AS "teamId" FROM routing_rules ORDER BY position, created_at, id`,
  )).rows;
}

/** Replaces the account's rules in one go (the order given is the order of evaluation). */
export async function replaceRoutingRules(tx: Queryable, accountId: string, rules: { category?: string | null; language?: string | null; teamId: string }[]): Promise<RoutingRule[]> {
  await tx.query(`DELETE FROM routing_rules`);
  for (const [i, r] of rules.entries())
    await tx.query(`INSERT INTO routing_rules (account_id, position, category, language, team_id) VALUES ($1, $2, $3, $4, $5)`,
      [accountId, i, r.category ?? null, r.language ?? null, r.teamId]);
  return listRoutingRules(tx);
}

/** The first rule whose set conditions all hold; a rule with neither condition is a catch-all. */
export function matchRule(rules: RoutingRule[], category: string | null | undefined, language: string | null | undefined): RoutingRule | undefined {
  return rules.find((r) => (r.category === null || r.category === category) && (r.language === null || r.language === language));
}

/**
 * What routing reads that stays put within one transaction: the rules, teams' settings and (round
 * robin) their available agents. Decisions in one transaction (the AI stage writes a group of analyses
 * in one) share them; agents' loads and the rotation's position are read afresh every time.
 */
export interface RoutingReads {
  rules?: Promise<RoutingRule[]>;
  teams: Map<string, Promise<TeamRouting | null | undefined>>;
  agents: Map<string, Promise<Candidate[]>>;
}

export function routingReads(): RoutingReads {
  return { teams: new Map(), agents: new Map() };
}

function once<T>(map: Map<string, Promise<T>>, key: string, read: () => Promise<T>): Promise<T> {
  let p = map.get(key);
  if (!p) map.set(key, (p = read()));
  return p;
}

/**
 * Chooses team and agent for an unassigned conversation, inside the caller's transaction: the team's
 * routing_state row is locked first, so concurrent jobs for one team see each other's assignments
 * (loads, the round-robin position) instead of all picking the same agent.
 * Only available agents (not viewers) who are members of the team are candidates.
 */
export async function routeConversation(
  tx: Queryable,
  input: { accountId: string; conversation: { teamId: string | null; assigneeId: string | null }; category?: string | null; language?: string | null },
  /** Reads shared with the other decisions of this transaction (one set per transaction, never across two). */
  reads: RoutingReads = routingReads(),
): Promise<RouteDecision | undefined> {
  if (input.conversation.assigneeId) return undefined;
  const rule = matchRule(await (reads.rules ??= listRoutingRules(tx)), input.category, input.language);
  const teamId = rule?.teamId ?? input.conversation.teamId;
  if (!teamId) return undefined;
  const routing = await once(reads.teams, teamId, async () =>
    (await tx.query<{ routing: TeamRouting | null }>(`SELECT settings->'routing' AS routing FROM teams WHERE id = $1`, [teamId])).rows[0]?.routing);
  if (routing === undefined) return undefined;
  const settings = routing ?? {};
  const strategy: RoutingStrategy = STRATEGIES.includes(settings.strategy as RoutingStrategy) ? settings.strategy! : 'round_robin';
  let last: string | null;
  let rows: Candidate[];
  if (strategy === 'round_robin') {
    // Loads do not matter here, and a team nobody can take conversations in is decided without its lock:
    // concurrent analyses of that team's conversations do not wait for each other's commits.
    rows = await once(reads.agents, teamId, async () => (await tx.query<Candidate>(
      `SELECT u.id, u.skills, u.max_open_conversations AS "maxOpen", 0 AS load
       FROM team_members m JOIN users u ON u.id = m.user_id
       WHERE m.team_id = $1 AND u.available AND u.role <> 'viewer'
       ORDER BY u.id`,
      [teamId],
    )).rows);
    if (!rows.length) return { teamId, assigneeId: null, strategy, ruleId: rule?.id ?? null, reason: 'no available agent in the team' };
    last = await lockTeam(tx, teamId, input.accountId);
  } else {
    // Loads are read under the lock, so concurrent decisions see each other's assignments.
    last = await lockTeam(tx, teamId, input.accountId);
    rows = (await tx.query<Candidate>(
      `SELECT u.id, u.skills, u.max_open_conversations AS "maxOpen",
         (SELECT count(*) FROM conversations c WHERE c.assignee_id = u.id AND c.status IN ('open', 'pending'))::int AS load
       FROM team_members m JOIN users u ON u.id = m.user_id
       WHERE m.team_id = $1 AND u.available AND u.role <> 'viewer'
       ORDER BY u.id`,
      [teamId],
    )).rows;
  }
  const cut = last === null ? 0 : rows.findIndex((u) => u.id > last);
  const rotation = cut <= 0 ? rows : [...rows.slice(cut), ...rows.slice(0, cut)];
  const { chosen, reason } = choose(strategy, rotation, settings, input.category, input.language);
  if (chosen) await tx.query(`UPDATE routing_state SET last_user_id = $2, updated_at = now() WHERE team_id = $1`, [teamId, chosen.id]);
  return { teamId, assigneeId: chosen?.id ?? null, strategy, ruleId: rule?.id ?? null, reason };
}

/** Locks the team's routing state until the transaction ends; the agent it last chose. */
async function lockTeam(tx: Queryable, teamId: string, accountId: string): Promise<string | null> {
  const lock = () => tx.query<{ last: string | null }>(`SELECT last_user_id AS last FROM routing_state WHERE team_id = $1 FOR UPDATE`, [teamId]);
  const held = (await lock()).rows[0];
  if (held) return held.last;
  // The team's first decision: its row is made once, then locked like any other.
  await tx.query(`INSERT INTO routing_state (team_id, account_id) VALUES ($1, $2) ON CONFLICT (team_id) DO NOTHING`, [teamId, accountId]);
  return (await lock()).rows[0]?.last ?? null;
}

function choose(strategy: RoutingStrategy, rotation: Candidate[], s: TeamRouting, category?: string | null, language?: string | null): { chosen?: Candidate; reason: string } {
  if (!rotation.length) return { reason: 'no available agent in the team' };
  const leastLoaded = (cs: Candidate[]) => cs.reduce((best, c) => (c.load < best.load ? c : best));
  switch (strategy) {
    case 'round_robin':
      return { chosen: rotation[0], reason: 'next in rotation' };
    case 'least_loaded': {
      const c = leastLoaded(rotation);
      return { chosen: c, reason: `fewest open conversations (${c.load})` };
    }
    case 'capacity': {
      const open = rotation.filter((c) => {
        const max = c.maxOpen ?? s.maxOpen;
        return max === undefined || max === null || c.load < max;
      });
      if (!open.length) return { reason: 'every available agent is at capacity' };
      const c = leastLoaded(open);
      return { chosen: c, reason: `spare capacity (${c.load} open of ${c.maxOpen ?? s.maxOpen ?? 'unlimited'})` };
    }
    case 'skill_based': {
      const needed = [...(category ? (s.skills?.[category] ?? [category]) : []), ...(s.languageSkills && language ? [`lang:${language}`] : [])];
      const skilled = rotation.filter((c) => needed.every((k) => c.skills.includes(k)));
      if (skilled.length) {
        const c = leastLoaded(skilled);
        return { chosen: c, reason: `has ${needed.length ? needed.join(', ') : 'no required skills'}` };
      }
      if (s.fallback === 'any') return { chosen: leastLoaded(rotation), reason: `nobody has ${needed.join(', ')}; least loaded instead` };
      return { reason: `nobody available has ${needed.join(', ')}` };
    }
  }
}
