import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import { Type, type Static } from 'typebox';
import { addLocalDays, timeZoneName, zonedInstant } from '../../connectors/core/time-zones.js';
import type { Queryable } from '../../storage/database.js';
import { withAccount } from '../../storage/session.js';
import { badRequest } from '../errors.js';
import { CsatFigures, CsatGroupBy, CsatReport, ReportTimeZone, Uuid } from '../schemas.js';

/*
 * RBAC                                   viewer  agent  admin  owner   (API keys act as their role)
 * GET    /reports/csat                      ✗      ✗      ✓      ✓
 */

const DEFAULT_REPORT_DAYS = 30;
export const MAX_REPORT_DAYS = 366;
/** The Csat scale is 1–5: 4 and 5, the top two, count as satisfied. */
const SATISFIED_MIN = 4;

type GroupBy = Static<typeof CsatGroupBy>;
type Figures = Static<typeof CsatFigures>;
type Report = Static<typeof CsatReport>;

export interface CsatFilter {
  from: Date;
  to: Date;
  /** A name from TIME_ZONES: the zone groupBy=day counts days in. */
  timeZone: string;
  groupBy?: GroupBy;
  channelId?: string;
  teamId?: string;
  agentId?: string;
}

const isDate = (v: string) => (fullFormats.date as { validate: (s: string) => boolean }).validate(v);
const isTimestamp = (v: string) => (fullFormats['date-time'] as { validate: (s: string) => boolean }).validate(v);

/**
 * An IANA zone name, in any case or as an alias Intl knows (US/Eastern), as the name Intl (CLDR) gives it: one of
 * TIME_ZONES, the only names sent to Postgres (reports.test checks both stores know each). An offset such as +02:00 is
 * refused even where Intl takes it: Postgres would read it POSIX-style, as two hours west.
 */
export function reportTimeZone(value = 'UTC'): string {
  const zone = timeZoneName(value);
  if (zone === undefined) {
    throw badRequest('invalid_time_zone', 'timeZone must be an IANA time zone name such as Europe/Helsinki, America/New_York or UTC', { timeZone: value });
  }
  return zone;
}

/** A date (its first instant in `zone`, midnight unless a DST change skips it) or a timestamp with its offset; a timestamp without one would mean the server's zone. */
function instant(name: 'from' | 'to', value: string, zone: string): Date {
  const at = isDate(value) ? zonedInstant(zone, value) : isTimestamp(value) ? new Date(value) : undefined;
  if (!at || Number.isNaN(at.getTime())) {
    throw badRequest('invalid_date', `${name} must be a date (2025-01-31) or a timestamp with an offset (2025-01-31T12:00:00Z)`, { param: name });
  }
  return at;
}

/**
 * [from, to) and the zone of its days: the last 30 days by default; one end given, the other follows it (`to` now, or
 * `from` 30 days before `to`). Days are the zone's calendar days, so one across a DST change has 23 or 25 hours.
 */
export function reportRange(
  query: { from?: string; to?: string; timeZone?: string },
  now = new Date(),
): Pick<CsatFilter, 'from' | 'to' | 'timeZone'> {
  const timeZone = reportTimeZone(query.timeZone);
  const to = query.to === undefined ? now : instant('to', query.to, timeZone);
  const from = query.from === undefined ? addLocalDays(timeZone, to, -DEFAULT_REPORT_DAYS) : instant('from', query.from, timeZone);
  if (from >= to) throw badRequest('invalid_range', '`to` must be after `from`', { from: from.toISOString(), to: to.toISOString() });
  if (to > addLocalDays(timeZone, from, MAX_REPORT_DAYS)) {
    throw badRequest('invalid_range', `a report covers at most ${MAX_REPORT_DAYS} days`, { from: from.toISOString(), to: to.toISOString() });
  }
  return { from, to, timeZone };
}

// The date in the report's zone, whose name is parameter $3 (sent only with groupBy=day).
const LOCAL_DAY = `to_char(x.resolved_at AT TIME ZONE $3, 'YYYY-MM-DD')`;
// Fixed SQL per grouping: the query string never carries user input.
const GROUPS: Record<GroupBy, { keys: string; id: string; name: string; order: string }> = {
  channel: { keys: 'x.channel_id, ch.name', id: 'x.channel_id::text', name: 'ch.name', order: 'name, id' },
  team: { keys: 'x.team_id, t.name', id: 'x.team_id::text', name: 't.name', order: 'name NULLS LAST, id' },
  agent: { keys: 'x.assignee_id, u.name', id: 'x.assignee_id::text', name: 'u.name', order: 'name NULLS LAST, id' },
  day: { keys: LOCAL_DAY, id: LOCAL_DAY, name: LOCAL_DAY, order: 'id' },
};

interface Row {
  total: boolean;
  id: string | null;
  name: string | null;
  resolutions: number;
  ratings: number;
  average: number | null;
  r1: number;
  r2: number;
  r3: number;
  r4: number;
  r5: number;
  satisfied: number;
}

function figures(r: Row): Figures {
  return {
    resolutions: r.resolutions,
    ratings: r.ratings,
    average: r.average,
    distribution: { 1: r.r1, 2: r.r2, 3: r.r3, 4: r.r4, 5: r.r5 },
    csatPercent: r.ratings ? (100 * r.satisfied) / r.ratings : null,
    responseRate: r.resolutions ? r.ratings / r.resolutions : null,
  };
}

/**
 * The current account's web chat CSAT over resolutions in [from, to). A resolution is a conversation's
 * `resolved_at`: the ones ratings name (one rating each: csat_ratings is unique on conversation and
 * resolution) and each conversation's latest, rated or not; unrated earlier ones are not stored.
 */
export async function csatReport(tx: Queryable, f: CsatFilter): Promise<Report> {
  const params: unknown[] = [f.from.toISOString(), f.to.toISOString()];
  if (f.groupBy === 'day') params.push(f.timeZone);
  const where = [`ch.kind = 'webchat'`];
  for (const [column, value] of [['x.channel_id', f.channelId], ['x.team_id', f.teamId], ['x.assignee_id', f.agentId]] as const) {
    if (value === undefined) continue;
    params.push(value);
    where.push(`${column} = $${params.length}`);
  }
  const g = f.groupBy ? GROUPS[f.groupBy] : undefined;
  const scores = [1, 2, 3, 4, 5].map((s) => `count(*) FILTER (WHERE x.rating = ${s})::int AS r${s}`).join(', ');
  const rows = await tx.query<Row>(
    `WITH resolution AS (
       SELECT c.channel_id, c.team_id, c.assignee_id, r.resolved_at, r.rating
       FROM csat_ratings r JOIN conversations c ON c.id = r.conversation_id
       -- A rating comes after the resolution it rates: the bound on created_at lets the account's ratings index narrow the scan.
       WHERE r.resolved_at >= $1 AND r.resolved_at < $2 AND r.created_at >= $1
       UNION ALL
       SELECT c.channel_id, c.team_id, c.assignee_id, c.resolved_at, NULL FROM conversations c
       WHERE c.resolved_at >= $1 AND c.resolved_at < $2
         AND NOT EXISTS (SELECT 1 FROM csat_ratings r WHERE r.conversation_id = c.id AND r.resolved_at = c.resolved_at)
     )
     SELECT ${g ? `GROUPING(${g.keys}) <> 0` : 'true'} AS total, ${g ? `${g.id} AS id, ${g.name} AS name` : 'NULL AS id, NULL AS name'},
            count(*)::int AS resolutions, count(x.rating)::int AS ratings, avg(x.rating)::float8 AS average, ${scores},
            count(*) FILTER (WHERE x.rating >= ${SATISFIED_MIN})::int AS satisfied
     FROM resolution x
     JOIN channels ch ON ch.id = x.channel_id
     LEFT JOIN teams t ON t.id = x.team_id
     LEFT JOIN users u ON u.id = x.assignee_id
     WHERE ${where.join(' AND ')}
     ${g ? `GROUP BY GROUPING SETS ((), (${g.keys})) ORDER BY total DESC, ${g.order}` : ''}`,
    params,
  ).then(
    (res) => res.rows,
    (err: unknown) => {
      // 22023 invalid_parameter_value: this Postgres's zone database lacks a name Node's has.
      if (f.groupBy === 'day' && (err as { code?: unknown }).code === '22023') {
        throw badRequest('invalid_time_zone', `the database does not know the time zone ${f.timeZone}`, { timeZone: f.timeZone });
      }
      throw err;
    },
  );
  const [totals, ...groups] = rows;
  return {
    from: f.from.toISOString(),
    to: f.to.toISOString(),
    timeZone: f.timeZone,
    groupBy: f.groupBy ?? null,
    totals: figures(totals!),
    ...(g ? { groups: groups.map((r) => ({ id: r.id, name: r.name, ...figures(r) })) } : {}),
  };
}

/** Account-wide reports for supervisors (admins and owners). */
const reports: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/reports/csat', {
    onRequest: app.authorize('admin'),
    schema: {
      tags: ['reports'],
      summary: 'Web chat customer satisfaction (CSAT): ratings, average, distribution, CSAT % and response rate, in total or per channel, team, agent or day in a time zone (UTC by default)',
      querystring: Type.Object({
        from: Type.Optional(Type.String({ maxLength: 40, description: 'start, inclusive: a date (2025-01-31, midnight in `timeZone`) or a timestamp with an offset; default 30 days before `to`' })),
        to: Type.Optional(Type.String({ maxLength: 40, description: `end, exclusive: a date (midnight in \`timeZone\`) or a timestamp with an offset; default now. At most ${MAX_REPORT_DAYS} days after \`from\`` })),
        timeZone: Type.Optional(ReportTimeZone),
        groupBy: Type.Optional(CsatGroupBy),
        channelId: Type.Optional(Uuid),
        teamId: Type.Optional(Uuid),
        agentId: Type.Optional(Type.String({ format: 'uuid', description: "the conversations' current assignee" })),
      }),
      response: { 200: CsatReport },
    },
  }, async (req) => {
    const { from, to, timeZone, ...rest } = req.query;
    const range = reportRange({ from, to, timeZone });
    return withAccount(app.hub.db, req.principal.accountId, (tx) => csatReport(tx, { ...range, ...rest }));
  });
};

export default reports;
