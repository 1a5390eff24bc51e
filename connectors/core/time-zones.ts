import { DateTime } from 'luxon';

/**
 * IANA time zones for wall-clock rules (a web chat channel's business hours, a report's days): which names count (as
 * Intl resolves them; luxon keeps a name as given) and local time ↔ instant (luxon), both on the tzdata of Node's ICU.
 */

/** The IANA names Intl lists, as Intl (CLDR) spells them, and UTC, which Node 20 leaves out of the list. */
export const TIME_ZONES: ReadonlySet<string> = new Set([...Intl.supportedValuesOf('timeZone'), 'UTC']);

/**
 * An IANA zone name in any case or as an alias Intl knows (US/Eastern), as the name Intl (CLDR) gives it: on Node 20
 * Asia/Kolkata answers as Asia/Calcutta. Undefined for anything else, an offset such as +02:00 included even where
 * Intl takes it.
 */
export function timeZoneName(value: string): string | undefined {
  let zone: string;
  try {
    zone = new Intl.DateTimeFormat('en', { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    return undefined; // RangeError: not a zone Intl knows.
  }
  return TIME_ZONES.has(zone) ? zone : undefined;
}

/** A wall-clock reading: the calendar date (2025-01-31), minutes after local midnight and the weekday (0 Sunday … 6 Saturday). */
export interface LocalTime {
  date: string;
  minute: number;
  weekday: number;
}

/** The wall-clock time of `at` in `zone`. */
export function localTime(zone: string, at: Date): LocalTime {
  const t = DateTime.fromJSDate(at, { zone });
  return { date: t.toISODate()!, minute: t.hour * 60 + t.minute, weekday: t.weekday % 7 };
}

/**
 * The instant of the wall-clock time `minute` (0–1439) minutes after midnight on `date` (2025-01-31) in `zone`; undefined
 * for a date or minute that does not exist. A time a DST change skips moves forward by the gap; one it repeats is its
 * first instant, so midnight is always the day's first instant.
 */
export function zonedInstant(zone: string, date: string, minute = 0): Date | undefined {
  const t = DateTime.fromFormat(`${date} ${Math.floor(minute / 60)}:${minute % 60}`, 'yyyy-MM-dd H:m', { zone });
  if (!t.isValid || !Number.isInteger(minute)) return undefined;
  return new Date(Math.min(...t.getPossibleOffsets().map((p) => p.toMillis())));
}

/** `days` calendar days after `at` in `zone` (negative: before), at the same wall-clock time, so one across a DST change has 23 or 25 hours. */
export function addLocalDays(zone: string, at: Date, days: number): Date {
  return DateTime.fromJSDate(at, { zone }).plus({ days }).toJSDate();
}

/** The calendar date `days` days after `date` (both like 2025-01-31). */
export function addCalendarDays(date: string, days: number): string {
  return DateTime.fromISO(date, { zone: 'UTC' }).plus({ days }).toISODate()!;
}
