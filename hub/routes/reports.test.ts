import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTime, TIME_ZONES } from '../../connectors/core/time-zones.js';
import { withAccount } from '../../storage/session.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { call } from '../testing/seed.js';
import { Csat } from '../schemas.js';
import { csatReport, MAX_REPORT_DAYS, reportRange, reportTimeZone } from './reports.js';

const DAY_MS = 86_400_000;
const RANGE = 'from=2025-03-01&to=2025-03-05';

interface Seeded {
  a: TestAccount;
  b: TestAccount;
  w2: string;
  billing: string;
  shipping: string;
}

const insert = (t: TestHub, accountId: string, sql: string, params: unknown[]) =>
  withAccount(t.hub.db, accountId, async (tx) => (await tx.query<{ id: string }>(sql, [accountId, ...params])).rows[0]!.id);

/**
 * A conversation whose latest resolution was at `resolvedAt` (rated if `rating`), and whose earlier
 * resolutions were each rated (`earlier`): the rows the trigger and the visitor's rating leave behind.
 */
async function resolved(
  t: TestHub,
  acct: TestAccount,
  c: { channelId?: string; teamId?: string; assigneeId?: string; status?: string; resolvedAt: string | null; rating?: number; earlier?: [resolvedAt: string, rating: number][] },
): Promise<string> {
  return withAccount(t.hub.db, acct.accountId, async (tx) => {
    const contactId = (await tx.query<{ id: string }>(`INSERT INTO contacts (account_id, name) VALUES ($1, 'Visitor') RETURNING id`, [acct.accountId])).rows[0]!.id;
    const id = (await tx.query<{ id: string }>(
      `INSERT INTO conversations (account_id, channel_id, contact_id, thread_key, status, team_id, assignee_id) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [acct.accountId, c.channelId ?? acct.channelId, contactId, randomUUID(), c.status ?? (c.resolvedAt ? 'resolved' : 'open'), c.teamId ?? null, c.assigneeId ?? null],
    )).rows[0]!.id;
    await tx.query(`UPDATE conversations SET resolved_at = $2 WHERE id = $1`, [id, c.resolvedAt]);
    const rate = (resolvedAt: string, rating: number) =>
      tx.query(`INSERT INTO csat_ratings (account_id, conversation_id, resolved_at, rating, visitor_id) VALUES ($1, $2, $3, $4, 'v')`, [acct.accountId, id, resolvedAt, rating]);
    for (const [at, rating] of c.earlier ?? []) await rate(at, rating);
    if (c.rating && c.resolvedAt) await rate(c.resolvedAt, c.rating);
    return id;
  });
}

async function seed(t: TestHub): Promise<Seeded> {
  const a = await createTestAccount(t);
  const b = await createTestAccount(t);
  const w2 = await insert(t, a.accountId, `INSERT INTO channels (account_id, kind, name, external_key) VALUES ($1, 'webchat', 'Second widget', $2) RETURNING id`, [`w2-${randomUUID()}`]);
  const email = await insert(t, a.accountId, `INSERT INTO channels (account_id, kind, name, external_key) VALUES ($1, 'email', 'Mailbox', $2) RETURNING id`, [`mail-${randomUUID()}`]);
  const billing = await insert(t, a.accountId, `INSERT INTO teams (account_id, name) VALUES ($1, 'Billing') RETURNING id`, []);
  const shipping = await insert(t, a.accountId, `INSERT INTO teams (account_id, name) VALUES ($1, 'Shipping') RETURNING id`, []);
  const agent = a.users.agent.id;
  const admin = a.users.admin.id;
  // In [2025-03-01, 2025-03-05): 7 web chat resolutions, 5 rated (5, 4, 2, 1, 3).
  await resolved(t, a, { teamId: billing, assigneeId: agent, resolvedAt: '2025-03-01T10:00:00Z', rating: 5 });
  await resolved(t, a, { teamId: billing, assigneeId: agent, resolvedAt: '2025-03-01T23:30:00Z', rating: 4 });
  await resolved(t, a, { teamId: shipping, assigneeId: admin, resolvedAt: '2025-03-02T09:00:00Z', rating: 2 });
  await resolved(t, a, { channelId: w2, resolvedAt: '2025-03-02T12:00:00Z' });
  await resolved(t, a, { channelId: w2, teamId: shipping, assigneeId: agent, resolvedAt: '2025-03-03T00:00:00Z', rating: 1 });
  // Rated, reopened by the visitor, resolved again and not rated (yet): two resolutions, one rating.
  await resolved(t, a, { teamId: billing, assigneeId: admin, resolvedAt: '2025-03-04T08:00:00Z', earlier: [['2025-03-03T08:00:00Z', 3]] });
  // Outside the range, on another channel kind, never resolved, or another account's: none of them counts.
  await resolved(t, a, { resolvedAt: '2025-02-28T23:59:59.999Z', rating: 5 });
  await resolved(t, a, { resolvedAt: '2025-03-05T00:00:00Z', rating: 1 });
  await resolved(t, a, { channelId: email, resolvedAt: '2025-03-02T10:00:00Z' });
  await resolved(t, a, { resolvedAt: null });
  await resolved(t, b, { resolvedAt: '2025-03-02T10:00:00Z', rating: 1 });
  await resolved(t, b, { resolvedAt: '2025-03-02T11:00:00Z', rating: 1 });
  await resolved(t, b, { resolvedAt: '2025-03-02T12:00:00Z' });
  return { a, b, w2, billing, shipping };
}

const figures = (resolutions: number, scores: number[]) => {
  const distribution: Record<number, number> = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };
  for (const s of scores) distribution[s]!++;
  const n = scores.length;
  return {
    resolutions,
    ratings: n,
    average: n ? expect.closeTo(scores.reduce((x, y) => x + y, 0) / n, 10) : null,
    distribution,
    csatPercent: n ? expect.closeTo((100 * scores.filter((s) => s >= 4).length) / n, 10) : null,
    responseRate: resolutions ? expect.closeTo(n / resolutions, 10) : null,
  };
};

describe.each([
  { store: 'Postgres', embedded: false },
  { store: 'PGlite', embedded: true },
])('GET /api/v1/reports/csat ($store)', ({ embedded }) => {
  let t: TestHub;
  let s: Seeded;
  const report = async (query: string, token = s.a.users.admin.token) => {
    const res = await call(t, token, 'GET', `/api/v1/reports/csat?${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };

  beforeAll(async () => {
    t = await startTestHub({ embedded, jobs: false });
    s = await seed(t);
  }, 120_000);
  afterAll(() => t?.close());

  it("sums the account's web chat resolutions and ratings in [from, to)", async () => {
    expect(await report(RANGE)).toEqual({
      from: '2025-03-01T00:00:00.000Z',
      to: '2025-03-05T00:00:00.000Z',
      timeZone: 'UTC',
      groupBy: null,
      totals: { resolutions: 7, ratings: 5, average: 3, distribution: { 1: 1, 2: 1, 3: 1, 4: 1, 5: 1 }, csatPercent: 40, responseRate: 5 / 7 },
    });
    // The other account sees only its own.
    expect((await report(RANGE, s.b.users.admin.token)).totals).toEqual(figures(3, [1, 1]));
  });

  it('groups by channel, team, agent and UTC day, with totals beside the groups', async () => {
    const total = figures(7, [5, 4, 2, 1, 3]);
    const byChannel = await report(`${RANGE}&groupBy=channel`);
    expect(byChannel).toMatchObject({ groupBy: 'channel', totals: total });
    expect(byChannel.groups).toEqual([
      { id: s.w2, name: 'Second widget', ...figures(2, [1]) },
      { id: s.a.channelId, name: 'test channel', ...figures(5, [5, 4, 2, 3]) },
    ]);
    expect((await report(`${RANGE}&groupBy=team`)).groups).toEqual([
      { id: s.billing, name: 'Billing', ...figures(4, [5, 4, 3]) },
      { id: s.shipping, name: 'Shipping', ...figures(2, [2, 1]) },
      { id: null, name: null, ...figures(1, []) },
    ]);
    expect((await report(`${RANGE}&groupBy=agent`)).groups).toEqual([
      { id: s.a.users.admin.id, name: `admin of ${s.a.slug}`, ...figures(3, [2, 3]) },
      { id: s.a.users.agent.id, name: `agent of ${s.a.slug}`, ...figures(3, [5, 4, 1]) },
      { id: null, name: null, ...figures(1, []) },
    ]);
    // 23:30 UTC on the 1st belongs to the 1st, midnight UTC on the 3rd to the 3rd.
    expect((await report(`${RANGE}&groupBy=day`)).groups).toEqual([
      { id: '2025-03-01', name: '2025-03-01', ...figures(2, [5, 4]) },
      { id: '2025-03-02', name: '2025-03-02', ...figures(2, [2]) },
      { id: '2025-03-03', name: '2025-03-03', ...figures(2, [1, 3]) },
      { id: '2025-03-04', name: '2025-03-04', ...figures(1, []) },
    ]);
  });

  it('filters by channel, team and agent, alone or together', async () => {
    expect((await report(`${RANGE}&channelId=${s.w2}`)).totals).toEqual(figures(2, [1]));
    expect((await report(`${RANGE}&teamId=${s.billing}`)).totals).toEqual(figures(4, [5, 4, 3]));
    expect((await report(`${RANGE}&agentId=${s.a.users.admin.id}`)).totals).toEqual(figures(3, [2, 3]));
    const billingAgent = await report(`${RANGE}&teamId=${s.billing}&agentId=${s.a.users.agent.id}&groupBy=day`);
    expect(billingAgent.totals).toEqual(figures(2, [5, 4]));
    expect(billingAgent.groups).toEqual([{ id: '2025-03-01', name: '2025-03-01', ...figures(2, [5, 4]) }]);
    // Another account's channel filters to nothing rather than to its rows.
    expect((await report(`${RANGE}&channelId=${s.b.channelId}`)).totals).toEqual(figures(0, []));
  });

  it('counts days in timeZone: date-only bounds are its midnights, and 23:30 UTC is the next day in Helsinki', async () => {
    const helsinki = await report(`${RANGE}&groupBy=day&timeZone=Europe/Helsinki`);
    // In [2025-02-28T22:00Z, 2025-03-04T22:00Z): 23:59:59.999 UTC on the 28th is in, midnight UTC on the 5th out.
    expect(helsinki).toMatchObject({ from: '2025-02-28T22:00:00.000Z', to: '2025-03-04T22:00:00.000Z', timeZone: 'Europe/Helsinki', groupBy: 'day', totals: figures(8, [5, 5, 4, 2, 1, 3]) });
    expect(helsinki.groups).toEqual([
      { id: '2025-03-01', name: '2025-03-01', ...figures(2, [5, 5]) },
      { id: '2025-03-02', name: '2025-03-02', ...figures(3, [4, 2]) },
      { id: '2025-03-03', name: '2025-03-03', ...figures(2, [1, 3]) },
      { id: '2025-03-04', name: '2025-03-04', ...figures(1, []) },
    ]);
    // West of UTC the other way: midnight UTC on the 3rd is the evening of the 2nd, and on the 5th the evening of the 4th.
    const newYork = await report(`${RANGE}&groupBy=day&timeZone=America/New_York`);
    expect(newYork).toMatchObject({ from: '2025-03-01T05:00:00.000Z', to: '2025-03-05T05:00:00.000Z', timeZone: 'America/New_York', totals: figures(8, [5, 4, 2, 1, 3, 1]) });
    expect(newYork.groups).toEqual([
      { id: '2025-03-01', name: '2025-03-01', ...figures(2, [5, 4]) },
      { id: '2025-03-02', name: '2025-03-02', ...figures(3, [2, 1]) },
      { id: '2025-03-03', name: '2025-03-03', ...figures(1, [3]) },
      { id: '2025-03-04', name: '2025-03-04', ...figures(2, [1]) },
    ]);
    // The name Intl (CLDR) gives the zone answers, whatever the case or alias asked.
    expect((await report(`${RANGE}&timeZone=europe/helsinki`)).timeZone).toBe('Europe/Helsinki');
    expect((await report(`${RANGE}&timeZone=US/Eastern`)).timeZone).toBe('America/New_York');
  });

  it('keeps local days whole across the end of summer time in Helsinki (26 October 2025, 04:00 EEST → 03:00 EET)', async () => {
    const c = await createTestAccount(t);
    for (const [resolvedAt, rating] of [
      ['2025-10-24T20:59:59Z', 1], // 23:59:59 on the 24th: before the range
      ['2025-10-24T21:00:00Z', 5], // midnight starting the 25th (+03:00)
      ['2025-10-25T21:30:00Z', 4], // 00:30 on the 26th, still the 25th in UTC
      ['2025-10-26T00:30:00Z', 3], // 03:30 EEST
      ['2025-10-26T01:30:00Z', undefined], // 03:30 EET, the hour that comes twice
      ['2025-10-26T21:59:00Z', 2], // 23:59 on the 26th (+02:00)
      ['2025-10-26T22:00:00Z', 5], // midnight starting the 27th
      ['2025-10-27T21:59:59Z', undefined], // 23:59:59 on the 27th
      ['2025-10-27T22:00:00Z', 1], // midnight starting the 28th: after the range
    ] as const) {
      await resolved(t, c, { resolvedAt, rating });
    }
    const res = await report('from=2025-10-25&to=2025-10-28&groupBy=day&timeZone=Europe/Helsinki', c.users.admin.token);
    expect(res).toMatchObject({ from: '2025-10-24T21:00:00.000Z', to: '2025-10-27T22:00:00.000Z', timeZone: 'Europe/Helsinki', totals: figures(7, [5, 4, 3, 2, 5]) });
    expect(new Date(res.to).getTime() - new Date(res.from).getTime()).toBe((3 * 24 + 1) * 3_600_000);
    expect(res.groups).toEqual([
      { id: '2025-10-25', name: '2025-10-25', ...figures(1, [5]) },
      { id: '2025-10-26', name: '2025-10-26', ...figures(4, [4, 3, 2]) },
      { id: '2025-10-27', name: '2025-10-27', ...figures(2, [5]) },
    ]);
    // The same instants by UTC day.
    const utc = await report('from=2025-10-24T21:00:00Z&to=2025-10-27T22:00:00Z&groupBy=day', c.users.admin.token);
    expect(utc.groups.map((g: { id: string; resolutions: number }) => [g.id, g.resolutions])).toEqual([['2025-10-24', 1], ['2025-10-25', 1], ['2025-10-26', 4], ['2025-10-27', 1]]);
  });

  // Deliberately fails when Node's ICU and the database carry different tzdata (a zone one lacks, or a rule change only one
  // has): then a report's days would disagree with its date-only bounds, so update whichever is behind.
  it('knows every zone it accepts, and reads each as Node does (fails on purpose when tzdata differs between Node and the database)', async () => {
    const zones = [...TIME_ZONES];
    const instants = ['2025-01-15T12:00:00Z', '2025-07-15T12:00:00Z'];
    const rows = await withAccount(t.hub.db, s.a.accountId, async (tx) => (await tx.query<{ zone: string; at: string; local: string }>(
      `SELECT z AS zone, at, to_char(at::timestamptz AT TIME ZONE z, 'YYYY-MM-DD HH24:MI') AS local FROM unnest($1::text[]) z, unnest($2::text[]) at`,
      [zones, instants],
    )).rows);
    expect(rows).toHaveLength(zones.length * instants.length);
    const hhmm = (minute: number) => `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
    const node = (zone: string, at: string) => {
      const l = localTime(zone, new Date(at));
      return `${l.date} ${hhmm(l.minute)}`;
    };
    expect(rows.filter((r) => r.local !== node(r.zone, r.at))).toEqual([]);
  });

  it('answers invalid_time_zone, not a 500, when the database lacks a zone Node knows', async () => {
    const err = await withAccount(t.hub.db, s.a.accountId, (tx) =>
      csatReport(tx, { from: new Date('2025-03-01T00:00:00Z'), to: new Date('2025-03-05T00:00:00Z'), timeZone: 'Mars/Olympus_Mons', groupBy: 'day' }),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 400, code: 'invalid_time_zone' });
  });

  it('takes timestamps with an offset: from 22:00 UTC on the 1st to midnight UTC on the 2nd', async () => {
    const res = await report(`from=${encodeURIComponent('2025-03-02T00:00:00+02:00')}&to=2025-03-02T00:00:00Z`);
    expect(res).toMatchObject({ from: '2025-03-01T22:00:00.000Z', to: '2025-03-02T00:00:00.000Z', totals: figures(1, [4]) });
  });

  it('answers an empty range with zeros and no groups', async () => {
    expect(await report('from=2024-01-01&to=2024-01-02&groupBy=channel')).toEqual({
      from: '2024-01-01T00:00:00.000Z',
      to: '2024-01-02T00:00:00.000Z',
      timeZone: 'UTC',
      groupBy: 'channel',
      totals: { resolutions: 0, ratings: 0, average: null, distribution: { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 }, csatPercent: null, responseRate: null },
      groups: [],
    });
  });

  it('defaults to the last 30 days and counts a resolution the visitor rated through the widget', async () => {
    const widget = `key-${s.a.slug}`;
    const session = (await t.app.inject({ method: 'POST', url: `/webchat/${widget}/sessions`, payload: {} })).json();
    const visitor = { authorization: `Visitor ${session.visitorToken}`, 'x-visitor-id': session.visitorId };
    const sent = await t.app.inject({ method: 'POST', url: `/webchat/${widget}/messages`, headers: visitor, payload: { clientMessageId: randomUUID(), text: 'Where is my parcel?' } });
    expect(sent.statusCode, sent.body).toBe(202);
    const conversationId = sent.json().conversationId;
    const resolve = async () => expect((await call(t, s.a.users.agent.token, 'POST', `/api/v1/conversations/${conversationId}/status`, { status: 'resolved' })).statusCode).toBe(200);
    await resolve();
    expect((await t.app.inject({ method: 'POST', url: `/webchat/${widget}/csat`, headers: visitor, payload: { rating: 5 } })).statusCode).toBe(201);
    // Reopened by the visitor and resolved again: a second resolution, not rated.
    await t.app.inject({ method: 'POST', url: `/webchat/${widget}/messages`, headers: visitor, payload: { clientMessageId: randomUUID(), text: 'One more thing' } });
    await resolve();

    const res = await report('');
    expect(new Date(res.to).getTime() - new Date(res.from).getTime()).toBe(30 * DAY_MS);
    expect(Math.abs(Date.now() - new Date(res.to).getTime())).toBeLessThan(60_000);
    expect(res.totals).toEqual(figures(2, [5]));
    const toOnly = await report(`to=${res.to.slice(0, 10)}`);
    expect(toOnly.from).toBe(new Date(Date.parse(res.to.slice(0, 10)) - 30 * DAY_MS).toISOString());
  });

  it('refuses bad and inverted ranges with stable codes', async () => {
    const refused = async (query: string) => {
      const res = await call(t, s.a.users.admin.token, 'GET', `/api/v1/reports/csat?${query}`);
      expect(res.statusCode, query).toBe(400);
      return res.json().error.code;
    };
    expect(await refused('from=2025-03-05&to=2025-03-01')).toBe('invalid_range');
    expect(await refused('from=2025-03-01&to=2025-03-01')).toBe('invalid_range');
    expect(await refused('from=2024-01-01&to=2025-01-02')).toBe('invalid_range');
    expect(await refused('from=2000-01-01')).toBe('invalid_range');
    expect(await refused('from=yesterday')).toBe('invalid_date');
    expect(await refused('to=2025-02-30')).toBe('invalid_date');
    expect(await refused('from=2025-03-01T10:00:00')).toBe('invalid_date');
    expect(await refused(`${RANGE}&groupBy=contact`)).toBe('validation_failed');
    expect(await refused(`${RANGE}&teamId=not-a-uuid`)).toBe('validation_failed');
    for (const zone of ['Mars/Olympus_Mons', '', '+02:00', 'UTC+3', 'EEST', 'Europe/Helsinki ', 'localtime']) {
      expect(await refused(`${RANGE}&groupBy=day&timeZone=${encodeURIComponent(zone)}`), zone).toBe('invalid_time_zone');
    }
    expect((await report('from=2024-01-01&to=2025-01-01')).to).toBe('2025-01-01T00:00:00.000Z');
  });

  it('shows in the OpenAPI document with its query and response', () => {
    const op = (t.app.swagger() as { paths: Record<string, { get: { parameters: { name: string }[]; responses: Record<string, { content: Record<string, { schema: { properties: object } }> }> } }> }).paths['/api/v1/reports/csat']!.get;
    expect(op.parameters.map((p) => p.name).sort()).toEqual(['agentId', 'channelId', 'from', 'groupBy', 'teamId', 'timeZone', 'to']);
    expect(Object.keys(op.responses['200']!.content['application/json']!.schema.properties)).toEqual(['from', 'to', 'timeZone', 'groupBy', 'totals', 'groups']);
  });

  it('is for admins and owners: agents and viewers get 403 forbidden, no credential 401', async () => {
    const { users, apiKeys } = s.a;
    for (const credential of [users.admin.token, users.owner.token, apiKeys.admin]) await report(RANGE, credential);
    for (const credential of [users.agent.token, users.viewer.token, apiKeys.agent, apiKeys.viewer]) {
      const res = await call(t, credential, 'GET', `/api/v1/reports/csat?${RANGE}`);
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('forbidden');
    }
    expect((await call(t, undefined, 'GET', `/api/v1/reports/csat?${RANGE}`)).statusCode).toBe(401);
  });
});

describe('reportRange', () => {
  const now = new Date('2025-06-15T12:34:56Z');

  it('defaults to the 30 days before now, and one end given to the other 30 days away', () => {
    expect(reportRange({}, now)).toEqual({ from: new Date('2025-05-16T12:34:56Z'), to: now, timeZone: 'UTC' });
    expect(reportRange({ to: '2025-06-01' }, now)).toEqual({ from: new Date('2025-05-02T00:00:00Z'), to: new Date('2025-06-01T00:00:00Z'), timeZone: 'UTC' });
    expect(reportRange({ from: '2025-06-01' }, now)).toEqual({ from: new Date('2025-06-01T00:00:00Z'), to: now, timeZone: 'UTC' });
  });

  it("reads dates as the first instant of the day in timeZone, and counts the zone's calendar days", () => {
    const helsinki = (from?: string, to?: string) => reportRange({ from, to, timeZone: 'Europe/Helsinki' }, now);
    expect(helsinki('2025-10-25', '2025-10-28')).toEqual({ from: new Date('2025-10-24T21:00:00Z'), to: new Date('2025-10-27T22:00:00Z'), timeZone: 'Europe/Helsinki' });
    // 30 days before midnight EET on 15 November is midnight EEST on 16 October: 30 days and an hour.
    expect(helsinki(undefined, '2025-11-15').from).toEqual(new Date('2025-10-15T21:00:00Z'));
    // New York falls back on 2 November.
    expect(reportRange({ from: '2025-11-02', to: '2025-11-03', timeZone: 'America/New_York' })).toMatchObject({ from: new Date('2025-11-02T04:00:00Z'), to: new Date('2025-11-03T05:00:00Z') });
    // Chile springs forward at midnight on 7 September 2025: that day starts at 01:00 -03.
    expect(reportRange({ from: '2025-09-07', to: '2025-09-08', timeZone: 'America/Santiago' }).from).toEqual(new Date('2025-09-07T04:00:00Z'));
    // A timestamp with an offset is the same instant in any zone.
    expect(helsinki('2025-03-01T12:00:00Z', '2025-03-02T00:00:00-05:00')).toMatchObject({ from: new Date('2025-03-01T12:00:00Z'), to: new Date('2025-03-02T05:00:00Z') });
    // 366 local days from summer into winter time are 366 days and an hour.
    expect(() => helsinki('2024-10-26', '2025-10-27')).not.toThrow();
    expect(() => helsinki('2024-10-26', '2025-10-28')).toThrow(/at most 366 days/);
  });

  it('takes IANA names in any case or alias as the name Intl (CLDR) gives them, and nothing else', () => {
    expect(reportTimeZone()).toBe('UTC');
    expect(reportTimeZone('Europe/Helsinki')).toBe('Europe/Helsinki');
    expect(reportTimeZone('europe/HELSINKI')).toBe('Europe/Helsinki');
    expect(reportTimeZone('US/Eastern')).toBe('America/New_York');
    expect(reportTimeZone('Etc/UTC')).toBe('UTC');
    for (const bad of ['', 'Mars/Olympus_Mons', '+02:00', '-0500', 'UTC+3', 'EEST', 'Europe/Helsinki ', 'localtime', 'posixrules']) {
      expect(() => reportTimeZone(bad), bad).toThrow(expect.objectContaining({ statusCode: 400, code: 'invalid_time_zone' }));
    }
  });

  it(`allows exactly ${MAX_REPORT_DAYS} days and not a millisecond more`, () => {
    expect(() => reportRange({ from: '2024-06-14T00:00:00Z', to: '2025-06-15T00:00:00Z' })).not.toThrow();
    expect(() => reportRange({ from: '2024-06-13T23:59:59.999Z', to: '2025-06-15T00:00:00Z' })).toThrow(/at most 366 days/);
  });

  it('reads the 1–5 scale the visitor rates on', () => {
    expect(Csat.properties.rating).toMatchObject({ minimum: 1, maximum: 5 });
  });
});
