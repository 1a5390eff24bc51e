import { addCalendarDays, localTime, timeZoneName, zonedInstant } from '../core/time-zones.js';

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
  return { timeZone: (typeof raw.timeZone === 'string' && timeZoneName(raw.timeZone)) || 'UTC', days };
}

/** Whether `now` falls inside the hours, and if not, when they next open (within a week). */
export function hoursStatus(hours: BusinessHours, now: Date): { open: boolean; nextOpen?: Date } {
  const today = localTime(hours.timeZone, now);
  if ((hours.days[DAY_KEYS[today.weekday]!] ?? []).some(([s, e]) => today.minute >= s && today.minute < e)) return { open: true };
  for (let offset = 0; offset <= 7; offset++) {
    const date = addCalendarDays(today.date, offset);
    for (const [start] of hours.days[DAY_KEYS[(today.weekday + offset) % 7]!] ?? []) {
      if (offset === 0 && start <= today.minute) continue;
      const at = zonedInstant(hours.timeZone, date, start);
      if (at && at.getTime() > now.getTime()) return { open: false, nextOpen: at };
    }
  }
  return { open: false };
}
