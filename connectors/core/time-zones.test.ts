import { describe, expect, it } from 'vitest';
import { addCalendarDays, addLocalDays, localTime, TIME_ZONES, timeZoneName, zonedInstant } from './time-zones.js';

describe('time zone names', () => {
  it('takes IANA names in any case or alias as the name Intl (CLDR) gives them', () => {
    expect(timeZoneName('Europe/Helsinki')).toBe('Europe/Helsinki');
    expect(timeZoneName('europe/HELSINKI')).toBe('Europe/Helsinki');
    expect(timeZoneName('US/Eastern')).toBe('America/New_York');
    expect(timeZoneName('Etc/UTC')).toBe('UTC');
    expect(timeZoneName('utc')).toBe('UTC');
    // Not necessarily the IANA primary name: Node 20's CLDR still says Asia/Calcutta.
    expect(timeZoneName('Asia/Kolkata')).toBe(new Intl.DateTimeFormat('en', { timeZone: 'Asia/Kolkata' }).resolvedOptions().timeZone);
    expect(TIME_ZONES.has(timeZoneName('Asia/Kolkata')!)).toBe(true);
  });

  it('refuses unknown names, offsets and abbreviations', () => {
    for (const bad of ['', 'Mars/Olympus_Mons', '+02:00', '-0500', 'UTC+3', 'EEST', 'Europe/Helsinki ', 'localtime', 'posixrules']) {
      expect(timeZoneName(bad), bad).toBeUndefined();
    }
  });
});

describe('local time and instants', () => {
  it('reads the wall clock of an instant in the zone, weekday counted from Sunday', () => {
    // Wednesday 2025-01-15 08:00 UTC is 10:00 in Helsinki; Sunday 2025-01-19 23:30 UTC is already Monday there.
    expect(localTime('Europe/Helsinki', new Date('2025-01-15T08:00:00Z'))).toEqual({ date: '2025-01-15', minute: 600, weekday: 3 });
    expect(localTime('Europe/Helsinki', new Date('2025-01-19T23:30:00Z'))).toEqual({ date: '2025-01-20', minute: 90, weekday: 1 });
    expect(localTime('UTC', new Date('2025-01-19T23:30:00Z'))).toEqual({ date: '2025-01-19', minute: 1410, weekday: 0 });
  });

  it('turns a wall-clock time into its instant, across DST changes', () => {
    expect(zonedInstant('Europe/Helsinki', '2025-01-15', 9 * 60)).toEqual(new Date('2025-01-15T07:00:00Z'));
    expect(zonedInstant('Europe/Helsinki', '2025-07-15')).toEqual(new Date('2025-07-14T21:00:00Z'));
    // 03:30 on 30 March 2025 is skipped in Helsinki (03:00 EET → 04:00 EEST): it moves forward by the gap.
    expect(zonedInstant('Europe/Helsinki', '2025-03-30', 3 * 60 + 30)).toEqual(new Date('2025-03-30T01:30:00Z'));
    // 03:30 on 26 October 2025 happens twice (04:00 EEST → 03:00 EET): the first one.
    expect(zonedInstant('Europe/Helsinki', '2025-10-26', 3 * 60 + 30)).toEqual(new Date('2025-10-26T00:30:00Z'));
    // Chile springs forward at midnight on 7 September 2025: that day starts at 01:00 -03.
    expect(zonedInstant('America/Santiago', '2025-09-07')).toEqual(new Date('2025-09-07T04:00:00Z'));
    expect(zonedInstant('UTC', '2025-02-30')).toBeUndefined();
    expect(zonedInstant('UTC', '2025-1-5')).toBeUndefined();
  });

  it('adds calendar days, keeping the wall-clock time in the zone', () => {
    // Midnight EET on 15 November less 30 days is midnight EEST on 16 October: 30 days and an hour.
    expect(addLocalDays('Europe/Helsinki', new Date('2025-11-14T22:00:00Z'), -30)).toEqual(new Date('2025-10-15T21:00:00Z'));
    expect(addLocalDays('UTC', new Date('2025-11-14T22:00:00Z'), -30)).toEqual(new Date('2025-10-15T22:00:00Z'));
    expect(addCalendarDays('2025-02-27', 2)).toBe('2025-03-01');
    expect(addCalendarDays('2024-12-31', 1)).toBe('2025-01-01');
  });
});
