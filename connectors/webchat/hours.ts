/**
 * Business hours of a web chat channel: `channel.config.businessHours =
 * { timeZone: 'Europe/Helsinki', days: { mon: [['09:00', '17:00']], …, sun: [] } }`.
 * A day left out is closed; `'24:00'` ends an interval at midnight. Times are wall-clock times in
 * `timeZone` (an IANA zone, UTC when missing or unknown), so daylight saving moves them with the zone.
 */
export interface BusinessHours {
  timeZone: string;
  /** Minutes after local midnight, [start, end) per interval, for each day key. */
  days: Partial<Record<DayKey, [number, number][]>>;
}

export const DAY_KEYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type DayKey = (typeof DAY_KEYS)[number];

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;
const minutes = (t: unknown): number | undefined => {
  if (typeof t !== 'string' || !TIME.test(t)) return undefined;
  const [h, m] = t.split(':').map(Number) as [number, number];
  return h * 60 + m;
};

const validZone = (zone: unknown): string => {
  if (typeof zone !== 'string' || !zone) return 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone;
  } catch {
    return 'UTC';
  }
};

/** The channel's hours read from its config; undefined when it sets none (always open). Bad intervals are dropped. */
export function businessHoursOf(config: Record<string, unknown>): BusinessHours | undefined {
  const raw = config.businessHours as { timeZone?: unknown; days?: unknown } | undefined;
  if (!raw || typeof raw !== 'object' || !raw.days || typeof raw.days !== 'object') return undefined;
  const days: BusinessHours['days'] = {};
  for (const key of DAY_KEYS) {
    const list = (raw.days as Record<string, unknown>)[key];
    if (!Array.isArray(list)) continue;
    days[key] = list
      .map((i): [number, number] | undefined => {
        const [s, e] = Array.isArray(i) ? [minutes(i[0]), minutes(i[1])] : [];
        return s !== undefined && e !== undefined && s < e ? [s, e] : undefined;
      })
      .filter((i): i is [number, number] => Boolean(i))
      .sort((a, b) => a[0] - b[0]);
  }
  return { timeZone: validZone(raw.timeZone), days };
}

interface Local {
  year: number;
  month: number;
  day: number;
  minute: number;
  weekday: DayKey;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function localParts(zone: string, at: Date): Local {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short' });
    formatters.set(zone, f);
  }
  const p: Record<string, string> = {};
  for (const { type, value } of f.formatToParts(at)) p[type] = value;
  return {
    year: Number(p.year),
    month: Number(p.month),
    day: Number(p.day),
    minute: Number(p.hour) * 60 + Number(p.minute),
    weekday: p.weekday!.slice(0, 3).toLowerCase() as DayKey,
  };
}

/** The instant of a wall-clock time in `zone` (the later one in a DST gap's fold is fine for opening times). */
function zonedInstant(zone: string, year: number, month: number, day: number, minute: number): Date {
  const wall = Date.UTC(year, month - 1, day, 0, minute);
  const offsetAt = (t: number) => {
    const l = localParts(zone, new Date(t));
    return Date.UTC(l.year, l.month - 1, l.day, 0, l.minute) - Math.floor(t / 60_000) * 60_000;
  };
  let t = wall - offsetAt(wall);
  t = wall - offsetAt(t);
  return new Date(t);
}

/** Whether `now` falls inside the hours, and if not, when they next open (within a week). */
export function hoursStatus(hours: BusinessHours, now: Date): { open: boolean; nextOpen?: Date } {
  const today = localParts(hours.timeZone, now);
  if ((hours.days[today.weekday] ?? []).some(([s, e]) => today.minute >= s && today.minute < e)) return { open: true };
  for (let offset = 0; offset <= 7; offset++) {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + offset));
    const key = DAY_KEYS[date.getUTCDay()]!;
    for (const [start] of hours.days[key] ?? []) {
      if (offset === 0 && start <= today.minute) continue;
      const at = zonedInstant(hours.timeZone, date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), start);
      if (at.getTime() > now.getTime()) return { open: false, nextOpen: at };
    }
  }
  return { open: false };
}
